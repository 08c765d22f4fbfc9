"""marketplace.redirects: where forms send users back to (one rule for every view)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from marketplace.redirects import back_url, local_url, next_url, redirect_back


@pytest.fixture
def request_():
    return RequestFactory().post("/anywhere/", HTTP_HOST="testserver")


@pytest.mark.parametrize(
    "candidate",
    [
        "/jobs/mine/",
        "/jobs/search/?q=django&sort=newest",
        "http://testserver/contracts/",
        "https://testserver/x/",
    ],
)
def test_urls_of_the_site_are_taken(request_, candidate):
    assert local_url(request_, candidate) == candidate


@pytest.mark.parametrize(
    "candidate",
    [
        None,
        "",
        "-1",  # a bare word: redirect() would look it up as a view name (a server error)
        "home",  # a URL name is not a URL
        "jobs/mine/",  # relative to wherever the form posted
        "//evil.example/",
        "https://evil.example/",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "ftp://testserver/",
        "/\\evil.example/",
        ["/jobs/"],  # not a string
    ],
)
def test_anything_else_is_refused(request_, candidate):
    assert local_url(request_, candidate) is None
    assert back_url(request_, candidate, default="/dashboard/") == "/dashboard/"


def test_https_is_required_on_a_secure_request_unless_told_otherwise():
    secure = RequestFactory().post("/", HTTP_HOST="testserver", secure=True)
    assert local_url(secure, "http://testserver/x/") is None
    assert local_url(secure, "https://testserver/x/") == "https://testserver/x/"
    assert local_url(secure, "http://testserver/x/", require_https=False) == "http://testserver/x/"


def test_the_first_url_of_the_site_wins_and_the_default_may_be_a_url_name(request_):
    assert back_url(request_, "-1", None, "/second/", "/third/", default="/d/") == "/second/"
    response = redirect_back(request_, "nope", default="home")
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_next_url_reads_the_form_then_the_address():
    factory = RequestFactory()
    assert (
        next_url(factory.post("/x/?next=/from-get/", {"next": "/from-post/"}), default="/d/") == "/from-post/"
    )
    assert next_url(factory.post("/x/?next=/from-get/", {}), default="/d/") == "/from-get/"
    assert next_url(factory.get("/x/?next=-1"), default="/d/") == "/d/"
