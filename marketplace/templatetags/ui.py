"""Small template helpers: Bootstrap widgets, money, initials."""

from django import template
from django.forms import BoundField

from marketplace.money import format_cents

register = template.Library()

_CLASSES = {
    "select": "form-select",
    "selectmultiple": "form-select",
    "checkbox": "form-check-input",
    "radioselect": "",
    "checkboxselectmultiple": "",
    "clearablefile": "form-control",
    "file": "form-control",
}


@register.filter
def bs_widget(field: BoundField):
    """Render a bound field's widget with Bootstrap classes and the invalid state."""
    css = _CLASSES.get(field.widget_type, "form-control")
    if field.errors:
        css += " is-invalid"
    attrs: dict[str, str | bool] = {"class": css.strip()} if css.strip() else {}
    if field.help_text:
        attrs["aria-describedby"] = f"{field.id_for_label}_help"
    return field.as_widget(attrs=attrs)


@register.filter
def cents(value, currency: str = "USD") -> str:
    """``4500`` -> ``$45.00``."""
    if value in (None, ""):
        return ""
    return format_cents(int(value), currency)


@register.filter
def initials(user) -> str:
    first = (getattr(user, "first_name", "") or "?")[:1]
    last = (getattr(user, "last_name", "") or "")[:1]
    return (first + last).upper()
