"""Connects: what a proposal costs, free after an invitation, the monthly grant (rollover
cap, once per month, the beat task), staff grants, refunds when a job closes without a hire
or is removed by staff, and the balance never going below zero under concurrent submits."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import SuspensionReason
from jobs import services as job_services
from jobs.models import Invitation, Job
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from messaging.models import Notification
from proposals import services, tasks
from proposals.models import ConnectsTransaction, ConnectsWallet, Proposal
from tests import factories
from tests.conftest import requires_postgres
from tests.jobs.conftest import make_job
from tests.proposals.conftest import balance_of, set_balance, submit

pytestmark = pytest.mark.django_db

S = Proposal.Status


def refunds() -> list[tuple[int, int]]:
    return sorted(ConnectsTransaction.objects.filter(kind="refund").values_list("wallet__user_id", "amount"))


# --- cost ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "cost"), [("small", 2), ("medium", 4), ("large", 6)])
def test_a_proposal_costs_connects_by_the_jobs_size(pro, client_owner, size, cost):
    job = make_job(client_owner, size=size)

    proposal = submit(pro, job)

    assert proposal.connects_spent == cost
    assert balance_of(pro) == 10 - cost


def test_the_costs_come_from_settings(pro, client_owner, settings):
    settings.CONNECTS_COST_BY_SIZE = {"small": 1, "medium": 3, "large": 9}

    proposal = submit(pro, make_job(client_owner, size="large"))

    assert proposal.connects_spent == 9


def test_answering_an_invitation_is_free(pro, client_owner):
    accepted_job = make_job(client_owner, title="Build a Django booking website")
    pending_job = make_job(client_owner, title="Build a Django booking platform")
    accepted = job_services.invitation_send(
        actor=client_owner, job_id=accepted_job.pk, freelancer_id=pro.pk, message="Please apply."
    )
    job_services.invitation_accept(actor=pro, invitation_id=accepted.pk)
    pending = job_services.invitation_send(
        actor=client_owner, job_id=pending_job.pk, freelancer_id=pro.pk, message="Please apply."
    )

    first = submit(pro, accepted_job)
    second = submit(pro, pending_job)

    assert first.connects_spent == second.connects_spent == 0
    pending.refresh_from_db()
    assert pending.status == Invitation.Status.ACCEPTED
    assert services.connects_wallet_for(pro).balance == 10
    assert not ConnectsTransaction.objects.filter(kind="spend").exists()
    assert second.events.get().data == {"connects": 0, "invited": True}


def test_an_expired_invitation_does_not_make_a_public_job_free(pro, client_owner):
    job = make_job(client_owner)
    invitation = job_services.invitation_send(
        actor=client_owner, job_id=job.pk, freelancer_id=pro.pk, message="Please apply."
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    proposal = submit(pro, job)

    assert proposal.connects_spent == 4
    assert proposal.invitation is None


def test_without_enough_connects_nothing_is_sent(pro, job):
    set_balance(pro, 3)

    with pytest.raises(ApplicationError) as error:
        submit(pro, job)

    assert error.value.code == "not_enough_connects"
    assert error.value.extra == {"needed": 4, "balance": 3}
    assert not Proposal.objects.exists()
    assert balance_of(pro) == 3
    job.refresh_from_db()
    assert job.proposals_count == 0


# --- monthly grant ---------------------------------------------------------------------------------------


def test_the_monthly_grant_is_given_once_per_month(pro):
    with time_machine.travel(date(2025, 3, 3), tick=False):
        first = services.connects_grant_monthly(user_id=pro.pk)
        again = services.connects_grant_monthly(user_id=pro.pk)
    with time_machine.travel(date(2025, 3, 31), tick=False):
        late = services.connects_grant_monthly(user_id=pro.pk)
    with time_machine.travel(date(2025, 4, 1), tick=False):
        april = services.connects_grant_monthly(user_id=pro.pk)

    assert first is not None and (first.kind, first.amount, first.idempotency_key) == (
        "monthly",
        10,
        f"monthly:{pro.pk}:2025-03",
    )
    assert again is None and late is None
    assert april is not None and april.balance_after == 20
    wallet = ConnectsWallet.objects.get(user=pro)
    assert (wallet.balance, wallet.last_monthly_grant) == (20, date(2025, 4, 1))


@pytest.mark.parametrize(
    ("balance", "granted", "after"), [(0, 10, 10), (70, 10, 80), (75, 5, 80), (80, 0, 80), (95, 0, 95)]
)
def test_the_grant_tops_up_to_the_rollover_cap(pro, balance, granted, after):
    with time_machine.travel(date(2025, 3, 3), tick=False):
        wallet = services.connects_wallet_for(pro)  # March granted
    ConnectsWallet.objects.filter(pk=wallet.pk).update(balance=balance)

    with time_machine.travel(date(2025, 4, 2), tick=False):
        row = services.connects_grant_monthly(user_id=pro.pk)

    assert (row.amount if row else 0) == granted
    wallet.refresh_from_db()
    assert wallet.balance == after
    assert wallet.last_monthly_grant == date(2025, 4, 1)


def test_the_grant_and_the_cap_come_from_settings(pro, settings):
    settings.CONNECTS_MONTHLY_GRANT = 30
    settings.CONNECTS_ROLLOVER_CAP = 50

    services.connects_wallet_for(pro)
    with time_machine.travel(timezone.now() + timedelta(days=40), tick=False):
        services.connects_grant_monthly(user_id=pro.pk)

    assert balance_of(pro) == 50


def test_the_beat_task_grants_every_active_freelancer_once(pro, other_pro, client_owner, staff):
    suspended = factories.make_published_freelancer()
    accounts_services.user_suspend(actor=staff, user_id=suspended.pk, reason=SuspensionReason.SPAM)
    unpublished = factories.make_freelancer()
    services.connects_wallet_for(pro)  # already has this month's grant

    first = services.connects_grant_monthly_all(batch_size=1)
    second = tasks.grant_monthly_connects()

    assert (first, second) == (2, 0)  # other_pro and the unpublished freelancer; never clients
    assert set(ConnectsWallet.objects.values_list("user_id", flat=True)) == {
        pro.pk,
        other_pro.pk,
        unpublished.pk,
    }
    assert ConnectsTransaction.objects.filter(kind="monthly").count() == 3
    with time_machine.travel(timezone.now() + timedelta(days=35), tick=False):
        assert tasks.grant_monthly_connects() == 3
    assert balance_of(pro) == 20


def test_the_task_is_scheduled():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["proposals-monthly-connects"]
    assert entry["task"] == "proposals.grant_monthly_connects"


# --- staff grants ---------------------------------------------------------------------------------------


def test_staff_grant_connects_with_a_reason(pro, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = services.connects_grant(actor=staff, user_id=pro.pk, amount=100, note="Sorry for the outage")

    assert (row.kind, row.amount, row.balance_after, row.actor) == ("admin", 100, 110, staff)
    assert balance_of(pro) == 110  # not capped
    assert "100 Connects" in Notification.objects.get(recipient=pro).text


def test_staff_grants_are_checked(pro, staff, client_owner):
    with pytest.raises(PermissionDeniedError):
        services.connects_grant(actor=client_owner, user_id=pro.pk, amount=5, note="Friends")
    for amount in (0, -5, 1001, True):
        with pytest.raises(ApplicationError) as error:
            services.connects_grant(actor=staff, user_id=pro.pk, amount=amount, note="Why not")
        assert error.value.code == "invalid_amount"
    with pytest.raises(ApplicationError) as no_note:
        services.connects_grant(actor=staff, user_id=pro.pk, amount=5, note="  ")
    with pytest.raises(ApplicationError) as client:
        services.connects_grant(actor=staff, user_id=client_owner.pk, amount=5, note="A client")
    with pytest.raises(NotFoundError):
        services.connects_grant(actor=staff, user_id=999_999, amount=5, note="Nobody")

    assert no_note.value.code == "note_required"
    assert client.value.code == "not_freelancer"
    assert not ConnectsTransaction.objects.filter(kind="admin").exists()


# --- refunds --------------------------------------------------------------------------------------------


@pytest.fixture
def crowd(job):
    return make_crowd(job)


def make_crowd(job):
    """Five freelancers on ``job``: submitted, shortlisted, declined, withdrawn, invited (free)."""
    people = [factories.make_published_freelancer() for _ in range(5)]
    client = job.client
    submitted = submit(people[0], job)
    shortlisted = submit(people[1], job)
    services.proposal_shortlist(actor=client, proposal_id=shortlisted.pk)
    declined = submit(people[2], job)
    services.proposal_decline(actor=client, proposal_id=declined.pk, reason="budget")
    withdrawn = submit(people[3], job)
    services.proposal_withdraw(actor=people[3], proposal_id=withdrawn.pk, reason="rate")
    job_services.invitation_send(actor=client, job_id=job.pk, freelancer_id=people[4].pk, message="Apply?")
    invited = submit(people[4], job)
    services.connects_wallet_for(people[4])  # free: the proposal did not need the wallet
    return {
        "people": people,
        "submitted": submitted,
        "shortlisted": shortlisted,
        "declined": declined,
        "withdrawn": withdrawn,
        "invited": invited,
    }


def status_and_reason(proposal: Proposal) -> tuple[str, str]:
    proposal.refresh_from_db()
    return proposal.status, proposal.decline_reason


def test_closing_without_a_hire_refunds_everyone_who_did_not_withdraw(
    job, crowd, django_capture_on_commit_callbacks
):
    people = crowd["people"]

    with django_capture_on_commit_callbacks(execute=True):
        job_services.job_close(actor=job.client, job_id=job.pk, reason=Job.CloseReason.NO_GOOD_PROPOSALS)

    assert refunds() == sorted([(people[0].pk, 4), (people[1].pk, 4), (people[2].pk, 4)])
    assert [balance_of(p) for p in people] == [10, 10, 10, 6, 10]
    assert status_and_reason(crowd["submitted"]) == (S.DECLINED, "job_closed")
    assert status_and_reason(crowd["shortlisted"]) == (S.DECLINED, "job_closed")
    assert status_and_reason(crowd["invited"]) == (S.DECLINED, "job_closed")
    assert status_and_reason(crowd["declined"]) == (S.DECLINED, "budget")
    assert status_and_reason(crowd["withdrawn"]) == (S.WITHDRAWN, "")
    job.refresh_from_db()
    assert job.shortlisted_count == 0
    texts = list(Notification.objects.filter(recipient=people[0]).values_list("text", flat=True))
    assert any("4 Connects refunded" in t for t in texts)
    assert any("was closed; your proposal is closed" in t for t in texts)
    refund = ConnectsTransaction.objects.filter(kind="refund", wallet__user=people[0]).get()
    assert (refund.job_id, refund.proposal_id, refund.idempotency_key) == (
        job.pk,
        crowd["submitted"].pk,
        f"refund:proposal:{crowd['submitted'].pk}",
    )


def test_refunds_happen_once_even_if_the_job_is_reopened_and_closed_again(job, crowd):
    job_services.job_close(actor=job.client, job_id=job.pk, reason=Job.CloseReason.NO_GOOD_PROPOSALS)
    job_services.job_reopen(actor=job.client, job_id=job.pk)
    job_services.job_close(actor=job.client, job_id=job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)

    assert len(refunds()) == 3
    assert balance_of(crowd["people"][0]) == 10


def test_staff_removal_refunds_everyone_who_paid(job, crowd, staff):
    job_services.job_remove_by_staff(actor=staff, job_id=job.pk, note="Scam")

    people = crowd["people"]
    assert refunds() == sorted(
        (p.pk, 4) for p in people[:4]
    )  # the withdrawn one too; the invited paid nothing
    assert [balance_of(p) for p in people] == [10, 10, 10, 10, 10]
    assert status_and_reason(crowd["submitted"]) == (S.DECLINED, "job_closed")


def test_no_refund_when_the_job_fills_with_a_hire(job, crowd):
    services.proposal_mark_hired(proposal_id=crowd["submitted"].pk, actor=job.client)

    # the job needed one freelancer: the hire fills it and closes the other proposals
    job.refresh_from_db()
    assert (job.status, job.close_reason) == (Job.Status.FILLED, Job.CloseReason.HIRED)
    assert refunds() == []
    assert status_and_reason(crowd["submitted"]) == (S.HIRED, "")
    assert status_and_reason(crowd["shortlisted"]) == (S.DECLINED, "job_closed")
    assert balance_of(crowd["people"][1]) == 6


def test_no_refund_when_the_client_closes_after_a_hire(client_owner):
    job = make_job(client_owner, freelancers_needed=2)
    crowd = make_crowd(job)
    services.proposal_mark_hired(proposal_id=crowd["submitted"].pk, actor=job.client)

    job_services.job_close(actor=job.client, job_id=job.pk, reason=Job.CloseReason.HIRED)

    assert refunds() == []
    assert status_and_reason(crowd["submitted"]) == (S.HIRED, "")
    assert status_and_reason(crowd["shortlisted"]) == (S.DECLINED, "job_closed")


def test_staff_removal_after_a_hire_still_refunds(client_owner, staff):
    job = make_job(client_owner, freelancers_needed=2)  # still open after one hire
    crowd = make_crowd(job)
    services.proposal_mark_hired(proposal_id=crowd["submitted"].pk, actor=job.client)

    job_services.job_remove_by_staff(actor=staff, job_id=job.pk)

    assert len(refunds()) == 4
    assert status_and_reason(crowd["submitted"]) == (S.HIRED, "")


def test_a_proposal_with_a_pending_offer_survives_the_client_closing_the_job(job, proposal):
    services.proposal_mark_offered(proposal_id=proposal.pk, pending=True)

    job_services.job_close(actor=job.client, job_id=job.pk, reason=Job.CloseReason.HIRED)

    proposal.refresh_from_db()
    assert (proposal.status, proposal.offer_pending) == (S.SUBMITTED, True)


def test_counters_stay_consistent_when_the_job_closes(job, crowd):
    job_services.job_close(actor=job.client, job_id=job.pk, reason=Job.CloseReason.NO_GOOD_PROPOSALS)

    job.refresh_from_db()
    rows = Proposal.objects.filter(job=job)
    assert job.proposals_count == rows.exclude(status=S.WITHDRAWN).count() == 4
    assert job.shortlisted_count == rows.filter(status=S.SHORTLISTED).count() == 0


# --- concurrency ----------------------------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_never_overspend(client_owner):
    """Connects for one proposal, two proposals sent at the same instant: one wins."""
    pro = factories.make_published_freelancer()
    jobs = [
        make_job(client_owner, size="small", title=f"Build a small Django site number {i}") for i in range(2)
    ]
    set_balance(pro, 2)
    barrier = threading.Barrier(2)
    results: list[object] = []
    lock = threading.Lock()

    def send(job: Job) -> None:
        try:
            barrier.wait(timeout=10)
            proposal = submit(pro, job)
            outcome: object = proposal.pk
        except ApplicationError as error:
            outcome = error.code
        except Exception as error:  # reported by the assertions below
            outcome = repr(error)
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=send, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2
    assert sorted(str(type(r).__name__) for r in results) == ["int", "str"], results
    assert "not_enough_connects" in results
    assert balance_of(pro) == 0
    assert Proposal.objects.count() == 1
    assert ConnectsTransaction.objects.filter(kind="spend").count() == 1
