"""Sessions and re-authentication: the session key changes at sign-in; changing the email,
the password or a payout method needs the password again (REAUTH_WINDOW_SECONDS)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from django.utils import timezone

from marketplace.security import recently_reauthenticated
from payments.models import PayoutMethod
from tests import factories

BANK = {"holder_name": "Free Lancer", "routing_number": "110000000", "account_number": "000123456789"}


@pytest.fixture(autouse=True)
def local_gateway(settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


def _reauthenticate(client, password: str = factories.PASSWORD, next_url: str = ""):
    url = reverse("account_reauthenticate") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"password": password})


def _is_reauth_redirect(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))


# --- session rotation ---------------------------------------------------------------------------


def test_session_key_changes_at_sign_in(client, db):
    user = factories.make_client()
    session = client.session
    session["seen_home"] = True
    session.save()
    before = client.session.session_key
    assert before

    response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})

    assert response.status_code == 302
    after = client.session.session_key
    assert after and after != before
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not SessionStore().exists(before)  # the old key is gone, not merely unused


def test_session_key_changes_at_api_sign_in_through_the_admin_login(client, db):
    """Staff sign in through the same allauth view (secure_admin_login)."""
    staff = factories.make_staff()
    client.get(reverse("admin:login"), follow=True)
    session = client.session
    session["x"] = 1
    session.save()
    before = client.session.session_key
    client.post(reverse("account_login"), {"login": staff.email, "password": factories.PASSWORD})
    assert client.session.session_key != before


# --- the window -----------------------------------------------------------------------------------


def test_window_is_the_setting():
    assert settings.ACCOUNT_REAUTHENTICATION_TIMEOUT == settings.REAUTH_WINDOW_SECONDS
    assert settings.ACCOUNT_REAUTHENTICATION_REQUIRED is True


def test_reauthentication_lasts_for_the_window_only(client, db, rf):
    freelancer = factories.make_freelancer()
    client.force_login(freelancer)
    url = reverse("payments:payout_method_bank")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _is_reauth_redirect(client.get(url))
        assert _reauthenticate(client, next_url=url).status_code == 302
        assert client.get(url).status_code == 200
    with time_machine.travel(start + timedelta(seconds=settings.REAUTH_WINDOW_SECONDS - 5), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(start + timedelta(seconds=settings.REAUTH_WINDOW_SECONDS + 5), tick=False):
        assert _is_reauth_redirect(client.get(url))


def test_wrong_password_does_not_reauthenticate(client, db):
    freelancer = factories.make_freelancer()
    client.force_login(freelancer)
    response = _reauthenticate(client, password="not-my-password")
    assert response.status_code == 200  # the form again, with its error
    assert _is_reauth_redirect(client.get(reverse("payments:payout_method_bank")))


def test_recently_reauthenticated_helper(client, db, rf):
    freelancer = factories.make_freelancer()
    client.force_login(freelancer)
    request = rf.get("/")
    request.user = freelancer
    request.session = client.session
    assert recently_reauthenticated(request) is False
    _reauthenticate(client)
    request.session = client.session
    assert recently_reauthenticated(request) is True


# --- email and password ---------------------------------------------------------------------------


def test_adding_an_email_needs_reauthentication(client, db):
    user = factories.make_client()
    client.force_login(user)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "second@example.com"})
    assert _is_reauth_redirect(response)
    assert not EmailAddress.objects.filter(email="second@example.com").exists()

    _reauthenticate(client)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "second@example.com"})
    assert response.status_code == 302 and not _is_reauth_redirect(response)
    assert EmailAddress.objects.filter(user=user, email="second@example.com").exists()


def test_changing_the_primary_email_needs_reauthentication(client, db):
    user = factories.make_client()
    EmailAddress.objects.create(user=user, email="other@example.com", verified=True, primary=False)
    client.force_login(user)
    response = client.post(reverse("account_email"), {"action_primary": "", "email": "other@example.com"})
    assert _is_reauth_redirect(response)
    user.refresh_from_db()
    assert user.email != "other@example.com"


def test_changing_the_password_asks_for_the_current_one(client, db):
    user = factories.make_client()
    client.force_login(user)
    new = "a-brand-new-Password-42"
    wrong = client.post(
        reverse("account_change_password"),
        {"oldpassword": "not-it-at-all", "password1": new, "password2": new},
    )
    assert wrong.status_code == 200
    assert "oldpassword" in wrong.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(factories.PASSWORD)

    right = client.post(
        reverse("account_change_password"),
        {"oldpassword": factories.PASSWORD, "password1": new, "password2": new},
    )
    assert right.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


# --- payout methods (HTML) ------------------------------------------------------------------------


def test_adding_a_bank_account_needs_reauthentication(client, db):
    freelancer = factories.make_freelancer()
    client.force_login(freelancer)
    url = reverse("payments:payout_method_bank")
    response = client.post(url, BANK)
    assert _is_reauth_redirect(response)
    assert not PayoutMethod.objects.filter(user=freelancer).exists()

    # confirming the password replays the suspended form submission
    resumed = _reauthenticate(client, next_url=url)
    assert resumed.status_code == 302
    assert PayoutMethod.objects.filter(user=freelancer).count() == 1


def test_removing_a_payout_method_needs_reauthentication(client, db):
    from payments import services as payment_services

    freelancer = factories.make_freelancer()
    method = payment_services.payout_method_add_bank_account(actor=freelancer, **BANK)
    client.force_login(freelancer)
    url = reverse("payments:payout_method_remove", kwargs={"method_id": method.pk})
    assert _is_reauth_redirect(client.post(url))
    method.refresh_from_db()
    assert method.status != PayoutMethod.Status.REMOVED

    _reauthenticate(client)
    assert client.post(url).status_code == 302
    method.refresh_from_db()
    assert method.status == PayoutMethod.Status.REMOVED


def test_someone_elses_payout_method_cannot_be_removed_even_after_reauthentication(client, db):
    from payments import services as payment_services

    owner, other = factories.make_freelancer(), factories.make_freelancer()
    method = payment_services.payout_method_add_bank_account(actor=owner, **BANK)
    client.force_login(other)
    _reauthenticate(client)
    response = client.post(reverse("payments:payout_method_remove", kwargs={"method_id": method.pk}))
    assert response.status_code == 404
    method.refresh_from_db()
    assert method.status != PayoutMethod.Status.REMOVED


# --- payout methods (API): the password travels with the request -----------------------------------


def test_api_bank_account_needs_the_password(api_client, db):
    freelancer = factories.make_freelancer()
    api_client.force_authenticate(freelancer)
    url = reverse("api_payout_method_bank_account")
    missing = api_client.post(url, BANK, format="json")
    assert missing.status_code == 400
    wrong = api_client.post(url, {**BANK, "password": "nope"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "reauthentication_failed"
    assert not PayoutMethod.objects.filter(user=freelancer).exists()
    ok = api_client.post(url, {**BANK, "password": factories.PASSWORD}, format="json")
    assert ok.status_code == 201


def test_api_payout_method_removal_needs_the_password(api_client, db):
    from payments import services as payment_services

    freelancer = factories.make_freelancer()
    method = payment_services.payout_method_add_bank_account(actor=freelancer, **BANK)
    api_client.force_authenticate(freelancer)
    url = reverse("api_payout_method", kwargs={"method_id": method.pk})
    assert api_client.delete(url, {}, format="json").status_code == 400
    assert api_client.delete(url, {"password": "nope"}, format="json").status_code == 400
    method.refresh_from_db()
    assert method.status != PayoutMethod.Status.REMOVED
    assert api_client.delete(url, {"password": factories.PASSWORD}, format="json").status_code in (200, 204)
    method.refresh_from_db()
    assert method.status == PayoutMethod.Status.REMOVED
