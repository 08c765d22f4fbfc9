"""Structured security records (logger ``marketplace.security``): sign-ins, failures,
permission denials and money actions, with user id, IP, action, object and outcome, and
never a password, token or card number."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace import security
from tests import factories
from tests.contracts.conftest import Hire

CARD = "4242424242424242"
CVC = "987"
LOGGER = "marketplace.security"


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)

    def collect(action: str | None = None) -> list[dict]:
        found = [r.security for r in caplog.records if r.name == LOGGER]
        return [f for f in found if action is None or f["action"] == action]

    collect.caplog = caplog  # type: ignore[attr-defined]
    return collect


def all_text(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


def test_login_and_failed_login_are_recorded_without_the_password(client, db, records):
    user = factories.make_client()
    client.post(reverse("account_login"), {"login": user.email, "password": "Wrong-Secret-Password-1"})
    client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})

    [failed] = records("login_failed")
    assert failed["outcome"] == "failure"
    assert failed["ip"] == "127.0.0.1"
    assert failed["account"] == security.account_hint(user.email) and len(failed["account"]) == 16
    [login] = records("login")
    assert login == {"action": "login", "outcome": "success", "user_id": user.pk, "ip": "127.0.0.1"}

    text = all_text(records.caplog)
    assert "Wrong-Secret-Password-1" not in text and factories.PASSWORD not in text
    assert user.email not in text
    assert "action=login outcome=success user_id=" in text


def test_api_token_failure_is_recorded_without_the_password(api_client, db, records):
    user = factories.make_client()
    api_client.post(
        reverse("api_token"), {"email": user.email, "password": "Api-Wrong-Pass-9"}, format="json"
    )
    assert [r["outcome"] for r in records("login_failed")] == ["failure"]
    assert "Api-Wrong-Pass-9" not in all_text(records.caplog)


def test_html_permission_denial_is_recorded(client, db, records):
    hire = Hire()
    contract = hire.contract()
    stranger = factories.make_client()
    client.force_login(stranger)
    response = client.get(reverse("contracts:detail", kwargs={"contract_id": contract.pk}))
    assert response.status_code == 404
    [denied] = records("permission_denied")
    assert denied["outcome"] == "denied"
    assert denied["user_id"] == stranger.pk
    assert denied["status"] == 404
    assert denied["path"] == f"/contracts/{contract.pk}/"
    assert denied["method"] == "GET"


def test_api_permission_denial_is_recorded_once(api_client, db, records):
    hire = Hire()
    contract = hire.contract()
    stranger = factories.make_freelancer()
    api_client.force_authenticate(stranger)
    response = api_client.post(
        reverse("api_milestone_fund", kwargs={"contract_id": contract.pk}), {}, format="json"
    )
    assert response.status_code in (403, 404)
    [denied] = records("permission_denied")
    assert denied["status"] == response.status_code
    assert denied["user_id"] == stranger.pk
    assert denied["ip"] == "127.0.0.1"


def test_a_plain_403_response_is_recorded(client, db, records):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    user = factories.make_client()
    csrf_client.force_login(user)
    response = csrf_client.post(reverse("payments:withdraw"), {})
    assert response.status_code == 403
    [denied] = records("permission_denied")
    assert denied["status"] == 403 and denied["user_id"] == user.pk


def test_money_actions_are_recorded_with_object_and_outcome_and_no_card_data(
    client, db, records, django_capture_on_commit_callbacks, settings
):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    hire = Hire()
    contract = hire.contract()
    first = contract.milestones.order_by("pk").first()
    client.force_login(hire.client)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("payments:card_add"),
            {"number": CARD, "exp_month": 12, "exp_year": timezone.now().year + 2, "cvc": CVC},
        )
        response = client.post(
            reverse("contracts:milestone_fund", kwargs={"contract_id": contract.pk}),
            {"milestone": [first.pk]},
        )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == "funded"

    [card] = records("money.payment_method_add")
    assert card["outcome"] == "success" and card["user_id"] == hire.client.pk
    [fund] = records("money.fund")
    assert fund["outcome"] == "success"
    assert fund["user_id"] == hire.client.pk and fund["ip"] == "127.0.0.1"
    assert fund["object"] == f"contracts:milestone_fund(contract_id:{contract.pk})"
    assert fund["status"] == 302
    [ledger] = records("money.ledger.milestone_funding")
    assert ledger["user_id"] == hire.client.pk
    assert ledger["amount_cents"] > 0 and ledger["object"].startswith("journal_entry:")

    text = all_text(records.caplog)
    assert CARD not in text and "4242 4242" not in text and f"cvc={CVC}" not in text
    local.reset()


def test_refused_money_action_is_recorded_as_rejected(client, db, records):
    freelancer = factories.make_freelancer()
    client.force_login(freelancer)
    client.post(reverse("payments:withdraw"), {"amount": "5.00"})
    [payout] = records("money.payout")
    assert payout["outcome"] == "rejected" and payout["status"] == 400


def test_secret_field_names_are_never_written(records, db):
    written = security.log_event(
        "test_event",
        password="p@ss",
        token="abc",
        card_number=CARD,
        api_key="k",
        session_key="s",
        object="thing:1",
    )
    assert written == {
        "action": "test_event",
        "outcome": "success",
        "user_id": None,
        "ip": None,
        "object": "thing:1",
    }
    text = all_text(records.caplog)
    assert "p@ss" not in text and CARD not in text and "abc" not in text


def test_values_are_quoted_so_a_record_cannot_be_forged(records, db):
    security.log_event("test_event", reason='x outcome=success user_id=1\nforged="yes"')
    [message] = [r.getMessage() for r in records.caplog.records if r.name == LOGGER]
    assert "\n" not in message
    assert message.startswith('action=test_event outcome=success user_id="" ip="" reason=')
    assert 'reason="x outcome=success user_id=1 forged=\\"yes\\""' in message


def test_card_like_numbers_in_free_text_are_masked(records, db):
    security.log_event(
        "test_event", outcome="rejected", reason=f"card {CARD} and 4000-0000-0000-0002 declined"
    )
    text = all_text(records.caplog)
    assert CARD not in text and "4000-0000-0000-0002" not in text
    assert 'reason="card [redacted] and [redacted] declined"' in text
