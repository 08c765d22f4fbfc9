"""Agencies: freelancers working as one business.

Services (writes, keyword-only, acting user first) and selectors (reads) of agencies,
their members and email invitations. Roles:

- owner (one per agency): everything, including roles, ownership transfer and the
  distribution of the agency's earnings (``payments.agency``);
- admin: edits the profile, invites and revokes invitations, removes plain members;
- member: proposes on the agency's behalf and works on its contracts.

Every membership change locks the agency row first (``_agency_for_update``), so two
changes of one agency never interleave. An invitation link carries a random token of
which only the SHA-256 is stored; it is accepted by a signed-in freelancer whose account
email is the invited one, within ``INVITATION_DAYS``.

The agency page gathers figures that other apps own (contracts, reviews, the ledger):
they are read here at call time, through those apps' models and selectors, because this
page sits above them.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Avg, Case, Count, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django_countries import countries

from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError, field_error

from .models import (
    Agency,
    AgencyInvitation,
    AgencyMembership,
    AgencyRole,
    FreelancerProfile,
    InvitationStatus,
    User,
)
from .services import require_can_act

log = logging.getLogger(__name__)

INVITATION_DAYS = 14
NAME_MIN, NAME_MAX = 2, 100
TAGLINE_MAX = 150
DESCRIPTION_MAX = 5000
TOKEN_BYTES = 32
MAX_PENDING_INVITATIONS = 50
# slugs that would shadow the fixed routes under /agencies/
RESERVED_SLUGS = frozenset({"new", "invitations", "mine"})
MANAGER_ROLES = (AgencyRole.OWNER, AgencyRole.ADMIN)
ROLE_ORDER = Case(
    When(role=AgencyRole.OWNER, then=Value(0)),
    When(role=AgencyRole.ADMIN, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


# --- helpers ---------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_path(token: str) -> str:
    return reverse("accounts:agency_invitation", kwargs={"token": token})


def agency_url(agency: Agency) -> str:
    return reverse("accounts:agency_detail", kwargs={"slug": agency.slug})


def _as_int(value: Any, *, what: str) -> int:
    if isinstance(value, bool):
        raise NotFoundError(f"No such {what}.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFoundError(f"No such {what}.")


def _require_freelancer(actor: User) -> None:
    if not FreelancerProfile.objects.filter(user=actor).exists():
        raise PermissionDeniedError(
            "Only freelancers can join or run an agency; switch to freelancing first.", code="not_freelancer"
        )


def _agency_for_update(agency_id: Any) -> Agency:
    agency = Agency.objects.select_for_update().filter(pk=_as_int(agency_id, what="agency")).first()
    if agency is None:
        raise NotFoundError("No such agency.", code="agency_not_found")
    return agency


def _membership(agency: Agency, user_id: int, *, lock: bool = False) -> AgencyMembership | None:
    qs = AgencyMembership.objects.filter(agency=agency, user_id=user_id)
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def _require_role(agency: Agency, actor: User, roles: tuple[str, ...], what: str) -> AgencyMembership:
    """The actor's membership, if its role is one of ``roles``; 403 otherwise (the agency
    itself is public, so refusing is not revealing anything)."""
    membership = _membership(agency, actor.pk)
    if membership is None or membership.role not in roles:
        raise PermissionDeniedError(f"Only the agency's {what} can do this.", code="agency_forbidden")
    return membership


def _clean_text(value: Any, *, field_name: str, label: str, max_length: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and len(text) < NAME_MIN:
        raise field_error(
            f"Enter the {label} (at least {NAME_MIN} characters).", f"{field_name}_required", field_name
        )
    if len(text) > max_length:
        raise field_error(
            f"The {label} is limited to {max_length} characters.", f"{field_name}_too_long", field_name
        )
    return text


def _clean_profile(values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "name" in values:
        cleaned["name"] = _clean_text(
            values["name"], field_name="name", label="name", max_length=NAME_MAX, required=True
        )
    if "tagline" in values:
        cleaned["tagline"] = _clean_text(
            values["tagline"], field_name="tagline", label="tagline", max_length=TAGLINE_MAX
        )
    if "description" in values:
        cleaned["description"] = _clean_text(
            values["description"], field_name="description", label="description", max_length=DESCRIPTION_MAX
        )
    if "website" in values:
        website = str(values["website"] or "").strip()
        if website:
            try:
                URLValidator(schemes=["http", "https"])(website)
            except ValidationError:
                raise field_error(
                    "Enter a web address starting with http:// or https://.", "invalid_website", "website"
                )
            if len(website) > 200:
                raise field_error("The web address is too long.", "invalid_website", "website")
        cleaned["website"] = website
    if "country" in values:
        country = str(values["country"] or "").strip().upper()
        if country and country not in dict(countries):
            raise field_error("Choose a country from the list.", "invalid_country", "country")
        cleaned["country"] = country
    return cleaned


def _unique_slug(name: str) -> str:
    base = slugify(name)[:100].strip("-") or "agency"
    if base in RESERVED_SLUGS:
        base = f"{base}-agency"
    slug, n = base, 2
    while Agency.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def _clean_role(role: Any) -> str:
    if role not in (AgencyRole.ADMIN, AgencyRole.MEMBER):
        raise field_error("Choose admin or member.", "invalid_role", "role")
    return str(role)


def _notify(recipient_id: int, text: str, url: str = "") -> None:
    from messaging.models import NotificationKind
    from messaging.services import notify_on_commit

    notify_on_commit(recipient_id=recipient_id, kind=NotificationKind.TEAM, text=text, url=url)


# --- agencies -------------------------------------------------------------------------------------


@transaction.atomic
def agency_create(
    *,
    actor: User,
    name: str,
    tagline: str = "",
    description: str = "",
    website: str = "",
    country: str = "",
) -> Agency:
    """A freelancer founds an agency and becomes its owner (one owned agency each)."""
    require_can_act(actor)
    _require_freelancer(actor)
    values = _clean_profile(
        {"name": name, "tagline": tagline, "description": description, "website": website, "country": country}
    )
    # the user row serialises two concurrent creations by the same founder
    User.objects.select_for_update().filter(pk=actor.pk).first()
    if AgencyMembership.objects.filter(user=actor, role=AgencyRole.OWNER).exists():
        raise ApplicationError("You already own an agency.", code="already_owns_agency")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                agency = Agency.objects.create(slug=_unique_slug(values["name"]), created_by=actor, **values)
            break
        except IntegrityError:  # a concurrent agency took the slug
            continue
    else:
        raise ApplicationError("Could not create the agency; try again.", code="slug_taken")
    AgencyMembership.objects.create(agency=agency, user=actor, role=AgencyRole.OWNER)
    return agency


@transaction.atomic
def agency_update(*, actor: User, agency_id: int, **values: Any) -> Agency:
    """The owner or an admin changes the agency's profile (name, tagline, description,
    website, country). The slug stays, so links keep working."""
    require_can_act(actor)
    agency = _agency_for_update(agency_id)
    _require_role(agency, actor, MANAGER_ROLES, "owner or admins")
    unknown = set(values) - {"name", "tagline", "description", "website", "country"}
    if unknown:
        raise ApplicationError(f"Unknown field: {sorted(unknown)[0]}.", code="unknown_field")
    cleaned = _clean_profile(values)
    for key, value in cleaned.items():
        setattr(agency, key, value)
    if cleaned:
        agency.save(update_fields=list(cleaned))
    return agency


# --- invitations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentInvitation:
    invitation: AgencyInvitation
    token: str  # only here, in the email; the database keeps its hash


def _send_invitation_email(invitation_id: int, token: str) -> None:
    invitation = (
        AgencyInvitation.objects.select_related("agency", "invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None:
        return
    link = settings.SITE_URL.rstrip("/") + invitation_path(token)
    body = (
        f"{invitation.invited_by.display_name} invited you to join the agency "
        f"“{invitation.agency.name}” as {invitation.get_role_display().lower()}.\n\n"
        f"Accept or decline: {link}\n\n"
        f"Sign in (or sign up as a freelancer) with this email address, {invitation.email}, to accept. "
        f"The link expires on {invitation.expires_at:%Y-%m-%d}."
    )
    try:
        send_mail(f"Join {invitation.agency.name}", body, None, [invitation.email])
    except Exception:  # the invitation stays valid; the inviter can revoke and invite again
        log.exception("agency invitation %s email could not be sent", invitation_id)


def _expire_stale(agency: Agency, now: Any) -> None:
    AgencyInvitation.objects.filter(
        agency=agency, status=InvitationStatus.PENDING, expires_at__lte=now
    ).update(status=InvitationStatus.EXPIRED)


@transaction.atomic
def member_invite(
    *, actor: User, agency_id: int, email: str, role: str = AgencyRole.MEMBER
) -> SentInvitation:
    """The owner or an admin invites someone by email (admins invite members only). The
    email with the link goes out after commit (one email: someone who already has an
    account also finds the invitation under "My agencies")."""
    require_can_act(actor)
    agency = _agency_for_update(agency_id)
    membership = _require_role(agency, actor, MANAGER_ROLES, "owner or admins")
    role = _clean_role(role)
    if role == AgencyRole.ADMIN and membership.role != AgencyRole.OWNER:
        raise PermissionDeniedError("Only the owner can invite admins.", code="agency_forbidden")
    email = str(email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise field_error("Enter a valid email address.", "invalid_email", "email")
    if len(email) > 254:
        raise field_error("Enter a valid email address.", "invalid_email", "email")
    if AgencyMembership.objects.filter(agency=agency, user__email__iexact=email).exists():
        raise field_error("This person is already a member of the agency.", "already_member", "email")
    now = timezone.now()
    _expire_stale(agency, now)
    pending = AgencyInvitation.objects.filter(agency=agency, status=InvitationStatus.PENDING)
    if pending.filter(email__iexact=email).exists():
        raise field_error("This email address already has a pending invitation.", "already_invited", "email")
    if pending.count() >= MAX_PENDING_INVITATIONS:
        raise ApplicationError(
            f"An agency can have at most {MAX_PENDING_INVITATIONS} pending invitations.",
            code="too_many_invitations",
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = AgencyInvitation.objects.create(
        agency=agency,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=actor,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    invitation_id = invitation.pk
    transaction.on_commit(lambda: _send_invitation_email(invitation_id, token))
    return SentInvitation(invitation=invitation, token=token)


def _invitation_by_token(token: Any) -> AgencyInvitation:
    token = str(token or "")
    invitation = (
        AgencyInvitation.objects.filter(token_hash=hash_token(token)).first()
        if 0 < len(token) <= 200
        else None
    )
    if invitation is None:
        raise NotFoundError("This invitation link is not valid.", code="invitation_not_found")
    return invitation


def _own_invitation(actor: User, invitation_id: Any) -> AgencyInvitation:
    """An invitation addressed to the actor's email; somebody else's is not found."""
    invitation = AgencyInvitation.objects.filter(
        pk=_as_int(invitation_id, what="invitation"), email__iexact=actor.email
    ).first()
    if invitation is None:
        raise NotFoundError("No such invitation.", code="invitation_not_found")
    return invitation


def _lock(invitation: AgencyInvitation) -> tuple[Agency, AgencyInvitation]:
    """Lock the agency, then the invitation (the order every agency change uses)."""
    agency = _agency_for_update(invitation.agency_id)
    return agency, AgencyInvitation.objects.select_for_update().get(pk=invitation.pk)


def _require_answerable(actor: User, invitation: AgencyInvitation) -> None:
    if invitation.email.lower() != actor.email.lower():
        raise PermissionDeniedError(
            f"This invitation is for {invitation.email}; sign in with that address to answer it.",
            code="wrong_email",
        )
    if invitation.status != InvitationStatus.PENDING:
        raise ApplicationError(
            f"This invitation is {invitation.get_status_display().lower()}.",
            code="invitation_not_pending",
            extra={"status": invitation.status},
        )
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(
            "This invitation has expired; ask for a new one.",
            code="invitation_expired",
            extra={"status": InvitationStatus.EXPIRED},
        )


def _accept(actor: User, found: AgencyInvitation) -> AgencyMembership:
    require_can_act(actor)
    _require_answerable(actor, found)
    _require_freelancer(actor)
    agency, invitation = _lock(found)
    _require_answerable(actor, invitation)
    if _membership(agency, actor.pk) is not None:
        raise ApplicationError("You are already a member of this agency.", code="already_member")
    membership = AgencyMembership.objects.create(agency=agency, user=actor, role=invitation.role)
    invitation.status = InvitationStatus.ACCEPTED
    invitation.responded_at = timezone.now()
    invitation.accepted_by = actor
    invitation.save(update_fields=["status", "responded_at", "accepted_by"])
    _notify(
        invitation.invited_by_id,
        f"{actor.display_name} joined the agency “{agency.name}”.",
        agency_url(agency),
    )
    return membership


def _decline(actor: User, found: AgencyInvitation) -> AgencyInvitation:
    require_can_act(actor)
    _require_answerable(actor, found)
    agency, invitation = _lock(found)
    _require_answerable(actor, invitation)
    invitation.status = InvitationStatus.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    _notify(
        invitation.invited_by_id,
        f"{actor.display_name} declined the invitation to “{agency.name}”.",
        reverse("accounts:agency_manage", kwargs={"slug": agency.slug}),
    )
    return invitation


@transaction.atomic
def invitation_accept(*, actor: User, token: str) -> AgencyMembership:
    """The invited freelancer (signed in with the invited email) joins the agency."""
    return _accept(actor, _invitation_by_token(token))


@transaction.atomic
def invitation_accept_by_id(*, actor: User, invitation_id: int) -> AgencyMembership:
    """Accept from the list of one's invitations (no link needed: the email matches)."""
    return _accept(actor, _own_invitation(actor, invitation_id))


@transaction.atomic
def invitation_decline(*, actor: User, token: str) -> AgencyInvitation:
    return _decline(actor, _invitation_by_token(token))


@transaction.atomic
def invitation_decline_by_id(*, actor: User, invitation_id: int) -> AgencyInvitation:
    return _decline(actor, _own_invitation(actor, invitation_id))


@transaction.atomic
def invitation_revoke(*, actor: User, invitation_id: int) -> AgencyInvitation:
    """The owner or an admin withdraws a pending invitation; its link stops working."""
    require_can_act(actor)
    invitation_id = _as_int(invitation_id, what="invitation")
    agency_id = AgencyInvitation.objects.filter(pk=invitation_id).values_list("agency_id", flat=True).first()
    if agency_id is None or not AgencyMembership.objects.filter(agency_id=agency_id, user=actor).exists():
        raise NotFoundError("No such invitation.", code="invitation_not_found")
    agency = _agency_for_update(agency_id)
    _require_role(agency, actor, MANAGER_ROLES, "owner or admins")
    invitation = AgencyInvitation.objects.select_for_update().get(pk=invitation_id)
    if invitation.status != InvitationStatus.PENDING:
        raise ApplicationError(
            f"This invitation is {invitation.get_status_display().lower()}; only pending ones can be revoked.",
            code="invitation_not_pending",
            extra={"status": invitation.status},
        )
    invitation.status = InvitationStatus.REVOKED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    return invitation


# --- members --------------------------------------------------------------------------------------


def _target(agency: Agency, member_id: Any) -> AgencyMembership:
    membership = _membership(agency, _as_int(member_id, what="member"), lock=True)
    if membership is None:
        raise NotFoundError("This person is not a member of the agency.", code="member_not_found")
    return membership


@transaction.atomic
def member_role_change(*, actor: User, agency_id: int, member_id: int, role: str) -> AgencyMembership:
    """The owner makes a member an admin or an admin a member (ownership moves only by
    ``agency_transfer_ownership``)."""
    require_can_act(actor)
    agency = _agency_for_update(agency_id)
    _require_role(agency, actor, (AgencyRole.OWNER,), "owner")
    role = _clean_role(role)
    target = _target(agency, member_id)
    if target.role == AgencyRole.OWNER:
        raise ApplicationError(
            "The owner's role changes only by transferring the ownership.", code="owner_role_fixed"
        )
    if target.role != role:
        target.role = role
        target.save(update_fields=["role"])
        _notify(
            target.user_id,
            f"You are now {target.get_role_display().lower()} of the agency “{agency.name}”.",
            agency_url(agency),
        )
    return target


@transaction.atomic
def member_remove(*, actor: User, agency_id: int, member_id: int) -> None:
    """The owner removes anyone but themself; an admin removes plain members."""
    require_can_act(actor)
    agency = _agency_for_update(agency_id)
    mine = _require_role(agency, actor, MANAGER_ROLES, "owner or admins")
    target = _target(agency, member_id)
    if target.user_id == actor.pk:
        raise ApplicationError("To leave the agency, use “Leave”.", code="remove_self")
    if target.role == AgencyRole.OWNER or (target.role == AgencyRole.ADMIN and mine.role != AgencyRole.OWNER):
        raise PermissionDeniedError(
            "Only the owner can remove admins, and nobody the owner.", code="agency_forbidden"
        )
    target.delete()
    _notify(target.user_id, f"You were removed from the agency “{agency.name}”.", agency_url(agency))


@transaction.atomic
def member_leave(*, actor: User, agency_id: int) -> None:
    """A member or admin leaves; the owner must transfer the ownership first."""
    agency = _agency_for_update(agency_id)
    membership = _membership(agency, actor.pk, lock=True)
    if membership is None:
        raise NotFoundError("You are not a member of this agency.", code="member_not_found")
    if membership.role == AgencyRole.OWNER:
        raise ApplicationError(
            "The owner cannot leave: transfer the ownership to another member first.",
            code="owner_cannot_leave",
        )
    membership.delete()
    owner = (
        AgencyMembership.objects.filter(agency=agency, role=AgencyRole.OWNER)
        .values_list("user_id", flat=True)
        .first()
    )
    if owner is not None:
        _notify(owner, f"{actor.display_name} left the agency “{agency.name}”.", agency_url(agency))


@transaction.atomic
def agency_transfer_ownership(*, actor: User, agency_id: int, member_id: int) -> AgencyMembership:
    """The owner hands the agency to another member, and stays on as an admin. The new
    owner then distributes the agency's balance."""
    require_can_act(actor)
    agency = _agency_for_update(agency_id)
    mine = _require_role(agency, actor, (AgencyRole.OWNER,), "owner")
    target = _target(agency, member_id)
    if target.user_id == actor.pk:
        raise ApplicationError("You already own this agency.", code="already_owner")
    if not FreelancerProfile.objects.filter(user_id=target.user_id).exists() or target.user.is_suspended:
        raise ApplicationError("This member cannot own the agency.", code="cannot_own")
    # one owned agency each has no constraint: the target's user row serialises this check
    # with their own ``agency_create`` (which locks that row too) and with a transfer of
    # another agency to them
    User.objects.select_for_update().filter(pk=target.user_id).first()
    if AgencyMembership.objects.filter(user_id=target.user_id, role=AgencyRole.OWNER).exists():
        raise ApplicationError("This member already owns another agency.", code="already_owns_agency")
    mine = AgencyMembership.objects.select_for_update().get(pk=mine.pk)
    mine.role = AgencyRole.ADMIN
    mine.save(update_fields=["role"])  # first: one owner per agency (a unique constraint)
    target.role = AgencyRole.OWNER
    target.save(update_fields=["role"])
    _notify(
        target.user_id,
        f"{actor.display_name} made you the owner of the agency “{agency.name}”.",
        agency_url(agency),
    )
    return target


# --- selectors ------------------------------------------------------------------------------------


def agency_get(*, slug: str, viewer: Any = None) -> Agency | None:
    """The agency by slug; one hidden by staff is seen only by its members and staff."""
    agency = Agency.objects.filter(slug=str(slug)[:110]).first()
    if agency is None:
        return None
    if agency.hidden_at is not None:
        is_member = bool(
            viewer is not None
            and getattr(viewer, "is_authenticated", False)
            and (viewer.is_staff or AgencyMembership.objects.filter(agency=agency, user=viewer).exists())
        )
        if not is_member:
            return None
    return agency


def membership_for(*, agency: Agency, user: Any) -> AgencyMembership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return AgencyMembership.objects.filter(agency=agency, user=user).first()


def agency_members(*, agency: Agency) -> list[AgencyMembership]:
    """Members with their freelancer profiles: owner first, then admins, then members."""
    return list(
        AgencyMembership.objects.filter(agency=agency)
        .select_related("user__freelancer_profile")
        .annotate(role_order=ROLE_ORDER)
        .order_by("role_order", "created_at", "pk")
    )


def agency_memberships_for_user(*, user: User) -> list[AgencyMembership]:
    return list(
        AgencyMembership.objects.filter(user=user)
        .select_related("agency")
        .annotate(members_count=Count("agency__memberships"))
        .order_by("agency__name")
    )


def agency_proposal_choices(user_id: int) -> list[tuple[int, str]]:
    """(id, name) of the visible agencies ``user_id`` may propose on behalf of."""
    return list(
        Agency.objects.filter(memberships__user_id=user_id, hidden_at__isnull=True)
        .order_by("name")
        .values_list("pk", "name")
    )


def agency_for_proposal(*, actor: User, agency_id: Any) -> int | None:
    """Check a proposal's "propose as": None (myself) or an agency the actor belongs to."""
    if agency_id in (None, ""):
        return None
    if isinstance(agency_id, bool):
        raise field_error("Choose one of your agencies.", "not_agency_member", "agency_id")
    try:
        pk = int(agency_id)
    except (TypeError, ValueError):
        raise field_error("Choose one of your agencies.", "not_agency_member", "agency_id")
    if not AgencyMembership.objects.filter(agency_id=pk, user=actor, agency__hidden_at__isnull=True).exists():
        raise field_error(
            "You can propose only on behalf of an agency you are a member of.",
            "not_agency_member",
            "agency_id",
        )
    return pk


def agency_pending_invitations(*, agency: Agency) -> list[AgencyInvitation]:
    return list(
        AgencyInvitation.objects.filter(
            agency=agency, status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("invited_by")
        .order_by("-created_at", "-pk")
    )


def invitations_for_user(*, user: User) -> list[AgencyInvitation]:
    """Pending invitations addressed to the user's email."""
    return list(
        AgencyInvitation.objects.filter(
            email__iexact=user.email, status=InvitationStatus.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("agency", "invited_by")
        .order_by("-created_at", "-pk")
    )


def invitation_by_token(*, token: str) -> AgencyInvitation | None:
    token = str(token or "")
    if not token or len(token) > 200:
        return None
    return (
        AgencyInvitation.objects.filter(token_hash=hash_token(token))
        .select_related("agency", "invited_by")
        .first()
    )


@dataclass
class AgencyFigures:
    contracts_count: int = 0
    active_contracts: int = 0
    total_earned_cents: int = 0  # credited to the agency after the service fee
    rating_avg: Decimal | None = None
    reviews_count: int = 0


@dataclass
class AgencyPage:
    agency: Agency
    members: list[AgencyMembership]
    figures: AgencyFigures
    reviews: list[Any] = field(default_factory=list)


def _agency_reviews(agency: Agency) -> Any:
    from reviews.models import Review
    from reviews.selectors import visible_q

    return Review.objects.filter(
        visible_q(), contract__agency=agency, direction=Review.Direction.CLIENT_TO_FREELANCER
    )


def agency_figures(*, agency: Agency) -> AgencyFigures:
    from contracts.models import Contract
    from payments.agency import agency_total_earned_cents

    counts = Contract.objects.filter(agency=agency).aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(status=Contract.Status.ACTIVE))
    )
    rating = _agency_reviews(agency).aggregate(avg=Avg("rating"), n=Count("pk"))
    avg = (
        Decimal(str(rating["avg"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if rating["n"] else None
    )
    return AgencyFigures(
        contracts_count=int(counts["total"] or 0),
        active_contracts=int(counts["active"] or 0),
        total_earned_cents=agency_total_earned_cents(agency_id=agency.pk),
        rating_avg=avg,
        reviews_count=int(rating["n"] or 0),
    )


def agency_page(*, agency: Agency, reviews_limit: int = 20) -> AgencyPage:
    """What the public agency page shows: members, the figures and the combined reviews
    of the members' agency contracts (public ones only, newest first)."""
    reviews = list(
        _agency_reviews(agency)
        .select_related("reviewee", "reviewer", "contract")
        .order_by("-revealed_at", "-pk")[:reviews_limit]
    )
    return AgencyPage(
        agency=agency,
        members=agency_members(agency=agency),
        figures=agency_figures(agency=agency),
        reviews=reviews,
    )
