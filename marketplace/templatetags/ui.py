"""Small template helpers: Bootstrap widgets, money, initials."""

from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.forms import BoundField
from django.urls import get_script_prefix, get_urlconf, reverse

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


_nav_urls: dict[tuple[str, str | None, str, str], str] = {}


@register.simple_tag
def nav_url(name: str) -> str:
    """``{% url name %}`` for a URL without arguments, looked up once per process, URL
    configuration and script prefix: the site's navigation (base.html) links to some 35 of
    them on every page, and each lookup walks the URL patterns (a millisecond a page)."""
    key = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix(), name)
    found = _nav_urls.get(key)
    if found is None:
        found = _nav_urls[key] = reverse(name)
    return found


@receiver(setting_changed)
def _forget_nav_urls(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _nav_urls.clear()
