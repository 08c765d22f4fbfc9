"""Identity verification: a user uploads an ID document, staff approve or reject it.

The document is stored in private storage (``messaging.storage``: outside MEDIA_ROOT, no
URL) and streamed by ``accounts.views_trust.identity_document`` only to its owner and to
staff. Once reviewed, the file is deleted: the decision, the legal name and the country
stay. An approval sets ``User.identity_verified_at``, which shows the "ID verified" badge.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_countries import countries

from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from marketplace.uploads import IMAGE_KINDS, process_file, process_image, validate_file
from messaging.models import NotificationKind
from messaging.services import notify_on_commit

from .models import IdentityVerification, ModerationAction, User, UserModerationEvent
from .services import require_can_act

security_log = logging.getLogger("marketplace.security")

# Images and PDFs only: what a phone camera or a scanner produces.
DOCUMENT_KINDS = ("jpeg", "png", "pdf")
# Images are re-encoded (drops EXIF, GPS and anything appended) but kept legible.
DOCUMENT_IMAGE_MAX_SIDE = 2400
REJECTION_REASON_MAX = 300


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise PermissionDeniedError("Only staff can review identity documents.", code="staff_only")


def _clean_document(upload: UploadedFile | None) -> Any:
    """Size and type by content (magic bytes); images re-encoded, PDFs stored as sent."""
    max_bytes = settings.IDENTITY_DOCUMENT_MAX_BYTES
    if upload is None:
        raise ApplicationError("Choose a photo or scan of your ID to upload.", code="file_missing")
    kind = validate_file(upload, allowed=DOCUMENT_KINDS, max_bytes=max_bytes)
    if kind in IMAGE_KINDS:
        return process_image(upload, max_bytes=max_bytes, max_side=DOCUMENT_IMAGE_MAX_SIDE)
    return process_file(upload, allowed=DOCUMENT_KINDS, max_bytes=max_bytes)


def _delete_document_on_commit(verification: IdentityVerification) -> None:
    """Clear the row's file name now and remove the file once the review has committed."""
    name = verification.document.name
    if not name:
        return
    storage = verification.document.storage
    verification.document = ""  # type: ignore[assignment]
    transaction.on_commit(lambda: storage.delete(name))


# --- services -------------------------------------------------------------------------------


@transaction.atomic
def identity_submit(
    *,
    actor: User,
    document_type: str,
    legal_name: str,
    country: str,
    upload: UploadedFile | None,
) -> IdentityVerification:
    """Send an ID document for review. One pending submission per user; locks the user row
    so that two submissions at once cannot both pass the check."""
    require_can_act(actor)
    if document_type not in IdentityVerification.DocumentType.values:
        raise ApplicationError("Choose the kind of document.", code="document_type_invalid")
    legal_name = " ".join(str(legal_name or "").split())
    if not legal_name:
        raise ApplicationError(
            "Enter your name as it is written on the document.", code="legal_name_required"
        )
    if len(legal_name) > 150:
        raise ApplicationError("The name is too long (150 characters at most).", code="legal_name_too_long")
    country = str(country or "").upper()
    if country not in dict(countries):
        raise ApplicationError("Choose the country that issued the document.", code="country_invalid")
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.identity_verified_at is not None:
        raise ApplicationError("Your identity is already verified.", code="identity_already_verified")
    if IdentityVerification.objects.filter(user=user, status=IdentityVerification.Status.PENDING).exists():
        raise ApplicationError(
            "Your document is already waiting for review; you will be notified of the decision.",
            code="identity_pending",
        )
    document = _clean_document(upload)
    verification = IdentityVerification(
        user=user, document_type=document_type, legal_name=legal_name, country=country
    )
    verification.document.save(document.name, document, save=False)
    stored_name = verification.document.name or ""
    storage = verification.document.storage
    try:
        verification.save()
    except Exception:
        storage.delete(stored_name)  # no orphan ID document on disk
        raise
    security_log.info("identity_submitted user_id=%s verification_id=%s", user.pk, verification.pk)
    return verification


def _pending_for_update(verification_id: Any) -> IdentityVerification:
    try:
        pk = int(verification_id)
    except (TypeError, ValueError):
        raise NotFoundError("No such identity verification.")
    verification = (
        IdentityVerification.objects.select_for_update().select_related("user").filter(pk=pk).first()
    )
    if verification is None:
        raise NotFoundError("No such identity verification.")
    if verification.status != IdentityVerification.Status.PENDING:
        raise ApplicationError(
            f"This submission was already reviewed ({verification.get_status_display().lower()}).",
            code="identity_not_pending",
        )
    return verification


def _review(*, actor: User, verification_id: Any, approve: bool, reason: str = "") -> IdentityVerification:
    _require_staff(actor)
    require_can_act(actor)
    verification = _pending_for_update(verification_id)
    if verification.user_id == actor.pk:
        raise PermissionDeniedError("You cannot review your own identity document.", code="self_review")
    user = User.objects.select_for_update().get(pk=verification.user_id)
    now = timezone.now()
    verification.status = (
        IdentityVerification.Status.APPROVED if approve else IdentityVerification.Status.REJECTED
    )
    verification.rejection_reason = "" if approve else reason
    verification.reviewed_by = actor
    verification.reviewed_at = now
    _delete_document_on_commit(verification)
    verification.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at", "document"])
    user.identity_verified_at = now if approve else None
    user.save(update_fields=["identity_verified_at"])
    UserModerationEvent.objects.create(
        user=user,
        actor=actor,
        action=ModerationAction.ID_APPROVED if approve else ModerationAction.ID_REJECTED,
        note=reason,
    )
    if approve:
        text = "Your identity is verified: your profile now shows the ID verified badge."
    else:
        text = f"Your identity document was not accepted: {reason} You can upload a new one."
    notify_on_commit(
        recipient_id=user.pk,
        kind=NotificationKind.ACCOUNT,
        text=text,
        url=reverse("accounts:settings") + "#identity",
    )
    security_log.info(
        "identity_%s user_id=%s verification_id=%s by=%s",
        "approved" if approve else "rejected",
        user.pk,
        verification.pk,
        actor.pk,
    )
    return verification


@transaction.atomic
def identity_approve(*, actor: User, verification_id: Any) -> IdentityVerification:
    """Staff accept the document: the user is ID verified; the file is deleted."""
    return _review(actor=actor, verification_id=verification_id, approve=True)


@transaction.atomic
def identity_reject(*, actor: User, verification_id: Any, reason: str) -> IdentityVerification:
    """Staff refuse the document with a reason the user is told; the file is deleted and the
    user may submit another."""
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ApplicationError("Say why the document is rejected.", code="reason_required")
    if len(reason) > REJECTION_REASON_MAX:
        raise ApplicationError(
            f"The reason is too long ({REJECTION_REASON_MAX} characters at most).", code="reason_too_long"
        )
    return _review(actor=actor, verification_id=verification_id, approve=False, reason=reason)


# --- selectors ------------------------------------------------------------------------------


def identity_latest_for_user(user: User) -> IdentityVerification | None:
    """The user's most recent submission (pending, approved or rejected), if any."""
    return IdentityVerification.objects.filter(user=user).order_by("-submitted_at", "-pk").first()


def identity_document_for_viewer(*, viewer: User, verification_id: int) -> IdentityVerification:
    """The submission whose file ``viewer`` may open: their own, or any for staff. Anything
    else, and a reviewed submission (its file is gone), is not found."""
    verification = IdentityVerification.objects.filter(pk=verification_id).first()
    if verification is None or not (viewer.is_staff or verification.user_id == viewer.pk):
        raise NotFoundError("No such document.")
    if not verification.document:
        raise NotFoundError("This document was deleted after review.")
    return verification


def identity_pending_count() -> int:
    return IdentityVerification.objects.filter(status=IdentityVerification.Status.PENDING).count()
