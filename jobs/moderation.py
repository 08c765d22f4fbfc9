"""Jobs and services in the moderation queue (``accounts.moderation_registry``).

A job is taken down by cancelling it (``job_remove_by_staff``: reason removed by staff),
which cannot be undone (the client posts it again). A service listing is hidden with
``hidden_at``: it leaves browsing, search and its page for everyone but its freelancer and
staff (``jobs.catalog``), and comes back when staff show it again.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import moderation_registry as registry
from accounts.models import User
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

from .models import Job, ServiceListing, ServiceListingEvent


def _job_visible_to(job: Job, user: Any) -> bool:
    from .selectors import job_visible_q

    return Job.objects.filter(job_visible_q(user), pk=job.pk).exists()


def _job_hide(actor: Any, job: Job, reason: str) -> None:
    from .services import job_remove_by_staff

    if job.status != Job.Status.OPEN:
        raise ApplicationError(
            f"Only an open job can be taken down; this one is {job.get_status_display().lower()}.",
            code="illegal_transition",
        )
    job_remove_by_staff(actor=actor, job_id=job.pk, note=reason)


def _job_unhide(actor: Any, job: Job) -> None:
    raise ApplicationError(
        "A job taken down by staff stays cancelled; the client can post it again.", code="cannot_restore"
    )


def _job_is_hidden(job: Job) -> bool:
    return job.status == Job.Status.CANCELLED and job.close_reason == Job.CloseReason.REMOVED_BY_STAFF


# --- service listings ----------------------------------------------------------------------------------


def _staff_listing_for_update(actor: User, listing_id: int) -> ServiceListing:
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can hide services.", code="staff_only")
    listing = ServiceListing.objects.select_for_update(no_key=True).filter(pk=listing_id).first()
    if listing is None:
        raise NotFoundError("No such service.")
    return listing


@transaction.atomic
def listing_hide(*, actor: User, listing_id: int, reason: str) -> ServiceListing:
    """Staff hide a service (moderation): only its freelancer and staff still see it."""
    listing = _staff_listing_for_update(actor, listing_id)
    if listing.hidden_at is not None:
        raise ConflictError("This service is already hidden.", code="already_hidden")
    listing.hidden_at = timezone.now()
    listing.save(update_fields=["hidden_at", "updated_at"])
    ServiceListingEvent.objects.create(
        listing=listing,
        actor=actor,
        from_status=listing.status,
        to_status=listing.status,
        note=f"hidden by staff: {reason}"[:500],
    )
    return listing


@transaction.atomic
def listing_unhide(*, actor: User, listing_id: int) -> ServiceListing:
    listing = _staff_listing_for_update(actor, listing_id)
    if listing.hidden_at is None:
        raise ConflictError("This service is not hidden.", code="not_hidden")
    listing.hidden_at = None
    listing.save(update_fields=["hidden_at", "updated_at"])
    ServiceListingEvent.objects.create(
        listing=listing, actor=actor, from_status=listing.status, to_status=listing.status, note="shown again"
    )
    return listing


def _listing_hide(actor: Any, listing: ServiceListing, reason: str) -> None:
    listing_hide(actor=actor, listing_id=listing.pk, reason=reason)


def _listing_unhide(actor: Any, listing: ServiceListing) -> None:
    listing_unhide(actor=actor, listing_id=listing.pk)


def _listing_visible_to(listing: ServiceListing, user: Any) -> bool:
    return listing.status == ServiceListing.Status.APPROVED and listing.hidden_at is None


def register() -> None:
    """Called from ``JobsConfig.ready``."""
    registry.register(
        Job,
        registry.Moderated(
            label="job",
            owner=lambda job: job.client,
            snapshot=lambda job: f"{job.title}\n\n{job.description}",
            url=lambda job: reverse("jobs:detail", kwargs={"public_id": job.public_id}),
            hide=_job_hide,
            unhide=_job_unhide,
            is_hidden=_job_is_hidden,
            visible_to=_job_visible_to,
        ),
    )
    registry.register(
        ServiceListing,
        registry.Moderated(
            label="service",
            owner=lambda listing: listing.freelancer,
            snapshot=lambda listing: f"{listing.title}\n\n{listing.description}",
            url=lambda listing: reverse("jobs:service_detail", args=[listing.public_id]),
            hide=_listing_hide,
            unhide=_listing_unhide,
            is_hidden=lambda listing: listing.hidden_at is not None,
            visible_to=_listing_visible_to,
        ),
    )
