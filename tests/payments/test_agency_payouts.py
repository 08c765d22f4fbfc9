"""Agency money: an agency's proposal -> offer -> contract -> fund -> approve credits the
agency's pending balance; the hold matures to its available balance; the owner distributes
to members (once per key, never more than available); the ledger audit stays clean."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts import agencies
from accounts.models import AgencyRole
from contracts import services as contract_services
from jobs.models import Job
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from payments import audit, ledger, services
from payments.agency import (
    DISTRIBUTION_PURPOSE,
    agency_balance,
    agency_distribute,
    agency_distributions,
    agency_reference,
    agency_total_earned_cents,
)
from payments.fees import freelancer_earnings
from payments.models import AccountKind, JournalEntry, Posting
from proposals.services import ProposalInput
from tests import factories
from tests.conftest import requires_postgres
from tests.contracts.conftest import COVER_LETTER, fixed_input, save_card
from tests.contracts.test_concurrency import _in_threads
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

MILESTONE_CENTS = 50_000


def audit_clean() -> None:
    assert audit.run_checks() == []
    call_command("ledger_audit", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())


def entries_balanced() -> None:
    for entry in JournalEntry.objects.all():
        assert sum(entry.postings.values_list("amount_cents", flat=True)) == 0


class AgencyHire:
    """An agency (owner + worker member + plain member), a client and a fixed job; the
    worker proposes on the agency's behalf and is hired."""

    def __init__(self) -> None:
        self.owner = factories.make_published_freelancer()
        self.worker = factories.make_published_freelancer()
        self.other = factories.make_published_freelancer()
        self.agency = agencies.agency_create(actor=self.owner, name="Acme Studio")
        for member in (self.worker, self.other):
            sent = agencies.member_invite(actor=self.owner, agency_id=self.agency.pk, email=member.email)
            agencies.invitation_accept(actor=member, token=sent.token)
        self.client = factories.make_client()
        self.job = make_job(self.client)

    def propose(self, *, agency_id=None):
        from proposals import services as proposal_services
        from proposals.services import MilestoneInput

        data = ProposalInput(
            duration=Job.Duration.ONE_TO_THREE,
            fixed_amount_cents=MILESTONE_CENTS,
            milestones=[MilestoneInput(description="Everything", amount_cents=MILESTONE_CENTS)],
            cover_letter=COVER_LETTER,
            agency_id=agency_id if agency_id is not None else self.agency.pk,
        )
        return proposal_services.proposal_submit(actor=self.worker, job_id=self.job.pk, data=data)

    def contract(self):
        proposal = self.propose()
        offer = contract_services.offer_create(
            actor=self.client,
            data=fixed_input(
                proposal_id=proposal.pk,
                milestones=[
                    contract_services.MilestoneInput(description="Everything", amount_cents=MILESTONE_CENTS)
                ],
            ),
        )
        assert offer.agency_id == self.agency.pk
        return contract_services.offer_accept(actor=self.worker, offer_id=offer.pk)

    def released_contract(self):
        contract = self.contract()
        save_card(self.client)
        milestone = contract.milestones.get()
        contract_services.milestone_fund(
            actor=self.client, contract_id=contract.pk, milestone_ids=[milestone.pk]
        )
        contract_services.milestone_submit(
            actor=self.worker, milestone_id=milestone.pk, message="Done, see files."
        )
        contract_services.milestone_approve(actor=self.client, milestone_id=milestone.pk)
        return contract


@pytest.fixture
def agency_hire(local_gateway) -> AgencyHire:
    return AgencyHire()


@pytest.fixture
def local_gateway(settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


def mature() -> int:
    return services.release_matured_holds(now=timezone.now() + timedelta(days=60))


NET = freelancer_earnings(MILESTONE_CENTS).net_cents


@pytest.fixture
def available(agency_hire) -> AgencyHire:
    agency_hire.released_contract()
    assert mature() == 1
    return agency_hire


# --- the flow into the agency ------------------------------------------------------------------------


def test_agency_proposal_offer_and_contract_carry_the_agency(agency_hire):
    contract = agency_hire.contract()
    assert contract.agency_id == agency_hire.agency.pk
    assert contract.proposal.agency_id == agency_hire.agency.pk
    assert contract.freelancer_id == agency_hire.worker.pk


def test_release_on_agency_contract_credits_agency_pending_not_the_freelancer(agency_hire):
    agency_hire.released_contract()
    reference = agency_reference(agency_hire.agency.pk)
    assert ledger.balance(AccountKind.AGENCY_PENDING, reference=reference) == NET
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=agency_hire.worker) == 0
    held = Posting.objects.get(account__kind=AccountKind.AGENCY_PENDING)
    release = {p.account.kind: p.amount_cents for p in held.entry.postings.select_related("account")}
    assert release == {
        AccountKind.ESCROW: -MILESTONE_CENTS,
        AccountKind.AGENCY_PENDING: NET,
        AccountKind.PLATFORM_FEES: MILESTONE_CENTS - NET,  # the fee is unchanged
    }
    assert held.available_at is not None and held.available_at > timezone.now()
    balance = agency_balance(agency_id=agency_hire.agency.pk)
    assert (balance.pending_cents, balance.available_cents) == (NET, 0)
    assert balance.next_available_at == held.available_at
    assert agency_total_earned_cents(agency_id=agency_hire.agency.pk) == NET
    entries_balanced()
    audit_clean()


def test_hold_matures_to_agency_available(agency_hire):
    agency_hire.released_contract()
    assert services.release_matured_holds(now=timezone.now()) == 0  # not yet
    assert mature() == 1
    assert mature() == 0  # once
    reference = agency_reference(agency_hire.agency.pk)
    assert ledger.balance(AccountKind.AGENCY_PENDING, reference=reference) == 0
    assert ledger.balance(AccountKind.AGENCY_AVAILABLE, reference=reference) == NET
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=agency_hire.worker) == 0
    assert agency_total_earned_cents(agency_id=agency_hire.agency.pk) == NET  # the move is not new earnings
    audit_clean()


def test_personal_proposal_still_pays_the_freelancer(agency_hire):
    from proposals import services as proposal_services
    from proposals.services import MilestoneInput

    proposal = proposal_services.proposal_submit(
        actor=agency_hire.worker,
        job_id=agency_hire.job.pk,
        data=ProposalInput(
            duration=Job.Duration.ONE_TO_THREE,
            fixed_amount_cents=MILESTONE_CENTS,
            milestones=[MilestoneInput(description="Everything", amount_cents=MILESTONE_CENTS)],
            cover_letter=COVER_LETTER,
        ),
    )
    assert proposal.agency_id is None
    offer = contract_services.offer_create(
        actor=agency_hire.client, data=fixed_input(proposal_id=proposal.pk)
    )
    contract = contract_services.offer_accept(actor=agency_hire.worker, offer_id=offer.pk)
    assert offer.agency_id is None and contract.agency_id is None


def test_proposal_for_an_agency_one_is_not_member_of_is_refused(agency_hire):
    outsider_agency = agencies.agency_create(actor=factories.make_published_freelancer(), name="Elsewhere")
    with pytest.raises(ApplicationError) as error:
        agency_hire.propose(agency_id=outsider_agency.pk)
    assert error.value.code == "not_agency_member"
    with pytest.raises(ApplicationError) as error:
        agency_hire.propose(agency_id="x")
    assert error.value.code == "not_agency_member"


def test_agency_bonus_goes_to_the_agency(agency_hire):
    contract = agency_hire.contract()
    save_card(agency_hire.client)
    contract_services.contract_bonus(actor=agency_hire.client, contract_id=contract.pk, amount_cents=10_000)
    reference = agency_reference(agency_hire.agency.pk)
    assert (
        ledger.balance(AccountKind.AGENCY_PENDING, reference=reference)
        == freelancer_earnings(10_000).net_cents
    )
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=agency_hire.worker) == 0
    audit_clean()


def test_hourly_week_release_goes_to_the_agency(local_gateway):
    import time_machine

    from contracts import billing
    from contracts.models import ContractType, Timesheet
    from proposals import services as proposal_services
    from tests.contracts.conftest import hourly_input, make_hourly_job
    from tests.contracts.test_billing import CLOSE_AT, MONDAY_9AM, REVIEW_END, log_time, utc

    with time_machine.travel(MONDAY_9AM, tick=False):
        hire = AgencyHire()
        job = make_hourly_job(hire.client)
        proposal = proposal_services.proposal_submit(
            actor=hire.worker,
            job_id=job.pk,
            data=ProposalInput(
                duration=Job.Duration.ONE_TO_THREE,
                hourly_rate_cents=4500,
                cover_letter=COVER_LETTER,
                agency_id=hire.agency.pk,
            ),
        )
        offer = contract_services.offer_create(actor=hire.client, data=hourly_input(proposal_id=proposal.pk))
        contract = contract_services.offer_accept(actor=hire.worker, offer_id=offer.pk)
        save_card(hire.client)
    assert contract.contract_type == ContractType.HOURLY and contract.agency_id == hire.agency.pk
    log_time(contract, utc(2026, 11, 3, 10, 0), 120)  # 2 hours: $90
    with time_machine.travel(CLOSE_AT, tick=False):
        billing.timesheets_close_week(now=CLOSE_AT)
    with time_machine.travel(REVIEW_END + timedelta(seconds=1), tick=False):
        assert billing.timesheets_release_due() == 1
    assert Timesheet.objects.get(contract=contract).status == Timesheet.Status.RELEASED
    reference = agency_reference(hire.agency.pk)
    assert (
        ledger.balance(AccountKind.AGENCY_PENDING, reference=reference)
        == freelancer_earnings(9_000).net_cents
    )
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=hire.worker) == 0
    audit_clean()


def test_reversed_agency_release_never_matures(agency_hire):
    agency_hire.released_contract()
    held = Posting.objects.get(account__kind=AccountKind.AGENCY_PENDING)
    ledger.reverse_entry(entry=held.entry, key="undo-agency-release", memo="Reversed")
    assert ledger.balance(AccountKind.AGENCY_PENDING, reference=agency_reference(agency_hire.agency.pk)) == 0
    assert mature() == 0
    assert agency_total_earned_cents(agency_id=agency_hire.agency.pk) == 0
    # the ledger's own checks pass; only contracts' check notices the milestone still says
    # "released" (a bare ledger reversal, as staff would post before correcting the contract)
    assert [f.check for f in audit.run_checks()] == [
        "escrow per contract equals funded minus released minus refunded milestones"
    ]


# --- distribution ------------------------------------------------------------------------------------


def test_owner_distributes_to_a_member(available):
    agency_id = available.agency.pk
    entry = agency_distribute(
        actor=available.owner,
        agency_id=agency_id,
        member_id=available.worker.pk,
        amount_cents=10_000,
        idempotency_key="k1",
    )
    assert entry.purpose == DISTRIBUTION_PURPOSE
    reference = agency_reference(agency_id)
    assert ledger.balance(AccountKind.AGENCY_AVAILABLE, reference=reference) == NET - 10_000
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=available.worker) == 10_000
    rows = agency_distributions(agency_id=agency_id)
    assert [(r.member_id, r.amount_cents) for r in rows] == [(available.worker.pk, 10_000)]
    entries_balanced()
    audit_clean()


def test_member_withdraws_the_distribution_through_payouts(available):
    from tests.payments.conftest import usable_bank

    agency_distribute(
        actor=available.owner,
        agency_id=available.agency.pk,
        member_id=available.worker.pk,
        amount_cents=10_000,
        idempotency_key="k1",
    )
    method = usable_bank(available.worker)
    payout = services.payout_request(
        actor=available.worker, amount_cents=10_000, method_id=method.pk, idempotency_key="w1"
    )
    assert payout.amount_cents == 10_000
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=available.worker) == 0
    audit_clean()


def test_owner_may_pay_themself(available):
    agency_distribute(
        actor=available.owner,
        agency_id=available.agency.pk,
        member_id=available.owner.pk,
        amount_cents=500,
        idempotency_key="me",
    )
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=available.owner) == 500


@pytest.mark.parametrize("who", ["worker", "other", "stranger", "client"])
def test_non_owner_cannot_distribute(available, who):
    actor = factories.make_published_freelancer() if who == "stranger" else getattr(available, who)
    if who == "other":
        agencies.member_role_change(
            actor=available.owner,
            agency_id=available.agency.pk,
            member_id=available.other.pk,
            role=AgencyRole.ADMIN,
        )
    with pytest.raises(PermissionDeniedError):
        agency_distribute(
            actor=actor,
            agency_id=available.agency.pk,
            member_id=actor.pk,
            amount_cents=100,
            idempotency_key="x",
        )
    assert (
        ledger.balance(AccountKind.AGENCY_AVAILABLE, reference=agency_reference(available.agency.pk)) == NET
    )


def test_over_distribution_is_refused(available):
    with pytest.raises(ApplicationError) as error:
        agency_distribute(
            actor=available.owner,
            agency_id=available.agency.pk,
            member_id=available.worker.pk,
            amount_cents=NET + 1,
            idempotency_key="too-much",
        )
    assert error.value.code == "insufficient_funds"
    assert not JournalEntry.objects.filter(purpose=DISTRIBUTION_PURPOSE).exists()


def test_pending_money_cannot_be_distributed(agency_hire):
    agency_hire.released_contract()  # still in the hold
    with pytest.raises(ApplicationError) as error:
        agency_distribute(
            actor=agency_hire.owner,
            agency_id=agency_hire.agency.pk,
            member_id=agency_hire.worker.pk,
            amount_cents=1,
            idempotency_key="early",
        )
    assert error.value.code == "insufficient_funds"


def test_same_key_twice_is_one_entry(available):
    kwargs = {
        "actor": available.owner,
        "agency_id": available.agency.pk,
        "member_id": available.worker.pk,
        "amount_cents": NET,
        "idempotency_key": "all-of-it",
    }
    first = agency_distribute(**kwargs)
    second = agency_distribute(**kwargs)  # the balance is now 0: still answered with the first entry
    assert first.pk == second.pk
    assert JournalEntry.objects.filter(purpose=DISTRIBUTION_PURPOSE).count() == 1
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=available.worker) == NET
    with pytest.raises(ConflictError):
        agency_distribute(**{**kwargs, "amount_cents": 1})
    audit_clean()


def test_distribution_notifies_the_member_once(available, django_capture_on_commit_callbacks):
    from messaging.models import Notification, NotificationKind

    kwargs = {
        "actor": available.owner,
        "agency_id": available.agency.pk,
        "member_id": available.worker.pk,
        "amount_cents": 2_500,
        "idempotency_key": "notify-once",
    }
    with django_capture_on_commit_callbacks(execute=True):
        agency_distribute(**kwargs)
    with django_capture_on_commit_callbacks(execute=True):
        agency_distribute(**kwargs)  # a replay moves nothing and announces nothing
    notes = Notification.objects.filter(recipient=available.worker, kind=NotificationKind.PAYMENT)
    assert [n.text for n in notes] == ["Acme Studio paid you $25.00: it is in your available balance."]


@pytest.mark.parametrize(
    ("member", "amount", "key", "code"),
    [
        ("stranger", 100, "k", "not_agency_member"),
        ("worker", 0, "k", "invalid_amount"),
        ("worker", -5, "k", "invalid_amount"),
        ("worker", "abc", "k", "invalid_amount"),
        # keys are cleaned like every other payments key (services.clean_reference)
        ("worker", 100, "", "invalid_reference"),
        ("worker", 100, "k" * 101, "invalid_reference"),
        ("worker", 100, "two words", "invalid_reference"),
        ("nonsense", 100, "k", "not_agency_member"),
    ],
)
def test_bad_distribution_input(available, member, amount, key, code):
    member_id = {
        "stranger": factories.make_published_freelancer().pk,
        "worker": available.worker.pk,
        "nonsense": "nobody",
    }[member]
    with pytest.raises(ApplicationError) as error:
        agency_distribute(
            actor=available.owner,
            agency_id=available.agency.pk,
            member_id=member_id,
            amount_cents=amount,
            idempotency_key=key,
        )
    assert error.value.code == code


def test_distribution_to_unknown_agency_is_not_found(available):
    with pytest.raises(NotFoundError):
        agency_distribute(
            actor=available.owner,
            agency_id=999_999,
            member_id=available.worker.pk,
            amount_cents=1,
            idempotency_key="k",
        )


def test_removed_member_cannot_receive(available):
    agencies.member_remove(actor=available.owner, agency_id=available.agency.pk, member_id=available.other.pk)
    with pytest.raises(ApplicationError) as error:
        agency_distribute(
            actor=available.owner,
            agency_id=available.agency.pk,
            member_id=available.other.pk,
            amount_cents=100,
            idempotency_key="gone",
        )
    assert error.value.code == "not_agency_member"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_distributions_never_overdraw(local_gateway):
    hire = AgencyHire()
    hire.released_contract()
    mature()

    def distribute(index: int):
        return agency_distribute(
            actor=hire.owner,
            agency_id=hire.agency.pk,
            member_id=hire.worker.pk,
            amount_cents=NET // 2 + 1,
            idempotency_key=f"k{index}",
        )

    results = _in_threads(4, distribute)
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(e, ApplicationError) and e.code == "insufficient_funds" for e in errors)
    assert JournalEntry.objects.filter(purpose=DISTRIBUTION_PURPOSE).count() == 1
    assert len(errors) == 3
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=hire.worker) == NET // 2 + 1
    audit_clean()


# --- pages and API -------------------------------------------------------------------------------


def test_owner_earnings_page_distributes(client, available):
    client.force_login(available.owner)
    url = reverse("accounts:agency_earnings", kwargs={"slug": available.agency.slug})
    page = client.get(url)
    assert page.status_code == 200
    assert "Nothing distributed yet." in page.content.decode()
    response = client.post(
        url, {"member": available.worker.pk, "amount": "12.50", "idempotency_key": "form-1"}
    )
    assert response.status_code == 302
    client.post(
        url, {"member": available.worker.pk, "amount": "12.50", "idempotency_key": "form-1"}
    )  # double submit
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=available.worker) == 1250
    page = client.get(url)
    assert available.worker.display_name in page.content.decode()
    too_much = client.post(
        url, {"member": available.worker.pk, "amount": "99999", "idempotency_key": "form-2"}
    )
    assert too_much.status_code == 400
    bad = client.post(url, {"member": "x", "amount": "abc", "idempotency_key": "form-3"})
    assert bad.status_code == 400


@pytest.mark.parametrize("who", ["worker", "stranger"])
def test_earnings_page_refuses_non_owners(client, available, who):
    user = available.worker if who == "worker" else factories.make_published_freelancer()
    client.force_login(user)
    url = reverse("accounts:agency_earnings", kwargs={"slug": available.agency.slug})
    assert client.get(url).status_code == 403
    assert client.post(url, {"member": user.pk, "amount": "1", "idempotency_key": "z"}).status_code == 403
    assert client.get(reverse("accounts:agency_earnings", kwargs={"slug": "no-such"})).status_code == 404


def test_distribution_api(api_client, available):
    url = reverse("api_agency_distributions", kwargs={"slug": available.agency.slug})
    api_client.force_authenticate(available.owner)
    body = {"member_id": available.worker.pk, "amount_cents": 700, "idempotency_key": "api-1"}
    first = api_client.post(url, body, format="json")
    assert first.status_code == 201 and first.json()["amount_cents"] == 700
    again = api_client.post(url, body, format="json")
    assert again.status_code == 201 and again.json()["entry_id"] == first.json()["entry_id"]
    assert api_client.get(url).json()[0]["member_id"] == available.worker.pk
    balance = api_client.get(reverse("api_agency_balance", kwargs={"slug": available.agency.slug})).json()
    assert balance["available_cents"] == NET - 700
    over = api_client.post(url, {**body, "idempotency_key": "api-2", "amount_cents": NET}, format="json")
    assert over.status_code == 400 and over.json()["code"] == "insufficient_funds"
    bad = api_client.post(url, {"member_id": "x", "amount_cents": -1}, format="json")
    assert bad.status_code == 400
    api_client.force_authenticate(available.worker)
    assert api_client.post(url, {**body, "idempotency_key": "api-3"}, format="json").status_code == 403
    assert api_client.get(url).status_code == 403
