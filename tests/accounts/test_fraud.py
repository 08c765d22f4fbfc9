"""Fraud signals: each fires when the figure reaches its threshold and not below."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts import fraud
from accounts.models import User
from messaging import services as messaging_services
from payments.models import Charge
from proposals.models import Proposal
from tests import factories
from tests.contracts.conftest import make_proposal
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.CONNECTS_COST_BY_SIZE = {"small": 1, "medium": 1, "large": 1}  # room for a burst
    cache.clear()
    yield
    cache.clear()


def listed(signal: fraud.Signal) -> dict[int, int]:
    return {row.user_id: row.figure for row in signal.rows}


# --- new accounts posting many jobs --------------------------------------------------------


def test_new_account_jobs_fires_at_threshold(settings):
    settings.FRAUD_NEW_ACCOUNT_DAYS = 7
    settings.FRAUD_NEW_ACCOUNT_JOBS = 3
    busy = factories.make_client()
    calm = factories.make_client()
    for _ in range(3):
        make_job(busy, publish=False)
    for _ in range(2):
        make_job(calm, publish=False)

    signal = fraud.new_accounts_posting_jobs()

    assert listed(signal) == {busy.pk: 3}
    assert signal.threshold == 3
    assert signal.rows[0].admin_url == reverse("admin:accounts_user_change", args=[busy.pk])


def test_new_account_jobs_ignores_old_accounts(settings):
    settings.FRAUD_NEW_ACCOUNT_DAYS = 7
    settings.FRAUD_NEW_ACCOUNT_JOBS = 2
    veteran = factories.make_client()
    for _ in range(2):
        make_job(veteran, publish=False)
    User.objects.filter(pk=veteran.pk).update(date_joined=timezone.now() - timedelta(days=8))
    assert fraud.new_accounts_posting_jobs().rows == []


# --- proposals per minute ------------------------------------------------------------------


def _proposals(freelancer, count: int) -> list[Proposal]:
    return [make_proposal(make_job(), freelancer) for _ in range(count)]


def test_rapid_proposals_fires_at_threshold(settings):
    settings.FRAUD_PROPOSALS_PER_MINUTE = 3
    fast = factories.make_published_freelancer()
    steady = factories.make_published_freelancer()
    minute = timezone.now().replace(second=5, microsecond=0) - timedelta(hours=1)
    for proposal in _proposals(fast, 3):
        Proposal.objects.filter(pk=proposal.pk).update(created_at=minute)
    for i, proposal in enumerate(_proposals(steady, 3)):
        # two in one minute, the third in the next: below the threshold
        Proposal.objects.filter(pk=proposal.pk).update(created_at=minute + timedelta(seconds=40 * i))

    signal = fraud.rapid_proposals()

    assert listed(signal) == {fast.pk: 3}
    assert "UTC" in signal.rows[0].detail


def test_rapid_proposals_only_looks_at_the_window(settings):
    settings.FRAUD_PROPOSALS_PER_MINUTE = 2
    settings.FRAUD_PROPOSALS_WINDOW_HOURS = 24
    fast = factories.make_published_freelancer()
    long_ago = timezone.now() - timedelta(days=3)
    for proposal in _proposals(fast, 2):
        Proposal.objects.filter(pk=proposal.pk).update(created_at=long_ago)
    assert fraud.rapid_proposals().rows == []


# --- off-platform warnings -----------------------------------------------------------------


def _conversation(a, b):
    return messaging_services.conversation_get_or_create_for_subject(
        subject=factories.CategoryFactory(), participants=[a, b]
    )


def test_off_platform_messages_fire_at_threshold(settings):
    settings.FRAUD_OFF_PLATFORM_MESSAGES = 3
    pushy, careful, other = factories.make_freelancer(), factories.make_freelancer(), factories.make_client()
    conversation = _conversation(pushy, other)
    second = _conversation(careful, other)
    for i in range(3):
        messaging_services.message_send(
            actor=pushy, conversation_id=conversation.pk, body="Pay me on venmo please", client_msg_id=f"p{i}"
        )
    for i in range(2):
        messaging_services.message_send(
            actor=careful, conversation_id=second.pk, body="Pay me on venmo please", client_msg_id=f"c{i}"
        )
    messaging_services.message_send(
        actor=careful, conversation_id=second.pk, body="The draft is ready", client_msg_id="c-clean"
    )

    assert listed(fraud.off_platform_messages()) == {pushy.pk: 3}


# --- payment declines ----------------------------------------------------------------------


def _charge(payer, status: str, n: int) -> Charge:
    return Charge.objects.create(
        payer=payer,
        amount_cents=10_000,
        purpose="test",
        reference=f"test:{payer.pk}:{n}",
        escrow_reference=f"contract:{payer.pk}",
        status=status,
        idempotency_key=f"charge-test-{payer.pk}-{n}",
        gateway="local",
    )


def test_payment_declines_fire_at_threshold(settings):
    settings.FRAUD_PAYMENT_DECLINES = 3
    carder, unlucky = factories.make_client(), factories.make_client()
    for n in range(3):
        _charge(carder, Charge.Status.FAILED, n)
    for n in range(2):
        _charge(unlucky, Charge.Status.FAILED, n)
    for n in range(5):
        _charge(unlucky, Charge.Status.SUCCEEDED, 10 + n)  # successes do not count

    assert listed(fraud.payment_declines()) == {carder.pk: 3}


def test_old_declines_do_not_count(settings):
    settings.FRAUD_PAYMENT_DECLINES = 2
    settings.FRAUD_PAYMENT_DECLINES_WINDOW_DAYS = 7
    payer = factories.make_client()
    for n in range(2):
        _charge(payer, Charge.Status.FAILED, n)
    Charge.objects.filter(payer=payer).update(created_at=timezone.now() - timedelta(days=8))
    assert fraud.payment_declines().rows == []


# --- sign-ups from one IP ------------------------------------------------------------------


def test_signups_per_ip_fire_at_threshold(settings):
    settings.FRAUD_SIGNUPS_PER_IP = 3
    crowd = [factories.UserFactory(signup_ip="203.0.113.7") for _ in range(3)]
    pair = [factories.UserFactory(signup_ip="198.51.100.2") for _ in range(2)]
    factories.UserFactory(signup_ip=None)

    signal = fraud.signups_per_ip()

    assert listed(signal) == {u.pk: 3 for u in crowd}
    assert {row.detail for row in signal.rows} == {"203.0.113.7"}
    assert not set(listed(signal)) & {u.pk for u in pair}


def test_signup_records_the_client_ip(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    response = client.post(
        reverse("account_signup"),
        {
            "email": "newcomer@example.com",
            "password1": "a-long-enough-Passw0rd",
            "password2": "a-long-enough-Passw0rd",
            "first_name": "New",
            "last_name": "Comer",
            "role": "client",
        },
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(email="newcomer@example.com").signup_ip == "192.0.2.44"


def test_all_signals_listed_in_order():
    assert [s.key for s in fraud.fraud_signals()] == [
        "new_account_jobs",
        "rapid_proposals",
        "off_platform",
        "payment_declines",
        "signups_per_ip",
    ]
