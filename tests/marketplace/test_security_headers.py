"""Security headers and the Content-Security-Policy on real responses of the main pages.

Every page must send a CSP whose script-src has no 'unsafe-inline', and its HTML must hold
no inline script (unless it carries the response's nonce) and no inline event handler.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from contracts.models import Contract
from messaging import services as messaging_services
from tests import factories
from tests.contracts.conftest import Hire
from tests.jobs.conftest import make_job

ROOT = Path(__file__).resolve().parents[2]
DATA_TYPES = {"application/json", "application/ld+json", "text/template", "text/html"}


class InlineCodeFinder(HTMLParser):
    """Collects inline scripts (with their nonce) and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inline_scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.js_urls: list[str] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.js_urls.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not attributes.get("src"):
            kind = (attributes.get("type") or "").lower()
            if kind not in DATA_TYPES:
                self._in_script = {"nonce": attributes.get("nonce"), "body": ""}

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._in_script["body"] = (self._in_script["body"] or "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.inline_scripts.append(self._in_script)
            self._in_script = None


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_csp_safe(response) -> None:
    assert response.status_code == 200, (response.status_code, getattr(response, "url", ""))
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    policy = directives(header)
    script_src = policy.get("script-src", policy.get("default-src"))
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "*" not in script_src and "https:" not in script_src
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    nonce = next((w[len("'nonce-") : -1] for w in script_src if w.startswith("'nonce-")), None)

    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    assert finder.handlers == [], f"inline event handlers: {finder.handlers}"
    assert finder.js_urls == [], f"javascript: URLs: {finder.js_urls}"
    for script in finder.inline_scripts:
        assert nonce and script["nonce"] == nonce, f"inline script without the nonce: {script['body']!r:.200}"

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


@pytest.fixture
def world(db):
    hire = Hire()
    contract: Contract = hire.contract()
    conversation = messaging_services.conversation_get_or_create_for_subject(
        subject=contract, participants=[hire.client, hire.freelancer], title="Booking site"
    )
    messaging_services.message_send(
        actor=hire.client, conversation_id=conversation.pk, body="Hello, welcome aboard!"
    )
    applicant = factories.make_published_freelancer()
    other_job = make_job(hire.client)
    return {
        "hire": hire,
        "contract": contract,
        "conversation": conversation,
        "applicant": applicant,
        "other_job": other_job,
    }


def test_anonymous_pages_send_a_strict_policy(client, world):
    for url in [
        reverse("home"),
        reverse("jobs:search"),
        reverse("jobs:detail", kwargs={"public_id": world["other_job"].public_id}),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
    ]:
        assert_csp_safe(client.get(url))


def test_admin_login_is_served_under_the_policy(client, db):
    # staff sign in through allauth (secure_admin_login): the admin login leads there
    response = client.get(reverse("admin:login"), follow=True)
    assert response.redirect_chain and "/accounts/login/" in response.redirect_chain[-1][0]
    assert_csp_safe(response)


def test_signed_in_pages_send_a_strict_policy(client, world):
    hire = world["hire"]
    client.force_login(hire.client)
    for url in [
        reverse("dashboard"),
        reverse("messaging:inbox"),
        reverse("messaging:conversation", kwargs={"conversation_id": world["conversation"].pk}),
        reverse("contracts:detail", kwargs={"contract_id": world["contract"].pk}),
        reverse("jobs:detail", kwargs={"public_id": hire.job.public_id}),
        reverse("payments:billing"),
        reverse("account_change_password"),
    ]:
        assert_csp_safe(client.get(url))

    client.force_login(world["applicant"])
    for url in [
        reverse("dashboard"),
        reverse("jobs:search"),
        reverse("proposals:apply", kwargs={"public_id": world["other_job"].public_id}),
        reverse("payments:balance"),
    ]:
        assert_csp_safe(client.get(url))


def test_admin_pages_work_under_the_same_policy(client, world):
    staff = factories.make_staff()
    client.force_login(staff)
    contract = world["contract"]
    for url in [
        reverse("admin:index"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_change", args=[world["applicant"].pk]),
        reverse("admin:contracts_contract_change", args=[contract.pk]),
    ]:
        assert_csp_safe(client.get(url))


def test_websocket_origin_of_this_host_is_allowed_and_no_other(client, db):
    policy = directives(client.get(reverse("home")).headers["Content-Security-Policy"])
    assert set(policy["connect-src"]) == {"'self'", "ws://testserver", "wss://testserver"}


def _django_csp_header(path: str, host: str, nonce: bool, decorate=None) -> tuple[str, str]:
    """(our middleware's header, django-csp's own for the same request and response)."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from marketplace.security import ContentSecurityPolicyMiddleware

    def answer(middleware):
        request = RequestFactory().get(path, HTTP_HOST=host)
        middleware.process_request(request)
        if nonce:
            str(request.csp_nonce)  # the page used its nonce
        response = HttpResponse("page")
        if decorate:
            decorate(response)
        middleware.process_response(request, response)
        return response, request

    ours, request = answer(ContentSecurityPolicyMiddleware(lambda r: HttpResponse()))

    class Reference(ContentSecurityPolicyMiddleware):  # our policy parts, django-csp's writing
        def _remembered_policy(self, request, response):
            return None

    theirs, reference_request = answer(Reference(lambda r: HttpResponse()))
    if nonce:  # the same nonce on both sides, to compare
        theirs_header = theirs["Content-Security-Policy"].replace(
            reference_request._csp_nonce, request._csp_nonce
        )
    else:
        theirs_header = theirs["Content-Security-Policy"]
    return ours["Content-Security-Policy"], theirs_header


@pytest.mark.parametrize("nonce", [False, True])
def test_the_remembered_policy_is_the_one_django_csp_writes(settings, nonce):
    """The policy is built once per host (and nonce or not) and process; each response gets
    its own nonce put in, and a view's own policy is written by django-csp as usual."""
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    headers = set()
    for _ in range(3):  # built, then remembered
        ours, theirs = _django_csp_header("/", "testserver", nonce)
        assert ours == theirs
        assert ("'nonce-" in ours) is nonce
        headers.add(ours)
    assert len(headers) == (3 if nonce else 1)  # each response its own nonce
    ours, theirs = _django_csp_header("/", "other.example", nonce)
    assert ours == theirs and "wss://other.example" in ours and "testserver" not in ours

    def update(response):
        response._csp_update = {"img-src": ["https://images.example"]}

    ours, theirs = _django_csp_header("/", "testserver", nonce, decorate=update)
    assert ours == theirs and "https://images.example" in ours


def test_api_docs_load_swagger_without_inline_script(client, db):
    page = client.get(reverse("api_docs"))
    assert_csp_safe(page)
    policy = directives(page.headers["Content-Security-Policy"])
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    script = client.get(reverse("api_docs") + "?script=")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")


def test_no_template_has_inline_script_or_event_handler():
    """A static scan of every template of ours, including ones no test renders."""
    offenders = []
    script_open = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
    handler = re.compile(r"""<[a-zA-Z][^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=""", re.IGNORECASE)
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    for folder in folders:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            for match in script_open.finditer(text):
                attrs = match.group(1)
                if "src=" in attrs or re.search(r'type="application/(ld\+)?json"', attrs):
                    continue
                if "csp_nonce" in attrs:
                    continue
                offenders.append(f"{path.relative_to(ROOT)}: inline <script{attrs}>")
            offenders += [f"{path.relative_to(ROOT)}: {m.group(1)}=" for m in handler.finditer(text)]
    assert offenders == []


PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.test import Client
response = Client().get("/healthz/", HTTP_HOST="marketplace.example.com", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "status": response.status_code,
    "hsts": response.headers.get("Strict-Transport-Security"),
    "csp": response.headers.get("Content-Security-Policy"),
    "nosniff": response.headers.get("X-Content-Type-Options"),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
}))
"""


def _production(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "marketplace.settings.production",
        "SECRET_KEY": "x" * 20 + "A-very-long-random-production-secret-key-0123456789abcdef",
        "ALLOWED_HOSTS": "marketplace.example.com",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
        "EMAIL_URL": "smtp://mail.example.com:587",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_with_production_settings_has_no_warnings(tmp_path):
    result = _production(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output


def test_production_responses_carry_hsts_and_the_policy(tmp_path):
    import json

    result = _production(tmp_path, "shell", "-c", PRODUCTION_PROBE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["status"] == 200
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert probe["nosniff"] == "nosniff"
    policy = directives(probe["csp"])
    assert policy["script-src"] == ["'self'"]
    assert "wss://marketplace.example.com" in policy["connect-src"]
    assert probe["session_cookie_secure"] and probe["csrf_cookie_secure"] and probe["ssl_redirect"]
