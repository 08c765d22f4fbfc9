from django import forms

from .errors import ApplicationError


def add_application_error(form: forms.Form, error: ApplicationError) -> None:
    """Attach a service error to the form: to its field when the error names one."""
    field = error.extra.get("field") if error.extra else None
    if field and field in form.fields:
        form.add_error(field, error.message)
    else:
        form.add_error(None, error.message)
