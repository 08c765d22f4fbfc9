"""Reads of reviews, scoped to who may see what.

Visibility, in one place:

- a review is *public* (``visible_q``) once it is revealed and not hidden by staff: profiles,
  the job page, the API list for a user and the reputation figures read only those;
- its author always sees their own review, private parts included;
- the reviewed party sees it once revealed (never the private note nor the recommend score);
- staff see everything in the admin.

The private note and the recommend score never leave this app except to their author and
to staff; the public cards (``ReviewCard``) do not carry them at all.

Also here: the feedback window (derived from ended contracts, which know nothing of reviews),
the list of feedback a user still owes, and what a contract page shows about feedback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts import moderation
from accounts.models import User
from contracts.models import Contract, ContractBonus, Milestone, Timesheet
from marketplace.errors import NotFoundError
from marketplace.ids import as_id

from .models import Review

# timesheets whose hours count as worked and billed (charged, paid, or decided)
BILLED_TIMESHEETS = (
    Timesheet.Status.IN_REVIEW,
    Timesheet.Status.DISPUTED,
    Timesheet.Status.RELEASED,
    Timesheet.Status.RESOLVED,
)


def window_days() -> int:
    return int(getattr(settings, "REVIEW_WINDOW_DAYS", 14))


def reply_days() -> int:
    return int(getattr(settings, "REVIEW_REPLY_DAYS", 28))


def window_ends_at(contract: Contract) -> datetime | None:
    """When the feedback window of an ended contract closes (None: not ended)."""
    if contract.ended_at is None:
        return None
    return contract.ended_at + timedelta(days=window_days())


def window_is_open(contract: Contract, now: datetime | None = None) -> bool:
    ends = window_ends_at(contract)
    return contract.status == Contract.Status.ENDED and ends is not None and (now or timezone.now()) < ends


def reply_ends_at(review: Review) -> datetime | None:
    if review.revealed_at is None:
        return None
    return review.revealed_at + timedelta(days=reply_days())


def can_reply(review: Review, user: Any, now: datetime | None = None) -> bool:
    """The reviewed party may answer a public review once, within the reply window."""
    ends = reply_ends_at(review)
    return (
        getattr(user, "pk", None) == review.reviewee_id
        and review.is_visible
        and not review.replied_at
        and ends is not None
        and (now or timezone.now()) < ends
    )


def direction_for(contract: Contract, reviewer: Any) -> str | None:
    role = contract.party_role(reviewer)
    if role == "client":
        return Review.Direction.CLIENT_TO_FREELANCER
    if role == "freelancer":
        return Review.Direction.FREELANCER_TO_CLIENT
    return None


def categories_for(direction: str) -> tuple[tuple[str, str], ...]:
    """The categories a review in ``direction`` rates (about a freelancer or a client)."""
    if direction == Review.Direction.CLIENT_TO_FREELANCER:
        return Review.FREELANCER_CATEGORIES
    return Review.CLIENT_CATEGORIES


# --- public reviews --------------------------------------------------------------------------------


def visible_q(prefix: str = "") -> Q:
    """Revealed and not hidden: what the public, the reviewee and the figures see."""
    return Q(**{f"{prefix}revealed_at__isnull": False, f"{prefix}hidden_at__isnull": True})


def visible_reviews() -> QuerySet[Review]:
    return Review.objects.filter(visible_q())


def reviews_received(
    *, user_id: int, direction: str | None = None, since: datetime | None = None
) -> QuerySet[Review]:
    """The public reviews about ``user_id`` (as freelancer, as client, or both), newest
    revealed first. The base of the reputation figures (``reviews.reputation``)."""
    qs = visible_reviews().filter(reviewee_id=user_id)
    if direction:
        qs = qs.filter(direction=direction)
    if since is not None:
        qs = qs.filter(revealed_at__gte=since)
    return qs.order_by("-revealed_at", "-id")


def rating_summary(*, user_id: int, direction: str) -> tuple[Decimal | None, int]:
    """(average overall rating rounded to 2 places or None, number of public reviews)."""
    agg = reviews_received(user_id=user_id, direction=direction).aggregate(avg=Avg("rating"), n=Count("pk"))
    if not agg["n"]:
        return None, 0
    avg = Decimal(str(agg["avg"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return avg, int(agg["n"])


@dataclass
class ReviewCard:
    """One public review as profiles, the job page and the API show it: no private parts."""

    id: int
    direction: str
    rating: int
    categories: list[tuple[str, int]]  # (label, score)
    public_comment: str
    reviewer_name: str
    reviewee_name: str
    contract_id: int
    contract_title: str
    contract_type: str
    started_at: datetime
    ended_at: datetime | None
    revealed_at: datetime
    reply: str
    replied_at: datetime | None
    earned_cents: int | None = None  # fixed: released to the freelancer (and bonuses)
    hours: Decimal | None = None  # hourly: billed hours
    rate_cents: int | None = None  # hourly: the contract's rate
    currency: str = "USD"
    can_reply: bool = False  # for the viewer
    can_report: bool = False  # for the viewer: signed in, not its author, not replying to it

    @property
    def stars(self) -> range:
        return range(self.rating)


def _fixed_earnings(contract_ids: list[int]) -> dict[int, int]:
    released = (
        Milestone.objects.filter(contract_id__in=contract_ids, released_at__isnull=False)
        .values("contract_id")
        .annotate(funded=Sum("funded_cents"), refunded=Sum("refunded_cents"))
    )
    totals = {row["contract_id"]: int(row["funded"] or 0) - int(row["refunded"] or 0) for row in released}
    bonuses = (
        ContractBonus.objects.filter(contract_id__in=contract_ids, status=ContractBonus.Status.PAID)
        .values("contract_id")
        .annotate(total=Sum("amount_cents"))
    )
    for row in bonuses:
        totals[row["contract_id"]] = totals.get(row["contract_id"], 0) + int(row["total"] or 0)
    return totals


def _billed_minutes(contract_ids: list[int]) -> dict[int, int]:
    rows = (
        Timesheet.objects.filter(contract_id__in=contract_ids, status__in=BILLED_TIMESHEETS)
        .values("contract_id")
        .annotate(minutes=Sum("billed_minutes"))
    )
    return {row["contract_id"]: int(row["minutes"] or 0) for row in rows}


def review_cards(reviews: list[Review], viewer: Any = None) -> list[ReviewCard]:
    """Public cards for ``reviews`` (fetched with contract, reviewer and reviewee), with the
    contract's earnings: three queries whatever the number of reviews."""
    fixed_ids = [r.contract_id for r in reviews if r.contract.is_fixed]
    hourly_ids = [r.contract_id for r in reviews if r.contract.is_hourly]
    earned = _fixed_earnings(fixed_ids) if fixed_ids else {}
    minutes = _billed_minutes(hourly_ids) if hourly_ids else {}
    now = timezone.now()
    cards = []
    for r in reviews:
        labels = dict(categories_for(r.direction))
        contract = r.contract
        card = ReviewCard(
            id=r.pk,
            direction=r.direction,
            rating=r.rating,
            categories=[(labels[k], int(v)) for k, v in (r.categories or {}).items() if k in labels],
            public_comment=r.public_comment,
            reviewer_name=r.reviewer.display_name,
            reviewee_name=r.reviewee.display_name,
            contract_id=contract.pk,
            contract_title=contract.title,
            contract_type=contract.contract_type,
            started_at=contract.started_at,
            ended_at=contract.ended_at,
            revealed_at=r.revealed_at,  # type: ignore[arg-type]
            reply=r.reply,
            replied_at=r.replied_at,
            currency=contract.currency,
            can_reply=can_reply(r, viewer, now),
        )
        # the moderation queue's rule (not its author); a reviewee who may still reply
        # sees the reply box instead
        card.can_report = not card.can_reply and moderation.can_report(r, viewer)
        if contract.is_fixed:
            card.earned_cents = earned.get(contract.pk, 0)
        else:
            billed = minutes.get(contract.pk, 0)
            card.hours = (Decimal(billed) / 60).quantize(Decimal("0.01")) if billed else None
            card.rate_cents = contract.hourly_rate_cents
        cards.append(card)
    return cards


def _with_parties(qs: QuerySet[Review]) -> QuerySet[Review]:
    return qs.select_related("contract", "reviewer", "reviewee")


def review_cards_for_user(
    *, user_id: int, direction: str | None = None, limit: int = 20, viewer: Any = None
) -> list[ReviewCard]:
    """The latest public reviews about ``user_id``, as cards."""
    reviews = list(_with_parties(reviews_received(user_id=user_id, direction=direction))[:limit])
    return review_cards(reviews, viewer)


def client_recent_reviews(*, client_id: int, limit: int = 5) -> list[ReviewCard]:
    """What freelancers said about a client, for the client's job posts."""
    return review_cards_for_user(
        user_id=client_id, direction=Review.Direction.FREELANCER_TO_CLIENT, limit=limit
    )


def freelancer_recent_reviews(*, freelancer_id: int, limit: int = 10, viewer: Any = None) -> list[ReviewCard]:
    """What clients said about a freelancer, for the profile page."""
    return review_cards_for_user(
        user_id=freelancer_id, direction=Review.Direction.CLIENT_TO_FREELANCER, limit=limit, viewer=viewer
    )


def review_get_visible(*, review_id: Any) -> Review:
    pk = as_id(review_id) or 0
    review = _with_parties(visible_reviews()).filter(pk=pk).first()
    if review is None:
        raise NotFoundError("No such review.", code="review_not_found")
    return review


def review_get_for_party(*, review_id: Any, viewer: Any) -> Review:
    """A review its author may see at any time, and its reviewee once public; else 404."""
    pk = as_id(review_id) or 0
    review = None
    if pk and getattr(viewer, "is_authenticated", False):
        review = (
            _with_parties(Review.objects.all())
            .filter(pk=pk)
            .filter(Q(reviewer=viewer) | (Q(reviewee=viewer) & visible_q()))
            .first()
        )
    if review is None:
        raise NotFoundError("No such review.", code="review_not_found")
    return review


# --- feedback owed -----------------------------------------------------------------------------------


@dataclass
class PendingFeedback:
    contract: Contract
    role: str  # the viewer's side
    other_party: User
    window_ends_at: datetime
    other_submitted: bool  # the other side has left theirs (hidden until yours or the window)


def _open_window_contracts(now: datetime) -> QuerySet[Contract]:
    return Contract.objects.filter(
        status=Contract.Status.ENDED, ended_at__gt=now - timedelta(days=window_days())
    )


def pending_feedback_for_user(*, user: Any, now: datetime | None = None) -> list[PendingFeedback]:
    """Ended contracts whose window is open and that ``user`` has not reviewed yet, the
    closest deadline first. Two queries."""
    if not getattr(user, "is_authenticated", False):
        return []
    now = now or timezone.now()
    mine = Review.objects.filter(contract=OuterRef("pk"), reviewer=user)
    theirs = Review.objects.filter(contract=OuterRef("pk")).exclude(reviewer=user)
    contracts = (
        _open_window_contracts(now)
        .filter(Q(client=user) | Q(freelancer=user))
        .annotate(mine=Exists(mine), theirs=Exists(theirs))
        .filter(mine=False)
        .select_related("client", "freelancer")
        .order_by("ended_at", "pk")
    )
    items = []
    for c in contracts:
        is_client = c.client_id == user.pk
        items.append(
            PendingFeedback(
                contract=c,
                role="client" if is_client else "freelancer",
                other_party=c.freelancer if is_client else c.client,
                window_ends_at=window_ends_at(c),  # type: ignore[arg-type]
                other_submitted=bool(c.theirs),  # type: ignore[attr-defined]
            )
        )
    return items


def contracts_awaiting_request(*, now: datetime | None = None) -> QuerySet[Contract]:
    """Ended contracts still in their window where a side has neither reviewed nor been
    asked yet: the work of the feedback-request task. A side counts as asked when it has a
    review notification about the contract (see ``services.feedback_requests_send``), so
    the set shrinks as the task works through it."""
    from django.contrib.contenttypes.models import ContentType

    from messaging.models import Notification, NotificationKind

    now = now or timezone.now()
    ct = ContentType.objects.get_for_model(Contract)

    def asked(side: str) -> Exists:
        return Exists(
            Notification.objects.filter(
                kind=NotificationKind.REVIEW,
                subject_type=ct,
                subject_id=OuterRef("pk"),
                recipient=OuterRef(side),
            )
        )

    def reviewed(side: str) -> Exists:
        return Exists(Review.objects.filter(contract=OuterRef("pk"), reviewer=OuterRef(side)))

    return (
        _open_window_contracts(now)
        .filter((~asked("client") & ~reviewed("client")) | (~asked("freelancer") & ~reviewed("freelancer")))
        .select_related("client", "freelancer")
        .order_by("pk")
    )


def reviews_due_for_reveal(*, now: datetime | None = None) -> QuerySet[Review]:
    """Hidden reviews whose contract's window has closed: the reveal task reveals them."""
    now = now or timezone.now()
    return Review.objects.filter(
        revealed_at__isnull=True, contract__ended_at__lte=now - timedelta(days=window_days())
    ).order_by("pk")


# --- a contract's feedback, for its page ---------------------------------------------------------------


@dataclass
class ContractFeedback:
    contract: Contract
    role: str
    window_ends_at: datetime | None
    window_open: bool
    mine: Review | None  # the viewer's own review, private parts included
    theirs: Review | None  # the other side's, only once revealed and not hidden
    other_submitted: bool
    their_card: ReviewCard | None = None
    my_card: ReviewCard | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def can_submit(self) -> bool:
        return self.mine is None and self.window_open

    @property
    def can_reply(self) -> bool:
        return self.theirs is not None and can_reply(self.theirs, self._viewer)

    _viewer: Any = None


def contract_feedback(*, contract: Contract, viewer: Any) -> ContractFeedback | None:
    """What the contract page shows about feedback to ``viewer`` (a party), or None when
    the contract has not ended or the viewer is not a party."""
    role = contract.party_role(viewer)
    if role is None or contract.status != Contract.Status.ENDED:
        return None
    reviews = list(_with_parties(Review.objects.filter(contract=contract)))
    mine = next((r for r in reviews if r.reviewer_id == viewer.pk), None)
    other = next((r for r in reviews if r.reviewer_id != viewer.pk), None)
    theirs = other if other is not None and other.is_visible else None
    feedback = ContractFeedback(
        contract=contract,
        role=role,
        window_ends_at=window_ends_at(contract),
        window_open=window_is_open(contract),
        mine=mine,
        theirs=theirs,
        other_submitted=other is not None,
    )
    feedback._viewer = viewer
    public = [r for r in (mine, theirs) if r is not None and r.is_visible]
    cards = {c.id: c for c in review_cards(public, viewer)} if public else {}
    if theirs is not None:
        feedback.their_card = cards.get(theirs.pk)
    if mine is not None:
        feedback.my_card = cards.get(mine.pk)
    return feedback
