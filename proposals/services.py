"""Write use cases of proposals and Connects.

Keyword-only, take the acting user (or are hooks for contracts, documented as such), lock
what they change, log a ProposalEvent, and queue side effects on commit.

Locks are taken in one order everywhere: the job row, then the proposal rows (by primary
key), then Connects wallets (by primary key). ``jobs.services.job_close`` holds the job's
lock when it sends ``job_closed``, so ``proposals_job_closed`` follows the same order.

Job counters kept here (through ``jobs.services.job_counters_add``), as invariants:

- ``proposals_count``: proposals that were not withdrawn;
- ``shortlisted_count``: proposals shortlisted now;
- ``messaged_count``: proposals, not withdrawn, the client has messaged (they have an
  interview conversation);
- ``interviewing_count`` (shared with invitations, which count an accepted invitation):
  one more when the client first messages a proposal that did not come from an
  invitation, one less when a proposal so counted is withdrawn.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts import agencies, teams
from accounts.models import FreelancerProfile, PortfolioItem, User
from accounts.services import require_can_act
from jobs import matching
from jobs import services as job_services
from jobs.models import Invitation, Job
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError, field_error
from marketplace.ids import is_id
from marketplace.money import format_cents
from marketplace.uploads import process_file, safe_display_name, validate_file
from messaging import services as messaging
from messaging.models import NotificationKind
from payments import ledger
from payments import services as payments
from payments.ledger import Line
from payments.models import AccountKind, Charge, Refund

from .models import (
    ConnectsTransaction,
    ConnectsWallet,
    Proposal,
    ProposalAnswer,
    ProposalAttachment,
    ProposalEvent,
    ProposalMilestone,
)

log = logging.getLogger(__name__)

COVER_LETTER_MIN, COVER_LETTER_MAX = 50, 5000
ANSWER_MAX = 2000
MAX_MILESTONES = 10
MILESTONE_DESCRIPTION_MAX = 200
MILESTONE_HORIZON_DAYS = 730  # a proposed due date is at most about two years ahead
MAX_ATTACHMENTS = 5
MAX_PORTFOLIO_ITEMS = 10
ATTACHMENT_KINDS = job_services.ATTACHMENT_KINDS
NOTE_MAX = 500
MESSAGE_MAX = 5000
STAFF_GRANT_MAX = 1000
# the bid's bounds are the budgets' bounds of jobs.services
MIN_HOURLY_CENTS, MAX_HOURLY_CENTS = job_services.MIN_HOURLY_CENTS, job_services.MAX_HOURLY_CENTS
MIN_FIXED_CENTS, MAX_FIXED_CENTS = job_services.MIN_FIXED_CENTS, job_services.MAX_FIXED_CENTS


# --- inputs ------------------------------------------------------------------------------------


@dataclass
class MilestoneInput:
    """A milestone proposed on a fixed-price bid (amount in cents)."""

    description: str
    amount_cents: int
    due_date: date | None = None


@dataclass
class BidInput:
    """The terms a freelancer may change while the proposal is open (amounts in cents)."""

    duration: str
    hourly_rate_cents: int | None = None  # hourly jobs
    fixed_amount_cents: int | None = None  # fixed-price jobs
    milestones: list[MilestoneInput] = field(default_factory=list)  # fixed-price only, optional


@dataclass
class ProposalInput(BidInput):
    """A proposal as the apply page and the API send it."""

    cover_letter: str = ""
    answers: dict[int, str] = field(default_factory=dict)  # screening question id -> answer
    portfolio_item_ids: list[int] = field(default_factory=list)
    attachments: list[UploadedFile] = field(default_factory=list)
    agency_id: int | None = None  # propose on behalf of an agency the freelancer belongs to


# --- helpers -------------------------------------------------------------------------------------


_error = field_error


def _on_commit_notify(recipient: User, kind: str, text: str, url: str, subject: Any = None) -> None:
    """Notify after the transaction commits (a notification is never sent for a rolled-back change)."""
    messaging.notify_on_commit(recipient_id=recipient.pk, kind=kind, text=text, url=url, subject=subject)


def proposal_url(proposal: Proposal) -> str:
    return reverse("proposals:detail", kwargs={"proposal_id": proposal.pk})


def _require_freelancer(actor: User) -> FreelancerProfile:
    require_can_act(actor)
    profile = FreelancerProfile.objects.filter(user=actor).first()
    if profile is None:
        raise PermissionDeniedError("Only freelancers send proposals.", code="not_freelancer")
    if profile.published_at is None:
        raise ApplicationError(
            "Complete and publish your profile before sending proposals: clients read it first.",
            code="profile_not_published",
        )
    return profile


def _proposal_for_update(proposal_id: int) -> Proposal:
    """Lock the proposal's job, then the proposal (the order every service here keeps)."""
    job_id = Proposal.objects.filter(pk=proposal_id).values_list("job_id", flat=True).first()
    if job_id is None:
        raise NotFoundError("No such proposal.")
    job = Job.objects.select_for_update().get(pk=job_id)
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFoundError("No such proposal.")
    proposal.job = job
    return proposal


def _own_proposal_for_update(actor: User, proposal_id: int) -> Proposal:
    """The freelancer's own proposal, locked; anyone else's is not found."""
    require_can_act(actor)
    proposal = _proposal_for_update(proposal_id)
    if proposal.freelancer_id != actor.pk:
        raise NotFoundError("No such proposal.")
    return proposal


def _client_proposal_for_update(actor: User, proposal_id: int) -> Proposal:
    """A proposal to one of the actor's jobs, locked; any other is not found. The client never
    sees withdrawn proposals."""
    require_can_act(actor)
    proposal = _proposal_for_update(proposal_id)
    if proposal.status == Proposal.Status.WITHDRAWN or proposal.freelancer_id == actor.pk:
        raise NotFoundError("No such proposal.")
    # the job's client, or a teammate of its client team whose role allows it (viewers: 403)
    teams.require_job_action(
        user=actor, job=proposal.job, action=teams.REVIEW_PROPOSALS, not_found="No such proposal."
    )
    return proposal


def _transition(
    proposal: Proposal, *, to: str, actor: User | None, kind: str, data: dict | None = None
) -> str:
    """Move ``proposal`` (locked by the caller) to ``to`` and log it; returns the old status."""
    if to not in Proposal.TRANSITIONS[proposal.status]:
        raise ApplicationError(
            f"A {proposal.get_status_display().lower()} proposal cannot become "
            f"{Proposal.Status(to).label.lower()}.",
            code="illegal_transition",
            extra={"from": proposal.status, "to": to},
        )
    old = proposal.status
    ProposalEvent.objects.create(
        proposal=proposal, actor=actor, kind=kind, from_status=old, to_status=to, data=data or {}
    )
    proposal.status = to
    proposal.status_changed_at = timezone.now()
    return old


def _log_event(proposal: Proposal, *, actor: User | None, kind: str, data: dict | None = None) -> None:
    """An event that does not change the status (archived, bid changed, messaged)."""
    ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        kind=kind,
        from_status=proposal.status,
        to_status=proposal.status,
        data=data or {},
    )


def _clean_note(note: Any) -> str:
    text = str(note or "").strip()
    if len(text) > NOTE_MAX:
        raise _error(f"The note is limited to {NOTE_MAX} characters.", "note_too_long", "note")
    return text


def _refuse_while_offer_pending(proposal: Proposal, what: str) -> None:
    if proposal.offer_pending:
        raise ApplicationError(
            f"An offer made from this proposal is pending; {what}.",
            code="offer_pending",
            extra={"from": proposal.status},
        )


# --- validation ----------------------------------------------------------------------------------


def _validate_bid(job: Job, data: BidInput) -> dict[str, Any]:
    """Check the bid, the milestones and the duration against the job; return model values."""
    if data.duration not in Job.Duration.values:
        raise _error("Choose how long the work will take.", "invalid_choice", "duration")
    hourly, fixed = data.hourly_rate_cents, data.fixed_amount_cents
    milestones = list(data.milestones or [])
    if job.budget_type == Job.BudgetType.HOURLY:
        if fixed is not None or milestones:
            raise _error(
                "This is an hourly job: bid an hourly rate, not a fixed price or milestones.",
                "bid_wrong_type",
                "hourly_rate",
            )
        if hourly is None:
            raise _error("Give your hourly rate for this job.", "bid_required", "hourly_rate")
        if not isinstance(hourly, int) or not MIN_HOURLY_CENTS <= hourly <= MAX_HOURLY_CENTS:
            raise _error(
                f"An hourly rate must be between {format_cents(MIN_HOURLY_CENTS)} and "
                f"{format_cents(MAX_HOURLY_CENTS)}.",
                "bid_out_of_range",
                "hourly_rate",
            )
        return {"hourly_rate_cents": hourly, "fixed_amount_cents": None, "duration": data.duration, "_ms": []}
    if hourly is not None:
        raise _error(
            "This is a fixed-price job: bid a fixed price, not an hourly rate.",
            "bid_wrong_type",
            "fixed_amount",
        )
    if fixed is None:
        raise _error("Give your price for the whole project.", "bid_required", "fixed_amount")
    if not isinstance(fixed, int) or not MIN_FIXED_CENTS <= fixed <= MAX_FIXED_CENTS:
        raise _error(
            f"A fixed price must be between {format_cents(MIN_FIXED_CENTS)} and "
            f"{format_cents(MAX_FIXED_CENTS)}.",
            "bid_out_of_range",
            "fixed_amount",
        )
    return {
        "hourly_rate_cents": None,
        "fixed_amount_cents": fixed,
        "duration": data.duration,
        "_ms": _validate_milestones(milestones, total=fixed),
    }


def _validate_milestones(milestones: list[MilestoneInput], *, total: int) -> list[ProposalMilestone]:
    if not milestones:
        return []
    if len(milestones) > MAX_MILESTONES:
        raise _error(
            f"Propose at most {MAX_MILESTONES} milestones (you have {len(milestones)}).",
            "too_many_milestones",
            "milestones",
        )
    today = timezone.localdate()
    horizon = today + timedelta(days=MILESTONE_HORIZON_DAYS)
    rows = []
    for i, item in enumerate(milestones, start=1):
        description = str(item.description or "").strip()
        if not description:
            raise _error(f"Describe milestone {i}.", "milestone_description_required", "milestones", index=i)
        if len(description) > MILESTONE_DESCRIPTION_MAX:
            raise _error(
                f"Milestone {i}: the description is limited to {MILESTONE_DESCRIPTION_MAX} characters.",
                "milestone_description_too_long",
                "milestones",
                index=i,
            )
        amount = item.amount_cents
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _error(
                f"Milestone {i}: the amount must be above zero.",
                "milestone_amount_invalid",
                "milestones",
                index=i,
            )
        if item.due_date is not None and not today <= item.due_date <= horizon:
            raise _error(
                f"Milestone {i}: the due date must be between today and {horizon:%b %-d, %Y}.",
                "milestone_due_date_invalid",
                "milestones",
                index=i,
            )
        rows.append(
            ProposalMilestone(
                position=i, description=description, amount_cents=amount, due_date=item.due_date
            )
        )
    planned = sum(row.amount_cents for row in rows)
    if planned != total:
        raise _error(
            f"The milestones add up to {format_cents(planned)} but your bid is {format_cents(total)}: "
            f"they must add up to the bid exactly.",
            "milestones_sum_mismatch",
            "milestones",
            milestones_total_cents=planned,
            bid_cents=total,
        )
    return rows


def _validate_proposal(job: Job, profile: FreelancerProfile, data: ProposalInput) -> dict[str, Any]:
    cover = str(data.cover_letter or "").strip()
    if len(cover) < COVER_LETTER_MIN:
        raise _error(
            f"Write a cover letter of at least {COVER_LETTER_MIN} characters (you have {len(cover)}).",
            "cover_letter_too_short",
            "cover_letter",
        )
    if len(cover) > COVER_LETTER_MAX:
        raise _error(
            f"The cover letter is limited to {COVER_LETTER_MAX:,} characters (you have {len(cover):,}).",
            "cover_letter_too_long",
            "cover_letter",
        )
    values = _validate_bid(job, data)
    questions = list(job.questions.all())
    asked = {q.pk for q in questions}
    given = {int(k): str(v or "").strip() for k, v in (data.answers or {}).items()}
    unknown = set(given) - asked
    if unknown:
        raise _error("An answer is for a question this job does not ask.", "unknown_question", "answers")
    answers = []
    for position, question in enumerate(questions, start=1):
        text = given.get(question.pk, "")
        if not text:
            raise _error(
                f"Answer question {position}: “{question.text}”.",
                "answer_required",
                "answers",
                question_id=question.pk,
            )
        if len(text) > ANSWER_MAX:
            raise _error(
                f"The answer to question {position} is limited to {ANSWER_MAX:,} characters.",
                "answer_too_long",
                "answers",
                question_id=question.pk,
            )
        answers.append(ProposalAnswer(question=question, text=text))
    item_ids = list(dict.fromkeys(int(pk) for pk in data.portfolio_item_ids or []))
    if len(item_ids) > MAX_PORTFOLIO_ITEMS:
        raise _error(
            f"Attach at most {MAX_PORTFOLIO_ITEMS} portfolio items.",
            "too_many_portfolio_items",
            "portfolio_items",
        )
    items = list(PortfolioItem.objects.filter(pk__in=item_ids, profile=profile))
    if len(items) != len(item_ids):
        raise _error(
            "Choose portfolio items from your own profile.", "invalid_portfolio_item", "portfolio_items"
        )
    uploads = list(data.attachments or [])
    if len(uploads) > MAX_ATTACHMENTS:
        raise _error(f"Attach at most {MAX_ATTACHMENTS} files.", "too_many_attachments", "attachments")
    for upload in uploads:  # checked before anything is written; stored once the proposal exists
        try:
            validate_file(upload, allowed=ATTACHMENT_KINDS, max_bytes=settings.PORTFOLIO_FILE_MAX_BYTES)
        except ApplicationError as error:
            raise _error(f"{safe_display_name(upload.name)}: {error.message}", error.code, "attachments")
    values.update(cover_letter=cover, _answers=answers, _items=items, _uploads=uploads)
    return values


# --- match score ---------------------------------------------------------------------------------


def _match(
    profile: FreelancerProfile, job: Job, hourly_rate_cents: int | None
) -> tuple[int | None, list[str]]:
    """Score the pair with jobs.matching, worded for the client; the bid counts as the rate."""
    now = timezone.now()
    freelancers = matching.load_freelancer_features(FreelancerProfile.objects.filter(pk=profile.pk), now=now)
    jobs = matching.load_job_features(Job.objects.filter(pk=job.pk), now=now)
    if not freelancers or not jobs:
        return None, []
    features = freelancers[0]
    if hourly_rate_cents is not None:
        features = replace(features, hourly_rate_cents=hourly_rate_cents)
    result = matching.score_pair(features, jobs[0], matching.cached_context())
    return result.score, list(result.talent_reasons)


# --- Connects --------------------------------------------------------------------------------------


def month_start(day: date | None = None) -> date:
    return (day or timezone.localdate()).replace(day=1)


def next_grant_date(day: date | None = None) -> date:
    """The first day of the month after ``day`` (today by default): the next monthly grant."""
    first = month_start(day)
    return (first + timedelta(days=32)).replace(day=1)


def connects_cost(job: Job) -> int:
    """Connects a proposal to ``job`` costs (before any invitation makes it free)."""
    costs = settings.CONNECTS_COST_BY_SIZE
    return int(costs.get(job.size, costs.get(Job.Size.MEDIUM, 4)))


def _monthly_key(user_id: int, month: date) -> str:
    return f"monthly:{user_id}:{month:%Y-%m}"


def _record(
    wallet: ConnectsWallet,
    *,
    kind: str,
    amount: int,
    key: str | None = None,
    proposal: Proposal | None = None,
    job: Job | None = None,
    note: str = "",
    actor: User | None = None,
) -> ConnectsTransaction | None:
    """Change the balance of ``wallet`` (locked by the caller) and log it.

    Returns None when ``key`` was applied before (a repeated grant or refund).
    """
    balance = wallet.balance + amount
    if balance < 0:
        raise ApplicationError(
            f"You need {-amount} Connects and have {wallet.balance}.",
            code="not_enough_connects",
            extra={"needed": -amount, "balance": wallet.balance},
        )
    try:
        with transaction.atomic():
            row = ConnectsTransaction.objects.create(
                wallet=wallet,
                kind=kind,
                amount=amount,
                balance_after=balance,
                proposal=proposal,
                job=job,
                note=note[:300],
                actor=actor,
                idempotency_key=key,
            )
    except IntegrityError:
        if key and ConnectsTransaction.objects.filter(idempotency_key=key).exists():
            return None
        raise
    wallet.balance = balance
    wallet.save(update_fields=["balance"])
    return row


def _grant_month(wallet: ConnectsWallet, month: date) -> ConnectsTransaction | None:
    """This month's grant for ``wallet`` (locked): tops the balance up by the monthly grant,
    to at most the rollover cap. Once per month; None when already granted or at the cap."""
    if wallet.last_monthly_grant is not None and wallet.last_monthly_grant >= month:
        return None
    room = max(0, settings.CONNECTS_ROLLOVER_CAP - wallet.balance)
    amount = min(settings.CONNECTS_MONTHLY_GRANT, room)
    row = None
    if amount > 0:
        row = _record(
            wallet,
            kind=ConnectsTransaction.Kind.MONTHLY_GRANT,
            amount=amount,
            key=_monthly_key(wallet.user_id, month),
            note=f"Monthly Connects for {month:%B %Y}",
        )
    wallet.last_monthly_grant = month
    wallet.save(update_fields=["last_monthly_grant"])
    return row


def _wallet_for_update(user_id: int, *, first_grant: bool = True) -> ConnectsWallet:
    """Lock the user's wallet, creating it the first time (with this month's grant unless
    ``first_grant`` is False: the caller grants a month itself)."""
    wallet = ConnectsWallet.objects.select_for_update().filter(user_id=user_id).first()
    if wallet is not None:
        return wallet
    try:
        with transaction.atomic():
            ConnectsWallet.objects.create(user_id=user_id)
    except IntegrityError:
        pass  # created meanwhile by a concurrent call (which granted its month)
    wallet = ConnectsWallet.objects.select_for_update().get(user_id=user_id)
    if first_grant:
        _grant_month(wallet, month_start())
    return wallet


@transaction.atomic
def connects_wallet_for(user: User) -> ConnectsWallet:
    """The user's wallet, created on first use with the current month's grant."""
    wallet = ConnectsWallet.objects.filter(user=user).first()
    if wallet is not None:
        return wallet
    return _wallet_for_update(user.pk)


@transaction.atomic
def connects_grant_monthly(*, user_id: int, month: date | None = None) -> ConnectsTransaction | None:
    """Grant ``user_id`` the Connects of ``month`` (the current one by default); a missing
    wallet is created. Idempotent: once per user and month (the wallet's
    ``last_monthly_grant`` under its lock, and the transaction's idempotency key). Returns
    None when nothing was granted (done before, or the balance is at the rollover cap)."""
    wallet = _wallet_for_update(user_id, first_grant=False)
    return _grant_month(wallet, month_start(month))


def connects_grant_monthly_all(*, today: date | None = None, batch_size: int = 500) -> int:
    """The beat task: this month's grant for every active freelancer not granted yet.

    Walks the users in primary-key batches, one short transaction each; safe to run twice
    and to resume after a crash. Returns the number of grants made.
    """
    month = month_start(today)
    due = (
        User.objects.filter(freelancer_profile__isnull=False, is_active=True, suspended_at__isnull=True)
        .exclude(connects_wallet__last_monthly_grant__gte=month)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    granted, last = 0, 0
    while True:
        ids = list(due.filter(pk__gt=last)[:batch_size])
        if not ids:
            return granted
        for user_id in ids:
            if connects_grant_monthly(user_id=user_id, month=month) is not None:
                granted += 1
        last = ids[-1]


@transaction.atomic
def connects_grant(*, actor: User, user_id: int, amount: int, note: str) -> ConnectsTransaction:
    """Staff add Connects to a freelancer's balance (goodwill, a support case). Not capped."""
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can grant Connects.")
    require_can_act(actor)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= STAFF_GRANT_MAX:
        raise _error(f"Grant between 1 and {STAFF_GRANT_MAX} Connects.", "invalid_amount", "amount")
    note = str(note or "").strip()
    if not note:
        raise _error("Say why the Connects are granted.", "note_required", "note")
    if len(note) > 300:
        raise _error("The note is limited to 300 characters.", "note_too_long", "note")
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFoundError("No such user.")
    if not FreelancerProfile.objects.filter(user=user).exists():
        raise ApplicationError(
            "Connects are for freelancers; this user has no freelancer profile.", code="not_freelancer"
        )
    wallet = _wallet_for_update(user.pk)
    row = _record(wallet, kind=ConnectsTransaction.Kind.ADMIN_GRANT, amount=amount, note=note, actor=actor)
    assert row is not None  # no idempotency key: always recorded
    _on_commit_notify(
        user,
        NotificationKind.ACCOUNT,
        f"The marketplace added {amount} Connects to your balance: {note}",
        reverse("proposals:connects"),
    )
    return row


def _refund(proposal: Proposal, *, note: str) -> ConnectsTransaction | None:
    """Give back the Connects spent on ``proposal``, once (idempotent per proposal). The caller
    holds the locks of the job and the wallet."""
    if not proposal.connects_spent:
        return None
    wallet = ConnectsWallet.objects.select_for_update().get(user_id=proposal.freelancer_id)
    return _record(
        wallet,
        kind=ConnectsTransaction.Kind.REFUND,
        amount=proposal.connects_spent,
        key=f"refund:proposal:{proposal.pk}",
        proposal=proposal,
        job=proposal.job,
        note=note,
    )


# --- buying Connects ------------------------------------------------------------------------------

CONNECTS_PURCHASE_PURPOSE = "connects_purchase"
_PURCHASE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class ConnectsPack:
    """A pack on sale: ``quantity`` Connects for ``price_cents`` (no client marketplace fee)."""

    quantity: int
    price_cents: int


@dataclass(frozen=True)
class ConnectsPurchase:
    """What ``connects_purchase`` did: ``status`` is the charge's, ``succeeded`` or ``reserved``
    (the provider did not answer: the Connects arrive when the payment completes)."""

    quantity: int
    price_cents: int
    charge: Charge
    status: str
    balance: int


def connects_packs() -> list[ConnectsPack]:
    price = int(settings.CONNECTS_PRICE_CENTS)
    return [ConnectsPack(quantity=int(q), price_cents=int(q) * price) for q in settings.CONNECTS_PACKS]


def new_purchase_key() -> str:
    """A random token the buy form carries: the same form sent twice is one payment."""
    return secrets.token_urlsafe(16)


def _purchase_quantity(value: Any) -> int:
    packs = [pack.quantity for pack in connects_packs()]
    quantity: int | None = None
    if not isinstance(value, bool):
        try:
            quantity = int(str(value).strip())
        except (TypeError, ValueError):
            quantity = None
    if quantity not in packs:
        listed = (
            ", ".join(str(q) for q in packs[:-1]) + f" or {packs[-1]}" if len(packs) > 1 else str(packs[0])
        )
        raise _error(f"Choose one of the packs: {listed} Connects.", "invalid_pack", "quantity", packs=packs)
    assert quantity is not None
    return quantity


def connects_purchase(
    *, actor: User, quantity: Any, purchase_key: str, payment_method_id: int | None = None
) -> ConnectsPurchase:
    """A freelancer buys a pack of Connects with a saved card (the default one unless
    ``payment_method_id`` names another).

    Call it OUTSIDE any transaction: ``payments.services.charge_create`` reserves, calls the
    gateway with no lock held and settles; the Connects are credited by
    ``connects_purchase_succeeded`` inside the settlement. One charge per pack and
    ``purchase_key``: sending the same form twice returns the same charge (one grant). A declined
    card raises ``ApplicationError`` with the gateway's message and grants nothing.
    """
    require_can_act(actor)
    if not FreelancerProfile.objects.filter(user=actor).exists():
        raise PermissionDeniedError(
            "Connects are for freelancers; switch to your freelancer profile to buy them.",
            code="not_freelancer",
        )
    amount = _purchase_quantity(quantity)
    key = str(purchase_key or "").strip()
    if not _PURCHASE_KEY_RE.fullmatch(key):
        raise _error("The purchase form expired; reload the page and try again.", "invalid_purchase_key")
    price = amount * int(settings.CONNECTS_PRICE_CENTS)
    charge = payments.charge_create(
        actor=actor,
        amount_cents=price,
        purpose=CONNECTS_PURCHASE_PURPOSE,
        reference=f"connects:{amount}:{key}",
        escrow_reference=f"connects:{actor.pk}",
        client_fee=False,
        description=f"{amount} Connects",
        payment_method_id=payment_method_id,
    )
    if charge.status == Charge.Status.FAILED:
        raise _error(
            charge.failure_message or "The payment failed.",
            "payment_failed",
            "payment_method",
            charge_id=charge.pk,
            failure_code=charge.failure_code,
        )
    balance = ConnectsWallet.objects.filter(user=actor).values_list("balance", flat=True).first() or 0
    return ConnectsPurchase(
        quantity=amount, price_cents=price, charge=charge, status=charge.status, balance=balance
    )


def _purchased_quantity(charge: Charge) -> int:
    """The pack of a Connects charge, from its reference ``connects:<quantity>:<key>``."""
    parts = charge.reference.split(":")
    if len(parts) != 3 or parts[0] != "connects" or not is_id(parts[1]) or int(parts[1]) <= 0:
        raise ValueError(f"not a Connects purchase reference: {charge.reference!r}")
    return int(parts[1])


def connects_purchase_succeeded(charge: Charge) -> None:
    """``payments`` settlement handler of ``connects_purchase`` (registered in apps.py). Runs
    inside the settlement transaction, the charge row locked and its entry posted: moves the
    money from the buyer's Connects escrow to platform revenue, credits the wallet (once per
    charge) and tells the buyer after commit."""
    quantity = _purchased_quantity(charge)
    ledger.post_entry(
        key=f"connects-revenue:{charge.pk}",
        memo=f"{quantity} Connects sold for {format_cents(charge.amount_cents)}",
        lines=[
            Line(ledger.escrow_account(charge.escrow_reference), -charge.amount_cents),
            Line(ledger.platform_account(AccountKind.PLATFORM_FEES), charge.amount_cents),
        ],
        purpose=CONNECTS_PURCHASE_PURPOSE,
        reference=charge.reference,
    )
    wallet = _wallet_for_update(charge.payer_id)
    row = _record(
        wallet,
        kind=ConnectsTransaction.Kind.PURCHASE,
        amount=quantity,
        key=f"purchase:{charge.pk}",
        note=f"Bought for {format_cents(charge.amount_cents)} (payment #{charge.pk})",
        actor=charge.payer,
    )
    if row is not None:
        _on_commit_notify(
            charge.payer,
            NotificationKind.PAYMENT,
            f"You bought {quantity} Connects for {format_cents(charge.amount_cents)}; "
            f"your balance is {row.balance_after}.",
            reverse("proposals:connects"),
        )


def _connects_refunded(refund: Refund) -> int:
    """How many of the pack ``refund`` pays back: the pack in proportion to the money
    refunded so far (succeeded refunds, this one included), less what earlier refunds
    covered, so partial refunds add up to the whole pack."""
    charge = refund.charge
    quantity = _purchased_quantity(charge)
    total = charge.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(n=Sum("amount_cents"))["n"] or 0
    before = max(0, total - refund.amount_cents)
    covered = quantity * before // charge.amount_cents
    now = quantity if total >= charge.amount_cents else quantity * total // charge.amount_cents
    return max(0, now - covered)


def connects_purchase_refunded(refund: Refund) -> None:
    """``payments`` handler of a refunded Connects charge (a staff refund, or one the provider
    confirmed by webhook; registered in apps.py). Runs inside the refund's settlement: takes
    back the Connects it pays for, as many as the wallet still holds (a wallet never goes
    below zero); those already spent are the shortfall, written in the transaction's note
    and logged. Once per refund (the transaction's key)."""
    charge = refund.charge
    due = _connects_refunded(refund)
    if due <= 0:
        return
    wallet = _wallet_for_update(charge.payer_id, first_grant=False)
    taken = min(due, wallet.balance)
    short = due - taken
    if short:
        log.warning(
            "Connects purchase %s refunded: %s of %s Connects already spent (user_id=%s)",
            charge.pk,
            short,
            due,
            charge.payer_id,
        )
    if taken:
        note = f"Payment #{charge.pk} refunded ({format_cents(refund.amount_cents)}): {taken} Connects taken back"
        if short:
            note += f"; {short} of the {due} were already spent"
        row = _record(
            wallet,
            kind=ConnectsTransaction.Kind.PURCHASE,
            amount=-taken,
            key=f"purchase-refund:{refund.pk}",
            note=note,
            actor=refund.requested_by,
        )
        if row is None:
            return
    text = f"{format_cents(refund.amount_cents)} of your Connects purchase was refunded to your card; "
    text += f"{taken} Connects were taken back" if taken else "no Connects were left to take back"
    if short and taken:
        text += f" ({short} were already spent)"
    _on_commit_notify(charge.payer, NotificationKind.PAYMENT, text + ".", reverse("proposals:connects"))


def connects_purchase_refund_failed(refund: Refund) -> None:
    """``payments`` handler: a Connects refund failed (possibly after it succeeded and the
    Connects were taken back): the buyer paid after all, so they get back what was taken."""
    taken_row = ConnectsTransaction.objects.filter(idempotency_key=f"purchase-refund:{refund.pk}").first()
    if taken_row is None:
        return
    wallet = _wallet_for_update(refund.charge.payer_id, first_grant=False)
    row = _record(
        wallet,
        kind=ConnectsTransaction.Kind.PURCHASE,
        amount=-taken_row.amount,
        key=f"purchase-refund-failed:{refund.pk}",
        note=f"The refund of payment #{refund.charge_id} failed: {-taken_row.amount} Connects given back",
    )
    if row is not None:
        _on_commit_notify(
            refund.charge.payer,
            NotificationKind.PAYMENT,
            f"The refund of your Connects purchase failed ({refund.failure_message}); "
            f"the {-taken_row.amount} Connects taken back are in your balance again.",
            reverse("proposals:connects"),
        )


# --- proposals: the freelancer ---------------------------------------------------------------------


def _store_attachments(proposal: Proposal, uploads: Sequence[UploadedFile], stored: list[Any]) -> None:
    for upload in uploads:
        content = process_file(upload, allowed=ATTACHMENT_KINDS, max_bytes=settings.PORTFOLIO_FILE_MAX_BYTES)
        attachment = ProposalAttachment(
            proposal=proposal, original_name=safe_display_name(upload.name), size_bytes=upload.size or 0
        )
        attachment.file.save(content.name or "attachment", content, save=False)
        stored.append(attachment.file)
        attachment.save()


def _active_invitation(job: Job, actor: User) -> tuple[Invitation | None, bool]:
    """The actor's invitation to ``job`` and whether it makes the proposal free.

    A pending invitation still in date is accepted as part of submitting (through the jobs
    service: it locks the invitation and counts the freelancer as interviewing).
    """
    invitation = Invitation.objects.filter(job=job, freelancer=actor).first()
    if invitation is None:
        return None, False
    if invitation.status == Invitation.Status.ACCEPTED:
        return invitation, True
    if invitation.status == Invitation.Status.PENDING and invitation.expires_at > timezone.now():
        return job_services.invitation_accept(actor=actor, invitation_id=invitation.pk), True
    return invitation, False


@transaction.atomic
def proposal_submit(*, actor: User, job_id: int, data: ProposalInput) -> Proposal:
    """Send a proposal to an open job; spends the job's Connects unless the freelancer was
    invited. Locks the job, then the freelancer's wallet."""
    profile = _require_freelancer(actor)
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFoundError("No such job.")
    if job.client_id == actor.pk:
        raise ApplicationError("You cannot send a proposal to your own job.", code="own_job")
    has_invitation = Invitation.objects.filter(job=job, freelancer=actor).exists()
    if job.visibility == Job.Visibility.INVITE_ONLY and not has_invitation:
        raise NotFoundError("No such job.")  # invite-only jobs are invisible to the uninvited
    if job.status != Job.Status.OPEN:
        raise ApplicationError(
            "This job is not accepting proposals.", code="job_not_open", extra={"status": job.status}
        )
    values = _validate_proposal(job, profile, data)
    agency_id = agencies.agency_for_proposal(actor=actor, agency_id=data.agency_id)
    invitation, free = _active_invitation(job, actor)
    if job.visibility == Job.Visibility.INVITE_ONLY and not free:
        assert invitation is not None
        raise ApplicationError(
            f"Your invitation to this job is {invitation.get_status_display().lower()}; "
            "invite-only jobs take proposals from invited freelancers.",
            code="invitation_not_active",
            extra={"invitation_status": invitation.status},
        )
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status != Job.Status.OPEN:  # closed while we were checking
        raise ApplicationError("This job is not accepting proposals.", code="job_not_open")
    already = (
        Proposal.objects.filter(
            job=job, freelancer=actor, status__in=[*Proposal.ACTIVE_STATUSES, Proposal.Status.HIRED]
        )
        .values_list("pk", flat=True)
        .first()
    )
    if already is not None:
        raise ApplicationError(
            "You already sent a proposal to this job; change its terms instead.",
            code="already_applied",
            extra={"proposal_id": already},
        )
    cost = 0 if free else connects_cost(job)
    wallet = _wallet_for_update(actor.pk) if cost else None
    if wallet is not None and wallet.balance < cost:
        raise ApplicationError(
            f"This proposal needs {cost} Connects and you have {wallet.balance}.",
            code="not_enough_connects",
            extra={"needed": cost, "balance": wallet.balance},
        )
    milestones = values.pop("_ms")
    answers = values.pop("_answers")
    items = values.pop("_items")
    uploads = values.pop("_uploads")
    score, reasons = _match(profile, job, values["hourly_rate_cents"])
    proposal = Proposal(
        job=job,
        freelancer=actor,
        invitation=invitation if free else None,
        agency_id=agency_id,
        connects_spent=cost,
        match_score=score,
        match_reasons=reasons,
        **values,
    )
    try:
        with transaction.atomic():
            proposal.save()
    except IntegrityError:  # the partial unique constraint: a concurrent submit won
        raise ApplicationError("You already sent a proposal to this job.", code="already_applied")
    for answer in answers:
        answer.proposal = proposal
    ProposalAnswer.objects.bulk_create(answers)
    for milestone in milestones:
        milestone.proposal = proposal
    ProposalMilestone.objects.bulk_create(milestones)
    if items:
        proposal.portfolio_items.set(items)
    stored: list[Any] = []
    try:
        _store_attachments(proposal, uploads, stored)
        if wallet is not None:
            _record(
                wallet,
                kind=ConnectsTransaction.Kind.SPEND,
                amount=-cost,
                key=f"spend:proposal:{proposal.pk}",
                proposal=proposal,
                job=job,
                note=f"Proposal to “{job.title}”"[:300],
            )
    except Exception:
        for stored_file in stored:  # the transaction rolls back: drop the files too
            stored_file.storage.delete(stored_file.name)
        raise
    ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        kind="submitted",
        to_status=Proposal.Status.SUBMITTED,
        data={"connects": cost, "invited": free},
    )
    job_services.job_counters_add(job_id=job.pk, proposals_count=1)
    _on_commit_notify(
        job.client,
        NotificationKind.PROPOSAL,
        f"New proposal from {actor.display_name} for “{job.title}”.",
        proposal_url(proposal),
        proposal,
    )
    return proposal


@transaction.atomic
def proposal_update_bid(*, actor: User, proposal_id: int, data: BidInput) -> Proposal:
    """Change the bid, the milestones and the duration of an open proposal (the cover letter
    stays as the client first read it)."""
    proposal = _own_proposal_for_update(actor, proposal_id)
    if not proposal.is_active:
        raise ApplicationError(
            f"A {proposal.get_status_display().lower()} proposal cannot be changed.",
            code="illegal_transition",
            extra={"from": proposal.status},
        )
    _refuse_while_offer_pending(proposal, "answer the offer instead of changing the bid")
    values = _validate_bid(proposal.job, data)
    milestones = values.pop("_ms")
    old = {
        "hourly_rate_cents": proposal.hourly_rate_cents,
        "fixed_amount_cents": proposal.fixed_amount_cents,
        "duration": proposal.duration,
        "milestones": _milestones_data(proposal.milestones.all()),
    }
    new = {**values, "milestones": _milestones_data(milestones)}
    if old == new:
        return proposal
    for name, value in values.items():
        setattr(proposal, name, value)
    if values["hourly_rate_cents"] is not None:
        profile = FreelancerProfile.objects.get(user_id=proposal.freelancer_id)
        proposal.match_score, proposal.match_reasons = _match(
            profile, proposal.job, values["hourly_rate_cents"]
        )
    proposal.save(update_fields=[*values, "match_score", "match_reasons", "updated_at"])
    proposal.milestones.all().delete()
    for milestone in milestones:
        milestone.proposal = proposal
    ProposalMilestone.objects.bulk_create(milestones)
    _log_event(proposal, actor=actor, kind="bid_changed", data={"old": old, "new": new})
    _on_commit_notify(
        proposal.job.client,
        NotificationKind.PROPOSAL,
        f"{actor.display_name} changed the terms of their proposal for “{proposal.job.title}”.",
        proposal_url(proposal),
        proposal,
    )
    return proposal


def _milestones_data(milestones: Any) -> list[dict[str, Any]]:
    return [
        {
            "description": m.description,
            "amount_cents": m.amount_cents,
            "due_date": m.due_date.isoformat() if m.due_date else None,
        }
        for m in milestones
    ]


def _counters_after_leaving(proposal: Proposal, old_status: str, *, withdrawn: bool) -> dict[str, int]:
    deltas: dict[str, int] = {}
    if old_status == Proposal.Status.SHORTLISTED:
        deltas["shortlisted_count"] = -1
    if withdrawn:
        deltas["proposals_count"] = -1
        if proposal.conversation_id:
            deltas["messaged_count"] = -1
        if proposal.conversation_id or proposal.invitation_id:
            deltas["interviewing_count"] = -1
    return deltas


@transaction.atomic
def proposal_withdraw(*, actor: User, proposal_id: int, reason: str, note: str = "") -> Proposal:
    """The freelancer takes the proposal back. Its Connects are not refunded."""
    if reason not in Proposal.WithdrawReason.values:
        raise _error("Choose why you are withdrawing.", "reason_required", "reason")
    note = _clean_note(note)
    proposal = _own_proposal_for_update(actor, proposal_id)
    if proposal.is_active:
        _refuse_while_offer_pending(proposal, "decline the offer instead")
    old = _transition(
        proposal, to=Proposal.Status.WITHDRAWN, actor=actor, kind="withdrawn", data={"reason": reason}
    )
    proposal.withdraw_reason, proposal.withdraw_note = reason, note
    proposal.save(
        update_fields=["status", "status_changed_at", "withdraw_reason", "withdraw_note", "updated_at"]
    )
    job_services.job_counters_add(
        job_id=proposal.job_id, **_counters_after_leaving(proposal, old, withdrawn=True)
    )
    _on_commit_notify(
        proposal.job.client,
        NotificationKind.PROPOSAL,
        f"{actor.display_name} withdrew their proposal for “{proposal.job.title}”.",
        reverse("proposals:job_proposals", kwargs={"public_id": proposal.job.public_id}),
    )
    return proposal


# --- proposals: the client ---------------------------------------------------------------------------


@transaction.atomic
def proposal_shortlist(*, actor: User, proposal_id: int) -> Proposal:
    proposal = _client_proposal_for_update(actor, proposal_id)
    _transition(proposal, to=Proposal.Status.SHORTLISTED, actor=actor, kind="shortlisted")
    proposal.save(update_fields=["status", "status_changed_at", "updated_at"])
    job_services.job_counters_add(job_id=proposal.job_id, shortlisted_count=1)
    _on_commit_notify(
        proposal.freelancer,
        NotificationKind.PROPOSAL,
        f"Your proposal for “{proposal.job.title}” was shortlisted.",
        proposal_url(proposal),
        proposal,
    )
    return proposal


@transaction.atomic
def proposal_unshortlist(*, actor: User, proposal_id: int) -> Proposal:
    proposal = _client_proposal_for_update(actor, proposal_id)
    if proposal.status != Proposal.Status.SHORTLISTED:
        raise ApplicationError(
            "Only a shortlisted proposal can be taken off the shortlist.",
            code="illegal_transition",
            extra={"from": proposal.status, "to": Proposal.Status.SUBMITTED},
        )
    _transition(proposal, to=Proposal.Status.SUBMITTED, actor=actor, kind="unshortlisted")
    proposal.save(update_fields=["status", "status_changed_at", "updated_at"])
    job_services.job_counters_add(job_id=proposal.job_id, shortlisted_count=-1)
    return proposal


def _set_archived(actor: User, proposal_id: int, archived: bool) -> Proposal:
    proposal = _client_proposal_for_update(actor, proposal_id)
    if proposal.archived == archived:
        raise ApplicationError(
            "This proposal is already archived." if archived else "This proposal is not archived.",
            code="illegal_transition",
            extra={"archived": proposal.archived},
        )
    proposal.archived = archived
    proposal.save(update_fields=["archived", "updated_at"])
    _log_event(proposal, actor=actor, kind="archived" if archived else "unarchived")
    return proposal


@transaction.atomic
def proposal_archive(*, actor: User, proposal_id: int) -> Proposal:
    """The client puts the proposal out of the way (a flag; the freelancer is not told)."""
    return _set_archived(actor, proposal_id, True)


@transaction.atomic
def proposal_unarchive(*, actor: User, proposal_id: int) -> Proposal:
    return _set_archived(actor, proposal_id, False)


CLIENT_DECLINE_REASONS = [
    c for c in Proposal.DeclineReason.choices if c[0] != Proposal.DeclineReason.JOB_CLOSED
]


@transaction.atomic
def proposal_decline(*, actor: User, proposal_id: int, reason: str, note: str = "") -> Proposal:
    """The client declines; the freelancer is told why. Connects are not refunded."""
    if reason not in Proposal.DeclineReason.values or reason == Proposal.DeclineReason.JOB_CLOSED:
        raise _error("Choose why you are declining.", "reason_required", "reason")
    note = _clean_note(note)
    proposal = _client_proposal_for_update(actor, proposal_id)
    if proposal.is_active:
        _refuse_while_offer_pending(proposal, "withdraw the offer first")
    old = _transition(
        proposal, to=Proposal.Status.DECLINED, actor=actor, kind="declined", data={"reason": reason}
    )
    proposal.decline_reason, proposal.decline_note = reason, note
    proposal.save(
        update_fields=["status", "status_changed_at", "decline_reason", "decline_note", "updated_at"]
    )
    job_services.job_counters_add(
        job_id=proposal.job_id, **_counters_after_leaving(proposal, old, withdrawn=False)
    )
    label = Proposal.DeclineReason(reason).label
    _on_commit_notify(
        proposal.freelancer,
        NotificationKind.PROPOSAL,
        f"Your proposal for “{proposal.job.title}” was declined: {label}.",
        proposal_url(proposal),
        proposal,
    )
    return proposal


@transaction.atomic
def proposal_message(*, actor: User, proposal_id: int, text: str) -> Proposal:
    """The client writes to the freelancer about the proposal: the first message opens the
    interview conversation (stored on the proposal) and counts the proposal as messaged."""
    body = str(text or "").strip()
    if not body:
        raise _error("Write a message.", "message_required", "text")
    if len(body) > MESSAGE_MAX:
        raise _error(f"The message is limited to {MESSAGE_MAX:,} characters.", "message_too_long", "text")
    proposal = _client_proposal_for_update(actor, proposal_id)
    if proposal.status not in (*Proposal.ACTIVE_STATUSES, Proposal.Status.HIRED):
        raise ApplicationError(
            f"This proposal is {proposal.get_status_display().lower()}; it can no longer be discussed here.",
            code="illegal_transition",
            extra={"from": proposal.status},
        )
    first = proposal.conversation_id is None
    if first:
        conversation = messaging.conversation_get_or_create_for_subject(
            subject=proposal,
            # a teammate writes for the client, who is in the conversation too
            participants=[actor, proposal.freelancer, proposal.job.client],
            title=f"Interview: {proposal.job.title}"[:200],
        )
        proposal.conversation = conversation
        proposal.save(update_fields=["conversation", "updated_at"])
        _log_event(proposal, actor=actor, kind="messaged", data={"conversation": conversation.pk})
        deltas = {"messaged_count": 1}
        if proposal.invitation_id is None:  # an accepted invitation already counts as interviewing
            deltas["interviewing_count"] = 1
        job_services.job_counters_add(job_id=proposal.job_id, **deltas)
        _on_commit_notify(
            proposal.freelancer,
            NotificationKind.PROPOSAL,
            f"{actor.display_name} wants to talk about your proposal for “{proposal.job.title}”.",
            reverse("messaging:conversation", kwargs={"conversation_id": conversation.pk}),
            proposal,
        )
    assert proposal.conversation_id is not None
    if not first and actor.pk != proposal.job.client_id:  # a teammate who has not joined yet
        teams.conversation_join_for_job(actor=actor, job=proposal.job, conversation=proposal.conversation)
    messaging.message_send(actor=actor, conversation_id=proposal.conversation_id, body=body)
    return proposal


def proposal_mark_viewed(*, actor: User, proposal: Proposal) -> None:
    """The client opened the proposal: the freelancer sees when it was first viewed."""
    if proposal.job.client_id == actor.pk and proposal.client_viewed_at is None:
        now = timezone.now()
        Proposal.objects.filter(pk=proposal.pk, client_viewed_at__isnull=True).update(client_viewed_at=now)
        proposal.client_viewed_at = now


# --- when a job closes --------------------------------------------------------------------------------


def proposals_job_closed(*, job: Job, actor: User | None, removed_by_staff: bool) -> None:
    """Called (through ``jobs.signals.job_closed``) inside the transaction that closes or removes
    ``job``, whose row it holds locked.

    Active proposals become declined (job closed) and their freelancers are told; a proposal
    with a pending offer stays while the client closes the job (the offer decides), not when
    staff remove it. Connects come back when the client closes without a hire (to everyone who
    paid and did not withdraw) and always when staff remove the job (to everyone who paid).
    """
    refund = removed_by_staff or job.hires_count == 0
    proposals = list(
        Proposal.objects.select_for_update().filter(job=job).select_related("freelancer").order_by("pk")
    )
    paid = [
        p
        for p in proposals
        if p.connects_spent and (removed_by_staff or p.status != Proposal.Status.WITHDRAWN)
    ]
    shortlisted = 0
    for proposal in proposals:
        proposal.job = job
        if not proposal.is_active or (proposal.offer_pending and not removed_by_staff):
            continue
        old = _transition(
            proposal,
            to=Proposal.Status.DECLINED,
            actor=actor,
            kind="declined",
            data={"reason": Proposal.DeclineReason.JOB_CLOSED, "removed_by_staff": removed_by_staff},
        )
        shortlisted += old == Proposal.Status.SHORTLISTED
        proposal.decline_reason = Proposal.DeclineReason.JOB_CLOSED
        proposal.offer_pending = False
        proposal.save(
            update_fields=["status", "status_changed_at", "decline_reason", "offer_pending", "updated_at"]
        )
        _on_commit_notify(
            proposal.freelancer,
            NotificationKind.PROPOSAL,
            f"“{job.title}” was {'removed' if removed_by_staff else 'closed'}; your proposal is closed.",
            proposal_url(proposal),
            proposal,
        )
    if shortlisted:
        job_services.job_counters_add(job_id=job.pk, shortlisted_count=-shortlisted)
    if not refund or not paid:
        return
    # lock the wallets in primary-key order (they exist: each of these spent Connects)
    list(
        ConnectsWallet.objects.select_for_update()
        .filter(user_id__in={p.freelancer_id for p in paid})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    why = "removed by staff" if removed_by_staff else "closed without a hire"
    for proposal in paid:
        row = _refund(proposal, note=f"Refund: “{job.title}” was {why}"[:300])
        if row is not None:
            _on_commit_notify(
                proposal.freelancer,
                NotificationKind.PROPOSAL,
                f"{row.amount} Connects refunded: “{job.title}” was {why}.",
                reverse("proposals:connects"),
            )


# --- hooks for contracts (contracts -> proposals; proposals never imports contracts) --------


@transaction.atomic
def proposal_mark_offered(*, proposal_id: int, pending: bool) -> Proposal:
    """Contracts: an offer made from this proposal is pending (True) or no longer (False)."""
    proposal = _proposal_for_update(proposal_id)
    if pending and not proposal.is_active:
        raise ApplicationError(
            f"An offer needs an active proposal; this one is {proposal.get_status_display().lower()}.",
            code="illegal_transition",
            extra={"from": proposal.status},
        )
    if proposal.offer_pending != pending:
        proposal.offer_pending = pending
        proposal.save(update_fields=["offer_pending", "updated_at"])
    return proposal


@transaction.atomic
def proposal_mark_hired(*, proposal_id: int, actor=None) -> Proposal:
    """Contracts: the offer made from this proposal was accepted; the job counts a hire."""
    proposal = _proposal_for_update(proposal_id)
    if Proposal.Status.HIRED not in Proposal.TRANSITIONS[proposal.status]:
        raise ApplicationError(
            f"This proposal is {proposal.get_status_display().lower()} and cannot be hired.",
            code="illegal_transition",
            extra={"from": proposal.status, "to": Proposal.Status.HIRED},
        )
    was_shortlisted = proposal.status == Proposal.Status.SHORTLISTED
    ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        kind="hired",
        from_status=proposal.status,
        to_status=Proposal.Status.HIRED,
    )
    proposal.status = Proposal.Status.HIRED
    proposal.offer_pending = False
    proposal.status_changed_at = timezone.now()
    proposal.save(update_fields=["status", "offer_pending", "status_changed_at", "updated_at"])
    job_services.job_counters_add(
        job_id=proposal.job_id, hires_count=1, **({"shortlisted_count": -1} if was_shortlisted else {})
    )
    return proposal
