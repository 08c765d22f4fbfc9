"""Service catalog ("projects"): a freelancer publishes a packaged service with three tiers,
staff review it, a client buys a tier (plus add-ons) in one click.

No second money path: buying creates a fixed-price contract with one milestone of the
order's amount (``contracts.services.contract_create_for_order``) and every money move is a
``contracts.escrow`` call on that milestone: pay = ``milestone_fund``, deliver =
``milestone_submit``, revision = ``milestone_request_changes``, approve = ``milestone_approve``
(or the contracts auto-approval task), cancel = ``contract_end`` (whose end refunds send the
escrow back). The order's status mirrors the milestone where contracts moves it on its own
(funding settled by a webhook, auto-approval, refunds): ``order_sync`` reads the milestone
and catches up; the beat task ``jobs.sweep_service_orders`` runs it with the requirements
timeout.

This module imports ``contracts`` (a reversal of the usual jobs <- contracts direction), so
it is imported only by views, the API, tasks and admin, never by ``jobs.models`` or
``jobs.services``.

Lock order: the order row, then whatever contracts locks (contract, milestone, ledger).
Gateway calls (fund, refunds) run outside our transactions, as contracts requires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Category, ClientProfile, FreelancerProfile, Skill, Subcategory, User
from accounts.services import require_can_act
from contracts import escrow
from contracts import services as contract_services
from contracts.models import Contract, Milestone
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError, field_error
from marketplace.money import format_cents
from marketplace.uploads import process_image, random_name
from messaging import services as messaging
from messaging.models import NotificationKind

from .models import (
    ServiceAddOn,
    ServiceImage,
    ServiceListing,
    ServiceListingEvent,
    ServiceOrder,
    ServiceOrderEvent,
    ServiceRequirement,
    ServiceTier,
)

log = logging.getLogger(__name__)

REQUIREMENTS_WINDOW = timedelta(hours=48)
TITLE_MIN, TITLE_MAX = 10, 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 30, 5000
MIN_PRICE_CENTS, MAX_PRICE_CENTS = 500, 5_000_000  # $5 .. $50,000 per tier
MAX_DELIVERY_DAYS = 90
MAX_REVISIONS = 10
MAX_QUESTIONS = 5
MAX_SKILLS = 10
MAX_IMAGES = 6
IMAGE_MAX_BYTES = 5 * 1024 * 1024
ANSWER_MAX = 2000
REASON_MAX = 500
TIER_ORDER = [ServiceTier.Name.STARTER, ServiceTier.Name.STANDARD, ServiceTier.Name.ADVANCED]

# --- inputs -----------------------------------------------------------------------------------------


@dataclass
class TierInput:
    price_cents: int
    delivery_days: int
    revisions: int
    included: str


@dataclass
class ListingInput:
    """A service's editable content (amounts in cents). ``tiers`` maps starter, standard,
    advanced to their terms; add-ons are off when their price is None."""

    title: str
    category_id: int
    description: str
    tiers: dict[str, TierInput]
    subcategory_id: int | None = None
    skill_ids: list[int] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    fast_delivery_price_cents: int | None = None
    fast_delivery_days_less: int = 0
    extra_revision_price_cents: int | None = None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFoundError("No such service.")


def _validate_tier(name: str, tier: TierInput | None) -> TierInput:
    label = ServiceTier.Name(name).label
    if tier is None:
        raise field_error(f"{label}: give the tier's terms.", "tier_required", f"{name}_price")
    if not _is_int(tier.price_cents) or not MIN_PRICE_CENTS <= tier.price_cents <= MAX_PRICE_CENTS:
        raise field_error(
            f"{label}: the price must be between {format_cents(MIN_PRICE_CENTS)} and "
            f"{format_cents(MAX_PRICE_CENTS)}.",
            "price_out_of_range",
            f"{name}_price",
        )
    if not _is_int(tier.delivery_days) or not 1 <= tier.delivery_days <= MAX_DELIVERY_DAYS:
        raise field_error(
            f"{label}: delivery takes 1 to {MAX_DELIVERY_DAYS} days.", "delivery_out_of_range", f"{name}_days"
        )
    if not _is_int(tier.revisions) or not 0 <= tier.revisions <= MAX_REVISIONS:
        raise field_error(
            f"{label}: between 0 and {MAX_REVISIONS} revisions.",
            "revisions_out_of_range",
            f"{name}_revisions",
        )
    included = str(tier.included or "").strip()
    if not included or len(included) > 1000:
        raise field_error(
            f"{label}: say what is included (up to 1,000 characters).",
            "included_required",
            f"{name}_included",
        )
    return TierInput(tier.price_cents, tier.delivery_days, tier.revisions, included)


def _validate_listing(data: ListingInput) -> dict[str, Any]:
    title = str(data.title or "").strip()
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise field_error(f"The title needs {TITLE_MIN} to {TITLE_MAX} characters.", "title_length", "title")
    description = str(data.description or "").strip()
    if not DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX:
        raise field_error(
            f"The description needs {DESCRIPTION_MIN} to {DESCRIPTION_MAX:,} characters.",
            "description_length",
            "description",
        )
    category = Category.objects.filter(pk=data.category_id).first() if _is_int(data.category_id) else None
    if category is None:
        raise field_error("Choose a category.", "category_required", "category")
    subcategory = None
    if data.subcategory_id is not None:
        subcategory = Subcategory.objects.filter(pk=data.subcategory_id, category=category).first()
        if subcategory is None:
            raise field_error("Choose a specialty of the category.", "subcategory_invalid", "subcategory")
    ids = list(dict.fromkeys(data.skill_ids or []))
    if len(ids) > MAX_SKILLS or not all(_is_int(i) for i in ids):
        raise field_error(f"Choose up to {MAX_SKILLS} skills.", "too_many_skills", "skills")
    skills = list(Skill.objects.filter(pk__in=ids))
    tiers = {name: _validate_tier(name, (data.tiers or {}).get(name)) for name in TIER_ORDER}
    prices = [tiers[name].price_cents for name in TIER_ORDER]
    if prices != sorted(prices):
        raise field_error(
            "Each tier must cost at least as much as the one before it.",
            "tiers_out_of_order",
            "standard_price",
        )
    questions = [str(q or "").strip() for q in data.questions or []]
    questions = [q for q in questions if q]
    if len(questions) > MAX_QUESTIONS or any(len(q) > 300 for q in questions):
        raise field_error(
            f"Ask up to {MAX_QUESTIONS} questions of up to 300 characters.", "too_many_questions", "questions"
        )
    addons: list[ServiceAddOn] = []
    fast = data.fast_delivery_price_cents
    if fast is not None:
        if not _is_int(fast) or not MIN_PRICE_CENTS <= fast <= MAX_PRICE_CENTS:
            raise field_error(
                "Extra fast delivery: give a price of at least $5.", "price_out_of_range", "fast_price"
            )
        fastest = min(t.delivery_days for t in tiers.values())
        less = data.fast_delivery_days_less
        if not _is_int(less) or not 1 <= less < fastest:
            raise field_error(
                f"Extra fast delivery saves 1 to {fastest - 1} days (every tier must still take a day).",
                "days_less_out_of_range",
                "fast_days_less",
            )
        addons.append(ServiceAddOn(kind=ServiceAddOn.Kind.FAST_DELIVERY, price_cents=fast, days_less=less))
    extra = data.extra_revision_price_cents
    if extra is not None:
        if not _is_int(extra) or not MIN_PRICE_CENTS <= extra <= MAX_PRICE_CENTS:
            raise field_error(
                "Extra revision: give a price of at least $5.", "price_out_of_range", "revision_price"
            )
        addons.append(ServiceAddOn(kind=ServiceAddOn.Kind.EXTRA_REVISION, price_cents=extra))
    return {
        "title": title,
        "description": description,
        "category": category,
        "subcategory": subcategory,
        "skills": skills,
        "tiers": tiers,
        "questions": questions,
        "addons": addons,
    }


# --- listings: the freelancer ------------------------------------------------------------------------


def _require_freelancer(actor: User) -> None:
    require_can_act(actor)
    if not FreelancerProfile.objects.filter(user=actor).exists():
        raise PermissionDeniedError("Switch to freelancing to sell services.", code="not_freelancer")


def _listing_transition(listing: ServiceListing, *, to: str, actor: User | None, note: str = "") -> None:
    if to not in ServiceListing.TRANSITIONS[listing.status]:
        raise ApplicationError(
            f"A service that is {listing.get_status_display().lower()} cannot become "
            f"{ServiceListing.Status(to).label.lower()}.",
            code="illegal_transition",
            extra={"from": listing.status, "to": to},
        )
    ServiceListingEvent.objects.create(
        listing=listing, actor=actor, from_status=listing.status, to_status=to, note=note
    )
    listing.status = to


def _own_listing_for_update(actor: User, listing_id: Any) -> ServiceListing:
    listing = (
        ServiceListing.objects.select_for_update(no_key=True)
        .filter(pk=_pk(listing_id), freelancer=actor)
        .first()
    )
    if listing is None:
        raise NotFoundError("No such service.")
    return listing


def _write_content(listing: ServiceListing, values: dict[str, Any]) -> None:
    for name in ("title", "description", "category", "subcategory"):
        setattr(listing, name, values[name])
    tiers: dict[str, TierInput] = values["tiers"]
    listing.min_price_cents = min(t.price_cents for t in tiers.values())
    listing.min_delivery_days = min(t.delivery_days for t in tiers.values())
    listing.save()
    listing.skills.set(values["skills"])
    for name, tier in tiers.items():
        ServiceTier.objects.update_or_create(
            listing=listing,
            name=name,
            defaults={
                "price_cents": tier.price_cents,
                "delivery_days": tier.delivery_days,
                "revisions": tier.revisions,
                "included": tier.included,
            },
        )
    # Orders keep pointing at their add-on rows: update in place, delete only unused kinds.
    wanted = {addon.kind: addon for addon in values["addons"]}
    for addon in ServiceAddOn.objects.filter(listing=listing):
        if addon.kind not in wanted and not ServiceOrder.objects.filter(addons=addon).exists():
            addon.delete()
    for kind, addon in wanted.items():
        ServiceAddOn.objects.update_or_create(
            listing=listing,
            kind=kind,
            defaults={"price_cents": addon.price_cents, "days_less": addon.days_less},
        )
    listing.requirements.all().delete()
    ServiceRequirement.objects.bulk_create(
        [
            ServiceRequirement(listing=listing, question=q, position=i)
            for i, q in enumerate(values["questions"])
        ]
    )


@transaction.atomic
def listing_create(*, actor: User, data: ListingInput) -> ServiceListing:
    """A new service, as a draft only its freelancer sees."""
    _require_freelancer(actor)
    values = _validate_listing(data)
    listing = ServiceListing(freelancer=actor)
    _write_content(listing, values)
    ServiceListingEvent.objects.create(listing=listing, actor=actor, to_status=listing.status, note="created")
    return listing


@transaction.atomic
def listing_update(*, actor: User, listing_id: int, data: ListingInput) -> ServiceListing:
    """Edit a service. An approved (or paused) one goes back to review: buyers only see
    content staff have approved."""
    _require_freelancer(actor)
    listing = _own_listing_for_update(actor, listing_id)
    values = _validate_listing(data)
    if listing.status in (ServiceListing.Status.APPROVED, ServiceListing.Status.PAUSED):
        _listing_transition(listing, to=ServiceListing.Status.PENDING, actor=actor, note="edited")
    _write_content(listing, values)
    return listing


@transaction.atomic
def listing_add_image(*, actor: User, listing_id: int, upload: UploadedFile | None) -> ServiceImage:
    _require_freelancer(actor)
    listing = _own_listing_for_update(actor, listing_id)
    if upload is None:
        raise field_error("Choose an image.", "image_required", "image")
    if listing.images.count() >= MAX_IMAGES:
        raise field_error(f"A service shows at most {MAX_IMAGES} images.", "too_many_images", "image")
    content = process_image(upload, max_bytes=IMAGE_MAX_BYTES, max_side=1600)
    image = ServiceImage(listing=listing, position=listing.images.count())
    image.image.save(content.name or random_name(".jpg"), content, save=False)
    image.save()
    return image


@transaction.atomic
def listing_submit(*, actor: User, listing_id: int) -> ServiceListing:
    """Draft or rejected -> pending review."""
    _require_freelancer(actor)
    listing = _own_listing_for_update(actor, listing_id)
    _listing_transition(listing, to=ServiceListing.Status.PENDING, actor=actor, note="submitted for review")
    listing.rejection_reason = ""
    listing.save(update_fields=["status", "rejection_reason", "updated_at"])
    return listing


@transaction.atomic
def listing_pause(*, actor: User, listing_id: int) -> ServiceListing:
    require_can_act(actor)
    listing = _own_listing_for_update(actor, listing_id)
    _listing_transition(listing, to=ServiceListing.Status.PAUSED, actor=actor)
    listing.save(update_fields=["status", "updated_at"])
    return listing


@transaction.atomic
def listing_resume(*, actor: User, listing_id: int) -> ServiceListing:
    """Paused -> approved again (its content did not change while paused)."""
    require_can_act(actor)
    listing = _own_listing_for_update(actor, listing_id)
    _listing_transition(listing, to=ServiceListing.Status.APPROVED, actor=actor)
    listing.save(update_fields=["status", "updated_at"])
    return listing


# --- listings: staff review ----------------------------------------------------------------------------


def _staff_listing_for_update(actor: User, listing_id: Any) -> ServiceListing:
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff review services.", code="not_staff")
    listing = ServiceListing.objects.select_for_update(no_key=True).filter(pk=_pk(listing_id)).first()
    if listing is None:
        raise NotFoundError("No such service.")
    return listing


@transaction.atomic
def listing_approve(*, actor: User, listing_id: int) -> ServiceListing:
    listing = _staff_listing_for_update(actor, listing_id)
    _listing_transition(listing, to=ServiceListing.Status.APPROVED, actor=actor, note="approved")
    listing.reviewed_by, listing.reviewed_at = actor, timezone.now()
    listing.rejection_reason = ""
    listing.save(update_fields=["status", "reviewed_by", "reviewed_at", "rejection_reason", "updated_at"])
    messaging.notify_on_commit(
        recipient_id=listing.freelancer_id,
        kind=NotificationKind.JOB,
        text=f"Your service “{listing.title}” is approved and now public.",
        url=f"/services/{listing.public_id}/",
    )
    return listing


@transaction.atomic
def listing_reject(*, actor: User, listing_id: int, reason: str) -> ServiceListing:
    text = str(reason or "").strip()
    if not text:
        raise field_error("Say why the service is rejected.", "reason_required", "reason")
    if len(text) > REASON_MAX:
        raise field_error(f"The reason is limited to {REASON_MAX} characters.", "reason_too_long", "reason")
    listing = _staff_listing_for_update(actor, listing_id)
    _listing_transition(listing, to=ServiceListing.Status.REJECTED, actor=actor, note=text)
    listing.reviewed_by, listing.reviewed_at = actor, timezone.now()
    listing.rejection_reason = text
    listing.save(update_fields=["status", "reviewed_by", "reviewed_at", "rejection_reason", "updated_at"])
    messaging.notify_on_commit(
        recipient_id=listing.freelancer_id,
        kind=NotificationKind.JOB,
        text=f"Your service “{listing.title}” was not approved: {text}",
        url=f"/services/mine/{listing.pk}/edit/",
    )
    return listing


# --- listings: reads ----------------------------------------------------------------------------------


def listing_public_qs() -> QuerySet[ServiceListing]:
    return ServiceListing.objects.filter(
        status=ServiceListing.Status.APPROVED, freelancer__is_active=True, hidden_at__isnull=True
    ).select_related("freelancer", "freelancer__freelancer_profile", "category")


@dataclass
class ListingFilters:
    q: str = ""
    category_id: int | None = None
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    max_delivery_days: int | None = None
    min_rating: Decimal | None = None


def listing_search(filters: ListingFilters) -> QuerySet[ServiceListing]:
    """Approved services matching the filters, cheapest tier price used for the price range."""
    qs = listing_public_qs().prefetch_related("images")
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(description__icontains=filters.q)).distinct()
    if filters.category_id:
        qs = qs.filter(category_id=filters.category_id)
    if filters.min_price_cents is not None:
        qs = qs.filter(min_price_cents__gte=filters.min_price_cents)
    if filters.max_price_cents is not None:
        qs = qs.filter(min_price_cents__lte=filters.max_price_cents)
    if filters.max_delivery_days is not None:
        qs = qs.filter(min_delivery_days__lte=filters.max_delivery_days)
    if filters.min_rating is not None:
        qs = qs.filter(freelancer__freelancer_profile__rating_avg__gte=filters.min_rating)
    return qs.order_by("-orders_count", "-created_at", "-id")


def listing_for_viewer(public_id: str, viewer: User | None) -> ServiceListing:
    """An approved service, or any of the viewer's own (staff see all); otherwise 404."""
    listing = (
        ServiceListing.objects.select_related("freelancer", "freelancer__freelancer_profile", "category")
        .prefetch_related("tiers", "addons", "requirements", "images", "skills")
        .filter(public_id=str(public_id))
        .first()
    )
    if listing is None:
        raise NotFoundError("No such service.")
    is_owner = viewer is not None and viewer.is_authenticated and listing.freelancer_id == viewer.pk
    is_staff = viewer is not None and viewer.is_authenticated and viewer.is_staff
    if listing.status != ServiceListing.Status.APPROVED and not (is_owner or is_staff):
        raise NotFoundError("No such service.")
    if listing.hidden_at is not None and not (is_owner or is_staff):  # hidden by staff moderation
        raise NotFoundError("No such service.")
    return listing


def tiers_in_order(listing: ServiceListing) -> list[ServiceTier]:
    by_name = {tier.name: tier for tier in listing.tiers.all()}
    return [by_name[name] for name in TIER_ORDER if name in by_name]


# --- orders ------------------------------------------------------------------------------------------


def _order_transition(order: ServiceOrder, *, to: str, actor: User | None, note: str = "") -> None:
    if to not in ServiceOrder.TRANSITIONS[order.status]:
        raise ApplicationError(
            f"An order that is {order.get_status_display().lower()} cannot become "
            f"{ServiceOrder.Status(to).label.lower()}.",
            code="illegal_transition",
            extra={"from": order.status, "to": to},
        )
    ServiceOrderEvent.objects.create(
        order=order, actor=actor, from_status=order.status, to_status=to, note=note
    )
    order.status = to


def _order_for_update(order_id: Any) -> ServiceOrder:
    order = ServiceOrder.objects.select_for_update(no_key=True).filter(pk=_pk(order_id)).first()
    if order is None:
        raise NotFoundError("No such order.")
    return order


def _party_order_for_update(actor: User, order_id: Any, side: str) -> ServiceOrder:
    order = _order_for_update(order_id)
    freelancer_id = order.listing.freelancer_id
    if actor.pk not in (order.buyer_id, freelancer_id):
        raise NotFoundError("No such order.")
    if side == "buyer" and actor.pk != order.buyer_id:
        raise PermissionDeniedError("Only the buyer can do this.", code="not_buyer")
    if side == "freelancer" and actor.pk != freelancer_id:
        raise PermissionDeniedError("Only the seller can do this.", code="not_seller")
    return order


def order_milestone(order: ServiceOrder) -> Milestone:
    milestone = Milestone.objects.filter(contract_id=order.contract_id).order_by("pk").first()
    assert milestone is not None  # contract_create_for_order makes exactly one
    return milestone


def order_url(order: ServiceOrder) -> str:
    return f"/services/orders/{order.public_id}/"


def order_price(tier: ServiceTier, addons: list[ServiceAddOn]) -> tuple[int, int, int]:
    """(amount in cents, delivery days, revisions) of a tier with add-ons."""
    amount = tier.price_cents + sum(a.price_cents for a in addons)
    days = tier.delivery_days
    revisions = tier.revisions
    for addon in addons:
        if addon.kind == ServiceAddOn.Kind.FAST_DELIVERY:
            days = max(1, days - addon.days_less)
        elif addon.kind == ServiceAddOn.Kind.EXTRA_REVISION:
            revisions += 1
    return amount, days, revisions


DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)


@transaction.atomic
def order_create(
    *, actor: User, listing_id: int, tier: str, addon_ids: list[int] | None = None
) -> ServiceOrder:
    """The buyer picks a tier and add-ons: the order and its contract (one milestone of the
    amount, not funded yet) are created; ``order_pay`` funds it."""
    require_can_act(actor)
    listing = (
        ServiceListing.objects.select_for_update(no_key=True)
        .filter(pk=_pk(listing_id), status=ServiceListing.Status.APPROVED, hidden_at__isnull=True)
        .first()
    )
    if listing is None:
        raise NotFoundError("No such service.")
    if listing.freelancer_id == actor.pk:
        raise ApplicationError("You cannot buy your own service.", code="own_service")
    if not ClientProfile.objects.filter(user=actor).exists():
        raise PermissionDeniedError("Switch to hiring to buy services.", code="not_client")
    chosen = ServiceTier.objects.filter(listing=listing, name=str(tier or "")).first()
    if chosen is None:
        raise field_error("Choose Starter, Standard or Advanced.", "tier_required", "tier")
    ids = list(dict.fromkeys(addon_ids or []))
    if not all(_is_int(i) for i in ids):
        raise field_error("Choose add-ons of this service.", "addon_invalid", "addons")
    addons = list(ServiceAddOn.objects.filter(listing=listing, pk__in=ids))
    if len(addons) != len(ids):
        raise field_error("Choose add-ons of this service.", "addon_invalid", "addons")
    amount, days, revisions = order_price(chosen, addons)
    # A double click (or a retried request) is the same purchase: under the listing's lock,
    # an unpaid order of the same tier and add-ons placed moments ago is returned, not doubled.
    recent = (
        ServiceOrder.objects.filter(
            buyer=actor,
            listing=listing,
            tier=chosen,
            amount_cents=amount,
            status=ServiceOrder.Status.AWAITING_PAYMENT,
            created_at__gte=timezone.now() - DOUBLE_SUBMIT_WINDOW,
        )
        .order_by("-pk")
        .first()
    )
    if recent is not None and set(recent.addons.values_list("pk", flat=True)) == {a.pk for a in addons}:
        return recent
    contract = contract_services.contract_create_for_order(
        buyer=actor,
        freelancer_id=listing.freelancer_id,
        title=listing.title[:120],
        description=f"{chosen.get_name_display()}: {chosen.included}"[:5000],
        amount_cents=amount,
        milestone=f"{chosen.get_name_display()} package"
        + (f" + {', '.join(a.get_kind_display().lower() for a in addons)}" if addons else ""),
    )
    order = ServiceOrder.objects.create(
        buyer=actor,
        listing=listing,
        tier=chosen,
        amount_cents=amount,
        delivery_days=days,
        revisions_allowed=revisions,
        contract=contract,
    )
    order.addons.set(addons)
    ServiceOrderEvent.objects.create(order=order, actor=actor, to_status=order.status, note="ordered")
    ServiceListing.objects.filter(pk=listing.pk).update(orders_count=F("orders_count") + 1)
    return order


@dataclass
class PayResult:
    order: ServiceOrder
    paid: bool
    message: str = ""  # the gateway's message when declined


def order_pay(*, actor: User, order_id: int) -> PayResult:
    """Fund the order's milestone with the buyer's saved card (``contracts.escrow.milestone_fund``;
    call outside any transaction). Declined: the order stays awaiting payment with the
    gateway's message."""
    order = ServiceOrder.objects.filter(pk=_pk(order_id), buyer=actor).first()
    if order is None:
        raise NotFoundError("No such order.")
    if order.status != ServiceOrder.Status.AWAITING_PAYMENT:
        raise ApplicationError("This order is already paid.", code="already_paid")
    milestone = order_milestone(order)
    result = escrow.milestone_fund(actor=actor, contract_id=order.contract_id, milestone_ids=[milestone.pk])
    order = order_sync(order_id=order.pk)
    if result.failed:
        return PayResult(order, False, result.failed[0][1])
    if result.processing:
        return PayResult(order, False, "The payment is being processed; the order updates when it settles.")
    return PayResult(order, True)


def order_sync(*, order_id: int, now: datetime | None = None) -> ServiceOrder:
    """Catch the order up with its milestone and contract, which contracts may move on its
    own (a funding settled later, auto-approval, an end refund). Safe to run any time."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _order_for_update(order_id)
        milestone = order_milestone(order)
        contract = Contract.objects.get(pk=order.contract_id)
        status = order.status
        fields = ["status", "updated_at"]
        if status == ServiceOrder.Status.AWAITING_PAYMENT and milestone.status != Milestone.Status.PENDING:
            _order_transition(order, to=ServiceOrder.Status.AWAITING_REQUIREMENTS, actor=None, note="paid")
            order.paid_at = milestone.funded_at or now
            order.requirements_due_at = order.paid_at + REQUIREMENTS_WINDOW
            fields += ["paid_at", "requirements_due_at"]
            messaging.notify_on_commit(
                recipient_id=order.buyer_id,
                kind=NotificationKind.CONTRACT,
                text=f"Payment received for “{order.listing.title}”. Answer the requirements within 48 hours.",
                url=order_url(order),
            )
        if milestone.status == Milestone.Status.RELEASED and order.status == ServiceOrder.Status.DELIVERED:
            _order_transition(order, to=ServiceOrder.Status.COMPLETED, actor=None, note="approved")
            order.completed_at = milestone.released_at or now
            fields.append("completed_at")
        elif (
            contract.status == Contract.Status.ENDED
            and order.status not in (ServiceOrder.Status.COMPLETED, ServiceOrder.Status.CANCELLED)
            and ServiceOrder.Status.CANCELLED in ServiceOrder.TRANSITIONS[order.status]
        ):
            _order_transition(order, to=ServiceOrder.Status.CANCELLED, actor=None, note="contract ended")
            order.cancelled_at = now
            order.cancel_reason = order.cancel_reason or "The contract was ended."
            fields += ["cancelled_at", "cancel_reason"]
        if order.status != status:
            order.save(update_fields=list(dict.fromkeys(fields)))
    return order


@transaction.atomic
def order_submit_requirements(*, actor: User, order_id: int, answers: list[str]) -> ServiceOrder:
    """The buyer answers the questions; the delivery clock starts now."""
    require_can_act(actor)
    order = _party_order_for_update(actor, order_id, "buyer")
    questions = list(order.listing.requirements.values_list("question", flat=True))
    values = [str(a or "").strip() for a in answers or []]
    if len(values) != len(questions):
        raise field_error("Answer every question.", "answers_required", "answers")
    for index, value in enumerate(values, start=1):
        if not value:
            raise field_error(f"Answer question {index}.", "answer_required", f"answer_{index}")
        if len(value) > ANSWER_MAX:
            raise field_error(
                f"Answer {index} is limited to {ANSWER_MAX:,} characters.",
                "answer_too_long",
                f"answer_{index}",
            )
    _order_transition(order, to=ServiceOrder.Status.IN_PROGRESS, actor=actor, note="requirements submitted")
    now = timezone.now()
    order.requirements_answers = [
        {"question": q, "answer": a} for q, a in zip(questions, values, strict=True)
    ]
    order.requirements_submitted_at = now
    order.delivery_due_at = now + timedelta(days=order.delivery_days)
    order.save(
        update_fields=[
            "status",
            "requirements_answers",
            "requirements_submitted_at",
            "delivery_due_at",
            "updated_at",
        ]
    )
    messaging.notify_on_commit(
        recipient_id=order.listing.freelancer_id,
        kind=NotificationKind.CONTRACT,
        text=f"{actor.display_name} sent the requirements for “{order.listing.title}”. "
        f"Deliver by {order.delivery_due_at:%b %d, %Y %H:%M} UTC.",
        url=order_url(order),
    )
    return order


@transaction.atomic
def order_deliver(
    *, actor: User, order_id: int, message: str, files: list[UploadedFile] | None = None
) -> ServiceOrder:
    """The seller delivers (``milestone_submit``), first time or after a revision request."""
    order = _party_order_for_update(actor, order_id, "freelancer")
    _order_transition(order, to=ServiceOrder.Status.DELIVERED, actor=actor, note="delivered")
    escrow.milestone_submit(actor=actor, milestone_id=order_milestone(order).pk, message=message, files=files)
    order.save(update_fields=["status", "updated_at"])
    return order


@transaction.atomic
def order_request_revision(*, actor: User, order_id: int, note: str) -> ServiceOrder:
    """The buyer asks for changes (``milestone_request_changes``), up to the revisions bought."""
    order = _party_order_for_update(actor, order_id, "buyer")
    if order.status == ServiceOrder.Status.DELIVERED and order.revisions_used >= order.revisions_allowed:
        raise ApplicationError(
            f"You used all {order.revisions_allowed} revision(s) of this order; approve the work or "
            "open a dispute on the contract.",
            code="no_revisions_left",
        )
    _order_transition(
        order, to=ServiceOrder.Status.REVISION_REQUESTED, actor=actor, note=str(note or "")[:500]
    )
    escrow.milestone_request_changes(actor=actor, milestone_id=order_milestone(order).pk, note=note)
    order.revisions_used += 1
    order.save(update_fields=["status", "revisions_used", "updated_at"])
    return order


@transaction.atomic
def order_approve(*, actor: User, order_id: int) -> ServiceOrder:
    """The buyer approves: the milestone's escrow is released (``milestone_approve``) and the
    contract ends as completed."""
    order = _party_order_for_update(actor, order_id, "buyer")
    _order_transition(order, to=ServiceOrder.Status.COMPLETED, actor=actor, note="approved")
    escrow.milestone_approve(actor=actor, milestone_id=order_milestone(order).pk)
    order.completed_at = timezone.now()
    order.save(update_fields=["status", "completed_at", "updated_at"])
    _end_contract(order, actor, Contract.EndReason.COMPLETED)
    return order


def _end_contract(order: ServiceOrder, actor: User, reason: str) -> None:
    contract = Contract.objects.get(pk=order.contract_id)
    if contract.status != Contract.Status.ENDED:
        contract_services.contract_end(actor=actor, contract_id=contract.pk, reason=reason)


def can_cancel_late(order: ServiceOrder, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        order.status == ServiceOrder.Status.IN_PROGRESS  # nothing delivered yet
        and order.delivery_due_at is not None
        and order.delivery_due_at < now
    )


@transaction.atomic
def _cancel(order: ServiceOrder, actor: User, why: str, reason: str) -> ServiceOrder:
    """Inside a transaction with the order locked: cancel, then end the contract, which
    refunds the escrow (``contracts.escrow.reserve_end_refunds``, sent after commit)."""
    _order_transition(order, to=ServiceOrder.Status.CANCELLED, actor=actor, note=why)
    order.cancelled_at = timezone.now()
    order.cancel_reason = why
    order.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    _end_contract(order, actor, reason)
    for user_id in (order.buyer_id, order.listing.freelancer_id):
        messaging.notify_on_commit(
            recipient_id=user_id,
            kind=NotificationKind.CONTRACT,
            text=f"The order “{order.listing.title}” was cancelled: {why} Any payment is refunded to the buyer.",
            url=order_url(order),
        )
    return order


@transaction.atomic
def order_cancel(*, actor: User, order_id: int) -> ServiceOrder:
    """The buyer cancels: before paying at any time; after, only when the delivery is late
    (past ``delivery_due_at`` with nothing delivered), which refunds the payment."""
    require_can_act(actor)
    order = _party_order_for_update(actor, order_id, "buyer")
    if order.status == ServiceOrder.Status.AWAITING_PAYMENT:
        milestone = order_milestone(order)
        if escrow.funding_in_progress(milestone):
            raise ApplicationError(
                "A payment is in progress; try again in a few minutes.", code="payment_in_progress"
            )
        return _cancel(
            order, actor, "The buyer cancelled before paying.", Contract.EndReason.NO_LONGER_NEEDED
        )
    if not can_cancel_late(order):
        raise ApplicationError(
            "You can cancel a paid order only when the delivery is late and nothing was delivered.",
            code="not_late",
        )
    return _cancel(order, actor, "The delivery was late.", Contract.EndReason.UNRESPONSIVE)


def order_expire_requirements(*, order_id: int, now: datetime | None = None) -> bool:
    """48 hours after payment without answers: cancel and refund (task; safe to run twice).
    The contract is ended in the buyer's name: they did not start the work."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _order_for_update(order_id)
        if (
            order.status != ServiceOrder.Status.AWAITING_REQUIREMENTS
            or order.requirements_due_at is None
            or order.requirements_due_at > now
        ):
            return False
        _cancel(
            order,
            order.buyer,
            "The requirements were not sent within 48 hours of payment.",
            Contract.EndReason.NO_LONGER_NEEDED,
        )
    return True


def orders_sweep(*, now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Beat task body: sync open orders with their milestones, then expire those whose
    requirements are overdue."""
    now = now or timezone.now()
    open_ids = list(
        ServiceOrder.objects.exclude(
            status__in=[ServiceOrder.Status.COMPLETED, ServiceOrder.Status.CANCELLED]
        ).values_list("pk", flat=True)[:batch_size]
    )
    for order_id in open_ids:
        order_sync(order_id=order_id, now=now)
    due = list(
        ServiceOrder.objects.filter(
            status=ServiceOrder.Status.AWAITING_REQUIREMENTS, requirements_due_at__lte=now
        ).values_list("pk", flat=True)[:batch_size]
    )
    expired = sum(1 for order_id in due if order_expire_requirements(order_id=order_id, now=now))
    return {"synced": len(open_ids), "expired": expired}


def orders_for_user(user: User) -> QuerySet[ServiceOrder]:
    return (
        ServiceOrder.objects.filter(Q(buyer=user) | Q(listing__freelancer=user))
        .select_related("listing", "tier", "buyer", "listing__freelancer")
        .order_by("-created_at", "-id")
    )


def order_for_party(public_id: str, user: User) -> ServiceOrder:
    order = (
        ServiceOrder.objects.select_related("listing", "listing__freelancer", "tier", "buyer", "contract")
        .prefetch_related("addons", "events")
        .filter(public_id=str(public_id))
        .first()
    )
    if order is None or user.pk not in (order.buyer_id, order.listing.freelancer_id):
        raise NotFoundError("No such order.")
    return order
