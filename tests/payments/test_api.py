"""The payments API: balances, payout methods, withdrawals (with Idempotency-Key),
transactions, cards and charges."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from payments import ledger
from payments.models import AccountKind, IdempotencyRecord, PaymentMethod, Payout, PayoutMethod
from tests import factories
from tests.conftest import requires_postgres
from tests.factories import PASSWORD

from .conftest import VISA, add_card, fund, give_available, usable_bank

pytestmark = pytest.mark.django_db

WITHDRAWALS = "/api/v1/payments/withdrawals/"


@pytest.fixture
def rich(freelancer):
    give_available(freelancer, 10_000)
    return freelancer


@pytest.fixture
def api(rich):
    client = APIClient()
    client.force_authenticate(rich)
    return client


@pytest.fixture
def method(rich):
    return usable_bank(rich)


# --- Idempotency-Key ------------------------------------------------------------------------


def test_same_key_same_body_replays_with_one_effect(api, rich, method, django_capture_on_commit_callbacks):
    body = {"amount_cents": 5_000, "method_id": method.pk}
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(WITHDRAWALS, body, format="json", HTTP_IDEMPOTENCY_KEY="withdraw-1")
    second = api.post(WITHDRAWALS, body, format="json", HTTP_IDEMPOTENCY_KEY="withdraw-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Payout.objects.count() == 1
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=rich) == 4_000


def test_same_key_other_body_is_422(api, method):
    api.post(
        WITHDRAWALS, {"amount_cents": 5_000, "method_id": method.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    response = api.post(
        WITHDRAWALS, {"amount_cents": 6_000, "method_id": method.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different request body" in response.json()["message"]
    assert Payout.objects.count() == 1


def test_errors_are_replayed_too(api, method):
    body = {"amount_cents": 999_999, "method_id": method.pk}
    first = api.post(WITHDRAWALS, body, format="json", HTTP_IDEMPOTENCY_KEY="big")
    second = api.post(WITHDRAWALS, body, format="json", HTTP_IDEMPOTENCY_KEY="big")
    assert first.status_code == second.status_code == 400
    assert second.json() == first.json() and first.json()["code"] == "insufficient_funds"
    assert second["Idempotent-Replayed"] == "true"


def test_keys_are_per_user(api, method):
    api.post(
        WITHDRAWALS, {"amount_cents": 5_000, "method_id": method.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    other = factories.make_freelancer()
    give_available(other, 10_000, key="release:2")
    other_method = usable_bank(other)
    client = APIClient()
    client.force_authenticate(other)
    response = client.post(
        WITHDRAWALS,
        {"amount_cents": 5_000, "method_id": other_method.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 201
    assert Payout.objects.count() == 2


def test_without_a_key_each_request_acts(api, method):
    body = {"amount_cents": 2_000, "method_id": method.pk}
    assert api.post(WITHDRAWALS, body, format="json").status_code == 201
    assert api.post(WITHDRAWALS, body, format="json").status_code == 201
    assert Payout.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


def test_bad_key_is_refused(api, method):
    response = api.post(
        WITHDRAWALS,
        {"amount_cents": 2_000, "method_id": method.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 256,
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"


def test_a_crash_does_not_store_the_key(api, method, monkeypatch):
    from payments import services

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "payout_request", boom)
    api.raise_request_exception = False
    response = api.post(
        WITHDRAWALS,
        {"amount_cents": 2_000, "method_id": method.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="crash",
    )
    assert response.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="crash").exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_have_one_effect(rich, monkeypatch):
    from payments import tasks

    monkeypatch.setattr(tasks.process_payout, "delay", lambda *a, **k: None)
    method = usable_bank(rich)
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def post() -> None:
        try:
            client = APIClient()
            client.force_authenticate(rich)
            barrier.wait()
            response = client.post(
                WITHDRAWALS,
                {"amount_cents": 1_000, "method_id": method.pk},
                format="json",
                HTTP_IDEMPOTENCY_KEY="same",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Payout.objects.count() == 1
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=rich) == 8_000


# --- endpoints --------------------------------------------------------------------------------


def test_balance(api, rich, client_user):
    fund(client_user, 5_000, reference="order:x", escrow_reference="contract:x")
    from payments import services

    services.escrow_release(
        escrow_reference="contract:x", payee=rich, amount_cents=5_000, idempotency_key="x"
    )
    body = api.get("/api/v1/payments/balance/").json()
    assert (body["available_cents"], body["pending_cents"], body["in_transit_cents"]) == (9_000, 4_500, 0)
    assert [h["amount_cents"] for h in body["holds"]] == [4_500]


def test_anonymous_is_refused():
    assert APIClient().get("/api/v1/payments/balance/").status_code in (401, 403)
    assert APIClient().post(WITHDRAWALS, {}, format="json").status_code in (401, 403)


def test_withdrawal_validation_errors(api, method):
    response = api.post(WITHDRAWALS, {"amount_cents": "lots", "method_id": method.pk}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    other = usable_bank(factories.make_freelancer())
    response = api.post(WITHDRAWALS, {"amount_cents": 2_000, "method_id": other.pk}, format="json")
    assert response.status_code == 404


def test_withdrawal_list_and_detail_are_private(api, rich, method):
    created = api.post(WITHDRAWALS, {"amount_cents": 2_000, "method_id": method.pk}, format="json").json()
    listed = api.get(WITHDRAWALS).json()
    assert [p["id"] for p in listed["results"]] == [created["id"]]
    assert api.get(f"{WITHDRAWALS}{created['id']}/").status_code == 200
    stranger = APIClient()
    stranger.force_authenticate(factories.make_freelancer())
    assert stranger.get(f"{WITHDRAWALS}{created['id']}/").status_code == 404
    assert stranger.get(WITHDRAWALS).json()["results"] == []


def test_bank_account_needs_the_password(api, rich):
    url = "/api/v1/payments/payout-methods/bank-accounts/"
    body = {"holder_name": "Free Lancer", "routing_number": "110000000", "account_number": "000123456789"}
    wrong = api.post(url, {**body, "password": "nope"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "reauthentication_failed"
    ok = api.post(url, {**body, "password": PASSWORD}, format="json")
    assert ok.status_code == 201 and ok.json()["last4"] == "6789" and ok.json()["usable"] is False
    method_id = ok.json()["id"]
    assert [m["id"] for m in api.get("/api/v1/payments/payout-methods/").json()] == [method_id]
    assert (
        api.delete(
            f"/api/v1/payments/payout-methods/{method_id}/", {"password": "x"}, format="json"
        ).status_code
        == 400
    )
    assert (
        api.delete(
            f"/api/v1/payments/payout-methods/{method_id}/", {"password": PASSWORD}, format="json"
        ).status_code
        == 204
    )
    assert PayoutMethod.objects.get(pk=method_id).status == "removed"


def test_schedule(api, method):
    response = api.put(
        "/api/v1/payments/payout-schedule/", {"frequency": "weekly", "method_id": method.pk}, format="json"
    )
    assert response.status_code == 200 and response.json() == {"frequency": "weekly", "method_id": method.pk}
    assert api.get("/api/v1/payments/payout-schedule/").json()["frequency"] == "weekly"
    assert (
        api.put("/api/v1/payments/payout-schedule/", {"frequency": "hourly"}, format="json").status_code
        == 400
    )


def test_transactions_with_filters(api, rich):
    all_rows = api.get("/api/v1/payments/transactions/").json()["results"]
    assert {r["account"] for r in all_rows} == {"freelancer_pending", "freelancer_available"}
    only = api.get("/api/v1/payments/transactions/?account=freelancer_available").json()["results"]
    assert [r["amount_cents"] for r in only] == [9_000]
    assert api.get("/api/v1/payments/transactions/?from=2000-01-01&to=2000-01-02").json()["results"] == []
    assert api.get("/api/v1/payments/transactions/?from=garbage").status_code == 400


def test_cards_and_charges(client_user):
    client = APIClient()
    client.force_authenticate(client_user)
    bad = client.post(
        "/api/v1/payments/cards/",
        {"number": "4242424242424241", "exp_month": 12, "exp_year": 2099, "cvc": "123"},
    )
    assert bad.status_code == 400 and "incorrect" in bad.json()["message"]
    ok = client.post(
        "/api/v1/payments/cards/",
        {"number": VISA, "exp_month": 12, "exp_year": 2099, "cvc": "123"},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["last4"] == "4242"
    fund(client_user, 5_000)
    [charge] = client.get("/api/v1/payments/charges/").json()["results"]
    assert (charge["total_cents"], charge["status"], charge["card"]["last4"]) == (5_250, "succeeded", "4242")
    assert client.delete(f"/api/v1/payments/cards/{ok.json()['id']}/").status_code == 204
    assert client.get("/api/v1/payments/cards/").json() == []
    other = APIClient()
    other.force_authenticate(factories.make_client())
    card_id = add_card(client_user).pk
    assert other.delete(f"/api/v1/payments/cards/{card_id}/").status_code == 404
    assert PaymentMethod.objects.get(pk=card_id).removed_at is None


def test_schema_of_payments_has_no_warnings(capsys):
    from drf_spectacular.generators import SchemaGenerator

    capsys.readouterr()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "payments" in line.lower()]
    assert warnings == []
    assert "/api/v1/payments/withdrawals/" in schema["paths"]
    assert schema["components"]["schemas"]["PayoutFrequencyEnum"]["enum"] == ["manual", "weekly", "monthly"]
    post = schema["paths"]["/api/v1/payments/withdrawals/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
