"""The error pages (400, 403, 404, 429, 500) with DEBUG off: the right status, the site's
style, a helpful message and ways back (home, search). The 500 and 400 pages render without
the request, so a broken database or context processor cannot break them too."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest
from django.test import Client, RequestFactory
from django.urls import path

from marketplace import urls as project_urls
from marketplace import views as project_views
from marketplace.errors import NotFoundError, PermissionDeniedError


def _raise(exc: Exception):
    def view(request: HttpRequest):
        raise exc

    return view


# This module is the URLconf of its tests (pytest.mark.urls): the project's routes and
# handlers, plus views that fail in each way.
urlpatterns = [
    path("boom/400/", _raise(SuspiciousOperation("tampered"))),
    path("boom/403/", _raise(PermissionDenied())),
    path("boom/404/", _raise(Http404("gone"))),
    path("boom/500/", _raise(RuntimeError("kaput"))),
    path("boom/app-403/", _raise(PermissionDeniedError("Only the client of this contract may do that."))),
    path("boom/app-404/", _raise(NotFoundError("No such contract."))),
    path("api/v1/boom/500/", _raise(RuntimeError("kaput"))),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = [pytest.mark.urls(__name__)]


def broken_context_processor(request: HttpRequest) -> dict:
    raise RuntimeError("the context processor is broken too")


@pytest.fixture
def browser(settings) -> Client:
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def _text(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_unknown_page_is_a_styled_404_with_ways_back(browser):
    response = browser.get("/no-such-page/")
    assert response.status_code == 404
    body = _text(response)
    assert "We can't find that page" in body
    assert 'href="/"' in body and 'href="/jobs/search/"' in body and 'href="/talent/"' in body
    assert "Skip to content" in body  # the site's frame (base.html)


@pytest.mark.django_db
def test_http404_from_a_view_is_the_same_page(browser):
    response = browser.get("/boom/404/")
    assert response.status_code == 404
    assert "We can't find that page" in _text(response)


@pytest.mark.django_db
def test_permission_denied_is_a_styled_403(browser):
    response = browser.get("/boom/403/")
    assert response.status_code == 403
    body = _text(response)
    assert "You don't have access to this page" in body
    assert 'href="/"' in body and 'href="/jobs/search/"' in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/boom/app-403/", 403, "Only the client of this contract may do that."),
        ("/boom/app-404/", 404, "No such contract."),
    ],
)
def test_application_errors_show_their_message_on_the_error_page(browser, url, status, message):
    response = browser.get(url)
    assert response.status_code == status
    assert message in _text(response)


@pytest.mark.django_db
def test_suspicious_request_is_a_styled_400(browser):
    response = browser.get("/boom/400/")
    assert response.status_code == 400
    body = _text(response)
    assert "We couldn't understand that request" in body
    assert 'href="/"' in body and 'href="/jobs/search/"' in body


@pytest.mark.django_db
def test_server_error_is_a_styled_500(browser):
    response = browser.get("/boom/500/")
    assert response.status_code == 500
    body = _text(response)
    assert "Something went wrong on our side" in body
    assert "kaput" not in body  # no internals
    assert 'href="/"' in body and 'href="/jobs/search/"' in body
    assert "css/app.css" in body


@pytest.mark.django_db
def test_server_error_under_the_api_is_the_json_envelope(browser):
    response = browser.get("/api/v1/boom/500/")
    assert response.status_code == 500
    assert response.json() == {
        "message": "Something went wrong on our side.",
        "code": "server_error",
        "extra": {},
    }


def test_500_and_400_need_neither_the_database_nor_context_processors(settings):
    """No db fixture: any query fails the test. A context processor that raises is added."""
    settings.DEBUG = False
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [
                    *settings.TEMPLATES[0]["OPTIONS"]["context_processors"],
                    f"{__name__}.broken_context_processor",
                ],
            },
        }
    ]
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/somewhere/")
    request.user = AnonymousUser()
    server_error = project_views.error_500(request)
    bad_request = project_views.error_400(request, SuspiciousOperation("tampered"))
    assert server_error.status_code == 500
    assert "Something went wrong on our side" in server_error.content.decode()
    assert bad_request.status_code == 400
    assert "We couldn't understand that request" in bad_request.content.decode()
    # the same broken processor does break a page rendered with the request
    with pytest.raises(RuntimeError, match="broken too"):
        project_views.error_403(request)


def test_500_falls_back_to_plain_text_when_its_template_fails(settings, monkeypatch):
    def broken(name):
        raise ValueError("Missing staticfiles manifest entry")

    monkeypatch.setattr(project_views.loader, "get_template", broken)
    response = project_views.error_500(RequestFactory().get("/x/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/plain")
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.django_db
def test_rate_limit_page_is_in_the_site_style(rf, django_user_model):
    from django.contrib.auth.models import AnonymousUser
    from django.shortcuts import render

    request = rf.get("/accounts/login/")
    request.user = AnonymousUser()
    response = render(request, "429.html", {"message": "Too many sign-in attempts."}, status=429)
    assert response.status_code == 429
    body = _text(response)
    assert "Too many sign-in attempts." in body and "Skip to content" in body
