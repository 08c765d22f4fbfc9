import json

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, Throttled
from rest_framework.exceptions import ValidationError as DRFValidationError

from marketplace.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    api_exception_handler,
)
from marketplace.middleware import ApplicationErrorMiddleware


def test_application_error_answers_the_envelope_with_its_status():
    response = api_exception_handler(
        ApplicationError("Budget too low.", code="budget_low", extra={"min": 5}), {}
    )
    assert response.status_code == 400
    assert response.data == {"message": "Budget too low.", "code": "budget_low", "extra": {"min": 5}}


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (PermissionDeniedError("No."), 403, "permission_denied"),
        (NotFoundError("Gone."), 404, "not_found"),
        (ConflictError("Twice."), 409, "conflict"),
    ],
)
def test_error_subclasses_carry_status_and_default_code(error, status, code):
    response = api_exception_handler(error, {})
    assert (response.status_code, response.data["code"]) == (status, code)


def test_validation_errors_are_flattened_with_fields_in_extra():
    class Input(serializers.Serializer):
        title = serializers.CharField()

    data = Input(data={})
    with pytest.raises(DRFValidationError) as caught:
        data.is_valid(raise_exception=True)
    response = api_exception_handler(caught.value, {})
    assert response.status_code == 400
    assert response.data["code"] == "validation_error"
    assert response.data["message"] == "title: This field is required."
    assert response.data["extra"] == {"fields": {"title": ["This field is required."]}}


def test_drf_errors_keep_their_code_and_retry_hint():
    unauth = api_exception_handler(NotAuthenticated(), {})
    assert unauth.status_code == 401
    assert unauth.data["code"] == "not_authenticated"
    throttled = api_exception_handler(Throttled(wait=12), {})
    assert throttled.status_code == 429
    assert throttled.data["extra"] == {"retry_after_seconds": 12}


def test_unknown_exceptions_are_left_to_django():
    assert api_exception_handler(RuntimeError("boom"), {}) is None


def test_html_middleware_turns_application_error_into_a_message_and_redirect(settings):
    request = RequestFactory().get("/somewhere/", HTTP_REFERER="http://testserver/back/")
    from django.contrib.messages.storage.fallback import FallbackStorage

    request.session = {}
    request._messages = FallbackStorage(request)
    middleware = ApplicationErrorMiddleware(lambda r: HttpResponse())
    response = middleware.process_exception(request, ApplicationError("Not now."))
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/back/"
    assert [str(m) for m in request._messages] == ["Not now."]


def test_html_middleware_refuses_foreign_referer_and_answers_json_for_api():
    request = RequestFactory().get("/x/", HTTP_REFERER="https://evil.example/")
    from django.contrib.messages.storage.fallback import FallbackStorage

    request.session = {}
    request._messages = FallbackStorage(request)
    middleware = ApplicationErrorMiddleware(lambda r: HttpResponse())
    assert middleware.process_exception(request, ApplicationError("x"))["Location"] == "/"
    api_request = RequestFactory().get("/api/v1/thing/")
    response = middleware.process_exception(api_request, NotFoundError("Nope."))
    assert response.status_code == 404
    assert json.loads(response.content) == {"message": "Nope.", "code": "not_found", "extra": {}}


def test_other_exceptions_pass_through_the_middleware():
    middleware = ApplicationErrorMiddleware(lambda r: HttpResponse())
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None
