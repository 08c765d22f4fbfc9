"""Rate limits (marketplace/ratelimit.py): login, sign-up, password reset, proposals,
messages and money endpoints answer 429 with a clear message once over their limit."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from marketplace import ratelimit
from tests import factories

LIMIT = 2


@pytest.fixture(scope="module", autouse=True)
def _leave_the_database_as_migrated(django_db_blocker):
    """The websocket test is transactional: its teardown empties every table, the taxonomy
    a data migration loaded included. Load it again for the modules that follow."""
    yield
    import importlib

    from django.apps import apps

    from accounts.models import Skill

    data = importlib.import_module("accounts.migrations.0002_taxonomy_and_assessments")
    with django_db_blocker.unblock():
        if not Skill.objects.exists():
            data.load(apps, None)


@pytest.fixture(autouse=True)
def tight_limits(settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMITS = dict.fromkeys(ratelimit.SCOPE_TEXT, f"{LIMIT}/h/user")
    settings.RATE_LIMITS.update(
        {"login": f"{LIMIT}/h/ip", "signup": f"{LIMIT}/h/ip", "password_reset": f"{LIMIT}/h/ip"}
    )
    cache.clear()
    yield
    cache.clear()


def _exhaust(send, expected_scope: str):
    """Send LIMIT requests (each allowed, whatever the view answers), then one more."""
    for _ in range(LIMIT):
        response = send()
        assert response.status_code != 429
        assert response.status_code < 500
    response = send()
    assert response.status_code == 429, response.status_code
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 3600
    return response


def assert_html_429(response, words: str):
    text = response.content.decode()
    assert "Too many requests" in text
    assert f"Too many {words} in a short time. Please wait" in text


def assert_api_429(response, scope: str, words: str):
    body = response.json()
    assert body["code"] == "rate_limited"
    assert body["extra"]["scope"] == scope
    assert body["extra"]["retry_after_seconds"] == int(response.headers["Retry-After"])
    assert body["message"].startswith(f"Too many {words} in a short time. Please wait ")


# --- sign-in, sign-up, password reset -----------------------------------------------------------


def test_login_page_is_limited_per_ip(client, db):
    user = factories.make_client()
    url = reverse("account_login")
    response = _exhaust(
        lambda: client.post(url, {"login": user.email, "password": "wrong-password"}), "login"
    )
    assert_html_429(response, "sign-in attempts")
    # even the right password waits: the limit is on attempts, not on failures
    again = client.post(url, {"login": user.email, "password": factories.PASSWORD})
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_token_is_limited(api_client, db):
    user = factories.make_client()
    url = reverse("api_token")
    response = _exhaust(
        lambda: api_client.post(url, {"email": user.email, "password": "wrong-password"}, format="json"),
        "login",
    )
    assert_api_429(response, "login", "sign-in attempts")


def test_signup_is_limited_per_ip(client, db):
    url = reverse("account_signup")
    counter = iter(range(100))

    def signup():
        n = next(counter)
        return client.post(
            url,
            {
                "email": f"new{n}@example.com",
                "password1": "a-long-Password-123",
                "password2": "a-long-Password-123",
            },
        )

    assert_html_429(_exhaust(signup, "signup"), "sign-ups from your network")


def test_password_reset_is_limited(client, db):
    url = reverse("account_reset_password")
    response = _exhaust(lambda: client.post(url, {"email": "someone@example.com"}), "password_reset")
    assert_html_429(response, "password reset requests")


def test_get_requests_are_not_counted(client, db):
    for _ in range(LIMIT * 3):
        assert client.get(reverse("account_login")).status_code == 200


# --- proposals and messages ---------------------------------------------------------------------


def test_proposals_are_limited_per_user_html_and_api(client, api_client, db):
    from tests.jobs.conftest import make_job

    job = make_job()
    freelancer = factories.make_published_freelancer()
    client.force_login(freelancer)
    url = reverse("proposals:apply", kwargs={"public_id": job.public_id})
    assert_html_429(_exhaust(lambda: client.post(url, {}), "proposal"), "proposals")

    # the API counts in the same bucket as the page (same user, same scope)
    api_client.force_login(freelancer)
    response = api_client.post(reverse("api_proposals"), {}, format="json")
    assert response.status_code == 429
    assert_api_429(response, "proposal", "proposals")

    # another freelancer has their own allowance
    other = factories.make_published_freelancer()
    client.force_login(other)
    assert client.post(url, {}).status_code != 429


def test_messages_are_limited_html_and_api(client, api_client, db):
    from messaging import services as messaging_services

    a, b = factories.make_client(), factories.make_freelancer()
    conversation = messaging_services.conversation_get_or_create_for_subject(participants=[a, b])
    client.force_login(a)
    url = reverse("messaging:send", kwargs={"conversation_id": conversation.pk})
    assert_html_429(_exhaust(lambda: client.post(url, {"body": "hello"}), "message"), "messages")

    api_client.force_login(b)
    api_url = reverse("api_conversation_messages", kwargs={"conversation_id": conversation.pk})
    response = _exhaust(lambda: api_client.post(api_url, {"body": "hi"}, format="json"), "message")
    assert_api_429(response, "message", "messages")


# --- money --------------------------------------------------------------------------------------

MONEY_HTML = [
    ("payments:withdraw", {}),
    ("payments:card_add", {}),
    ("payments:payout_method_bank", {}),
    ("contracts:milestone_fund", {"contract_id": 999_999}),
    ("contracts:milestone_refund_request", {"contract_id": 999_999, "milestone_id": 999_999}),
]
MONEY_API = [
    ("api_withdrawals", {}),
    ("api_cards", {}),
    ("api_payout_method_bank_account", {}),
    ("api_milestone_fund", {"contract_id": 999_999}),
    ("api_milestone_refund_request", {"milestone_id": 999_999}),
]


@pytest.mark.parametrize(("name", "kwargs"), MONEY_HTML)
def test_money_pages_are_limited(client, db, name, kwargs):
    client.force_login(factories.make_freelancer())
    url = reverse(name, kwargs=kwargs)
    assert_html_429(_exhaust(lambda: client.post(url, {}), "money"), "payment actions")


@pytest.mark.parametrize(("name", "kwargs"), MONEY_API)
def test_money_api_is_limited(api_client, db, name, kwargs):
    api_client.force_login(factories.make_client())
    url = reverse(name, kwargs=kwargs)
    response = _exhaust(lambda: api_client.post(url, {}, format="json"), "money")
    assert_api_429(response, "money", "payment actions")


def test_token_callers_are_counted_per_token(api_client, db):
    from rest_framework.authtoken.models import Token

    first, second = factories.make_client(), factories.make_client()
    url = reverse("api_withdrawals")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=first).key}")
    _exhaust(lambda: api_client.post(url, {}, format="json"), "money")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=second).key}")
    assert api_client.post(url, {}, format="json").status_code != 429


# --- the mechanism ------------------------------------------------------------------------------


def test_window_resets_after_its_period(settings, db):
    settings.RATE_LIMITS = {"money": "2/m/ip"}
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.9")
    request.user = factories.make_client()
    start = 1_000_040.0  # 20 s into a minute window (1_000_020 is a multiple of 60)
    assert ratelimit.hit(request, "money", now=start) == 0
    assert ratelimit.hit(request, "money", now=start + 1) == 0
    assert ratelimit.hit(request, "money", now=start + 2) == 38  # until the window's end
    assert ratelimit.hit(request, "money", now=start + 41) == 0  # the next window


def test_every_window_of_a_scope_counts(settings, db):
    settings.RATE_LIMITS = {"money": "1/m/ip,2/h/ip"}
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.10")
    request.user = factories.make_client()
    now = 3600 * 1000.0
    assert ratelimit.hit(request, "money", now=now) == 0
    assert ratelimit.hit(request, "money", now=now + 61) == 0
    # third in the hour: the hourly limit answers, minute window is fresh
    assert ratelimit.hit(request, "money", now=now + 122) == 3600 - 122


def test_disabled_switch(settings, db):
    settings.RATE_LIMIT_ENABLED = False
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.11")
    request.user = factories.make_client()
    assert all(ratelimit.hit(request, "money") == 0 for _ in range(LIMIT * 3))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/m/user", [ratelimit.Rate(10, 60, "user")]),
        ("5/15m/ip, 20/d/ip", [ratelimit.Rate(5, 900, "ip"), ratelimit.Rate(20, 86400, "ip")]),
        ("", []),
    ],
)
def test_parse_rates(text, expected):
    assert ratelimit.parse_rates(text) == expected


@pytest.mark.parametrize("bad", ["10/m", "ten/m/ip", "10/w/ip", "10/m/email"])
def test_parse_rates_refuses_malformed(bad):
    with pytest.raises(ValueError, match="bad rate limit"):
        ratelimit.parse_rates(bad)


def test_configured_rates_parse_and_cover_every_scope():
    from django.conf import settings as real

    assert set(real.RATE_LIMITS) == set(ratelimit.SCOPE_TEXT)
    for text in real.RATE_LIMITS.values():
        assert ratelimit.parse_rates(text)


def _view_names(resolver, namespace=None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _view_names(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_limited_route_exists():
    """A renamed route must not silently lose its limit."""
    names = set(_view_names(get_resolver()))
    assert set(ratelimit.ROUTES) - names == set()
    assert set(ratelimit.ROUTES.values()) <= set(ratelimit.SCOPE_TEXT)


@pytest.mark.django_db(transaction=True)
def test_chat_websocket_messages_count_against_the_same_limit():
    from asgiref.sync import async_to_sync

    from messaging import services as messaging_services
    from tests.messaging.asgi import build_application
    from tests.messaging.conftest import make_communicator, receive_until, session_cookie

    a, b = factories.make_client(), factories.make_freelancer()
    conversation = messaging_services.conversation_get_or_create_for_subject(participants=[a, b])
    cookie = session_cookie(a)
    app = build_application()

    async def scenario() -> list[dict]:
        communicator = make_communicator(app, cookie)
        ok, _ = await communicator.connect(timeout=5)
        assert ok
        answers = []
        for n in range(LIMIT + 1):
            await communicator.send_json_to(
                {
                    "type": "send",
                    "conversation": conversation.pk,
                    "client_msg_id": f"m{n}",
                    "body": f"hello {n}",
                }
            )
            frame = await receive_until(communicator, "error" if n == LIMIT else "ack")
            answers.append(frame)
        await communicator.disconnect()
        return answers

    answers = async_to_sync(scenario)()
    assert [f["type"] for f in answers] == ["ack"] * LIMIT + ["error"]
    assert answers[-1]["code"] == "rate_limited"
    assert answers[-1]["message"].startswith("Too many messages in a short time. Please wait ")
    assert conversation.messages.count() == LIMIT
