"""The moderation queue: people report content, staff decide.

Services (writes): ``flag_create`` (a user reports a piece of content) and the staff
actions ``content_dismiss``, ``content_hide``, ``content_unhide``, ``author_warn`` and
``author_suspend``. Each staff action logs a ``ModerationDecision`` (who, what, why),
resolves every open flag on that content (``actioned`` or ``dismissed``), and tells the
reporters ("we reviewed your report" and the outcome, nothing else about the other person)
and the author (hidden, warned or suspended, with the reason) through messaging's
notifications.

Selectors (reads): ``queue_items`` (open flags grouped by content, oldest report first)
and ``content_lookup`` (a registered piece of content from its "app_label.model" and id).

What each kind of content is (who wrote it, its text, its page, how to hide it) comes from
``accounts.moderation_registry``, filled in by each app; this module never reaches into
another app's tables.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Min
from django.utils import timezone

from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

from . import moderation_registry as registry
from .models import (
    ContentFlag,
    FlagReason,
    ModerationAction,
    ModerationDecision,
    SuspensionReason,
    User,
    UserModerationEvent,
)
from .services import require_can_act

log = logging.getLogger("marketplace.moderation")

NOTE_MAX = 1000
SNAPSHOT_MAX = 5000
QUEUE_LIMIT = 100

Decision = ModerationDecision.Action


# --- helpers ------------------------------------------------------------------------------------


def _entry(obj: Any) -> registry.Moderated:
    entry = registry.entry_for(type(obj)) if isinstance(obj, models.Model) else None
    if entry is None:
        raise NotFoundError("This kind of content cannot be reported.", code="not_reportable")
    return entry


def _owner_id(entry: registry.Moderated, obj: Any) -> int | None:
    owner = entry.owner(obj)
    return getattr(owner, "pk", None)


def can_view(entry: registry.Moderated, obj: Any, user: Any) -> bool:
    """May ``user`` see ``obj`` (and so report it)? Owners always may, staff too."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff or _owner_id(entry, obj) == user.pk:
        return True
    if entry.visible_to is not None:
        return bool(entry.visible_to(obj, user))
    return not entry.is_hidden(obj)


def can_report(obj: Any, user: Any) -> bool:
    """Whether ``user`` may report ``obj``, content they are shown (pages offer a "Report"
    link on this): signed in, and it has an author who is someone else (``flag_create``
    and the report page refuse the rest)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    entry = registry.entry_for(type(obj)) if isinstance(obj, models.Model) else None
    if entry is None:
        return False
    owner_id = _owner_id(entry, obj)
    return owner_id is not None and owner_id != user.pk


def _clean_note(note: Any) -> str:
    text = str(note or "").strip()
    if len(text) > NOTE_MAX:
        raise ApplicationError(
            f"The note is limited to {NOTE_MAX:,} characters.", code="too_long", extra={"field": "note"}
        )
    return text


def _require_staff(actor: User) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.is_staff):
        raise PermissionDeniedError("Only staff can moderate content.", code="staff_only")
    require_can_act(actor)


def _notify(user_id: int | None, text: str, url: str = "") -> None:
    if user_id is None:
        return
    from messaging.models import NotificationKind
    from messaging.services import notify_on_commit

    notify_on_commit(recipient_id=user_id, kind=NotificationKind.ACCOUNT, text=text, url=url)


def _safe_url(entry: registry.Moderated, obj: Any) -> str:
    try:
        url = entry.url(obj)
    except Exception:  # a page that cannot be built is no reason to refuse the action
        log.exception("moderation url of %r failed", obj)
        return ""
    return url if url.startswith("/") and not url.startswith("//") else ""


def _tell_author(entry: registry.Moderated, owner_id: int | None, obj: Any, text: str) -> None:
    """Notify the author about a change to their content, unless the owning app's own
    hide/unhide already did (``notifies_owner``)."""
    if not entry.notifies_owner:
        _notify(owner_id, text, _safe_url(entry, obj))


def _reason_label(code: str) -> str:
    if code in FlagReason.values:
        return str(FlagReason(code).label)
    if code in SuspensionReason.values:
        return str(SuspensionReason(code).label)
    return code


# --- reporting ----------------------------------------------------------------------------------


@transaction.atomic
def flag_create(*, actor: User, obj: Any, reason: str, note: str = "", replace: bool = False) -> ContentFlag:
    """``actor`` reports ``obj`` (any registered kind of content) with a reason.

    Refused: unregistered kinds and content ``actor`` cannot see (404), their own content,
    a second report of the same content (``already_reported``). With ``replace``, a report
    still open is updated instead (the job page's "change your report"). The text is kept
    as reported (``snapshot``), so a later edit cannot hide it.
    """
    require_can_act(actor)
    entry = _entry(obj)
    if not can_view(entry, obj, actor):
        raise NotFoundError(f"No such {entry.label}.")
    if reason not in FlagReason.values:
        raise ApplicationError(
            "Choose a reason for the report.", code="reason_required", extra={"field": "reason"}
        )
    text = _clean_note(note)
    owner_id = _owner_id(entry, obj)
    if owner_id is None:
        raise ApplicationError(f"This {entry.label} has no author to report.", code="cannot_report")
    if owner_id == actor.pk:
        raise ApplicationError(f"You cannot report your own {entry.label}.", code="own_content")
    content_type = ContentType.objects.get_for_model(obj)
    snapshot = str(entry.snapshot(obj) or "")[:SNAPSHOT_MAX]
    existing = (
        ContentFlag.objects.select_for_update()
        .filter(content_type=content_type, object_id=obj.pk, reporter=actor)
        .first()
    )
    if existing is not None:
        if replace and existing.status == ContentFlag.Status.OPEN:
            existing.reason, existing.note, existing.snapshot = reason, text, snapshot
            existing.save(update_fields=["reason", "note", "snapshot"])
            return existing
        raise ConflictError(f"You have already reported this {entry.label}.", code="already_reported")
    try:
        with transaction.atomic():
            flag = ContentFlag.objects.create(
                content_type=content_type,
                object_id=obj.pk,
                reporter=actor,
                content_owner_id=owner_id,
                reason=reason,
                note=text,
                snapshot=snapshot,
            )
    except IntegrityError:  # the same report sent twice at once
        raise ConflictError(f"You have already reported this {entry.label}.", code="already_reported")
    log.info("content_flagged type=%s id=%s by=%s reason=%s", content_type.model, obj.pk, actor.pk, reason)
    return flag


def flags_resolve(*, actor: User, obj: Any, status: str = ContentFlag.Status.ACTIONED) -> int:
    """Mark the open reports of ``obj`` handled, without telling anyone: for an app whose own
    staff action (a job removed from its admin) settles them. Call inside the action's
    transaction. Returns how many changed."""
    content_type = ContentType.objects.get_for_model(obj)
    return ContentFlag.objects.filter(
        content_type=content_type, object_id=obj.pk, status=ContentFlag.Status.OPEN
    ).update(status=status, resolved_at=timezone.now(), resolved_by=actor)


# --- staff actions ------------------------------------------------------------------------------


@dataclass
class Outcome:
    decision: ModerationDecision
    flags_resolved: int


_REPORTER_TEXT: dict[str, str] = {
    Decision.DISMISS: "We reviewed your report of a {label} and found that it does not break our rules, "
    "so it stays up. Thank you for telling us.",
    Decision.HIDE: "We reviewed your report of a {label} and removed it. Thank you for telling us.",
    Decision.WARN: "We reviewed your report of a {label} and warned its author. Thank you for telling us.",
    Decision.SUSPEND: "We reviewed your report of a {label} and suspended its author's account. "
    "Thank you for telling us.",
}


def _apply(
    *,
    actor: User,
    obj: Any,
    action: str,
    reason: str,
    note: str,
    effect: Any = None,
    flag_status: str = ContentFlag.Status.ACTIONED,
    require_open: bool = False,
) -> Outcome:
    """The common part of every staff action (inside its transaction): lock the open flags,
    run ``effect`` (the action itself), log the decision, resolve the flags, notify.

    ``require_open``: refuse (``nothing_open``) when no report is open once the flags are
    locked, so that two staff dismissing at once log one decision, not two."""
    entry = _entry(obj)
    # the caller's instance may be stale (an earlier action changed the row): read it again
    fresh = type(obj)._default_manager.filter(pk=obj.pk).first()
    if fresh is None:
        raise NotFoundError(f"No such {entry.label}.")
    obj = fresh
    content_type = ContentType.objects.get_for_model(obj)
    flags = list(
        ContentFlag.objects.select_for_update()
        .filter(content_type=content_type, object_id=obj.pk, status=ContentFlag.Status.OPEN)
        .order_by("pk")
    )
    if require_open and not flags:
        raise ConflictError(f"This {entry.label} has no open reports.", code="nothing_open")
    owner_id = _owner_id(entry, obj)
    if effect is not None:
        effect(entry, owner_id, obj)
    decision = ModerationDecision.objects.create(
        actor=actor,
        action=action,
        content_type=content_type,
        object_id=obj.pk,
        target_user_id=owner_id,
        reason=reason,
        note=note,
    )
    resolved = 0
    if action in _REPORTER_TEXT and flags:
        now = timezone.now()
        resolved = ContentFlag.objects.filter(pk__in=[f.pk for f in flags]).update(
            status=flag_status, resolved_at=now, resolved_by=actor
        )
        for reporter_id in sorted({f.reporter_id for f in flags}):
            _notify(reporter_id, _REPORTER_TEXT[action].format(label=entry.label))
    log.info(
        "moderation action=%s type=%s id=%s by=%s reason=%s flags=%s",
        action,
        content_type.model,
        obj.pk,
        actor.pk,
        reason,
        resolved,
    )
    return Outcome(decision=decision, flags_resolved=resolved)


def _require_flag_reason(reason: str) -> str:
    if reason not in FlagReason.values:
        raise ApplicationError("Choose a reason.", code="reason_required", extra={"field": "reason"})
    return reason


@transaction.atomic
def content_dismiss(*, actor: User, obj: Any, reason: str = "", note: str = "") -> Outcome:
    """Staff find nothing wrong: the open reports are dismissed, reporters told so."""
    _require_staff(actor)
    return _apply(
        actor=actor,
        obj=obj,
        action=Decision.DISMISS,
        reason=reason if reason in FlagReason.values else "",
        note=_clean_note(note),
        flag_status=ContentFlag.Status.DISMISSED,
        require_open=True,
    )


@transaction.atomic
def content_hide(*, actor: User, obj: Any, reason: str, note: str = "") -> Outcome:
    """Staff hide the content (the owning app's own hide); its author is told why."""
    _require_staff(actor)
    code = _require_flag_reason(reason)
    text = _clean_note(note)
    label = _reason_label(code)

    def effect(entry: registry.Moderated, owner_id: int | None, obj: Any) -> None:
        if entry.is_hidden(obj):
            raise ConflictError(f"This {entry.label} is already hidden.", code="already_hidden")
        entry.hide(actor, obj, label)
        _tell_author(
            entry,
            owner_id,
            obj,
            f"A moderator hid your {entry.label} because it breaks our rules: {label}. "
            "Other people no longer see it.",
        )

    return _apply(actor=actor, obj=obj, action=Decision.HIDE, reason=code, note=text, effect=effect)


@transaction.atomic
def content_unhide(*, actor: User, obj: Any, note: str = "") -> Outcome:
    """Staff undo a hide; the author is told it is visible again."""
    _require_staff(actor)
    text = _clean_note(note)

    def effect(entry: registry.Moderated, owner_id: int | None, obj: Any) -> None:
        if not entry.is_hidden(obj):
            raise ConflictError(f"This {entry.label} is not hidden.", code="not_hidden")
        entry.unhide(actor, obj)
        _tell_author(
            entry, owner_id, obj, f"A moderator reviewed your {entry.label} again: it is visible again."
        )

    return _apply(actor=actor, obj=obj, action=Decision.UNHIDE, reason="", note=text, effect=effect)


@transaction.atomic
def author_warn(*, actor: User, obj: Any, reason: str, note: str = "") -> Outcome:
    """Staff warn the author of ``obj``: their warnings count goes up and they are told why."""
    _require_staff(actor)
    code = _require_flag_reason(reason)
    text = _clean_note(note)
    label = _reason_label(code)

    def effect(entry: registry.Moderated, owner_id: int | None, obj: Any) -> None:
        if owner_id is None:
            raise ApplicationError(f"This {entry.label} has no author to warn.", code="no_author")
        if owner_id == actor.pk:
            raise ApplicationError("You cannot warn yourself.", code="self_moderation")
        User.objects.filter(pk=owner_id).update(warnings_count=models.F("warnings_count") + 1)
        UserModerationEvent.objects.create(
            user_id=owner_id, actor=actor, action=ModerationAction.WARN, note=f"{label}. {text}".strip()
        )
        _notify(
            owner_id,
            f"You received a warning from our moderators about your {entry.label}: {label}. "
            "Repeated breaches of our rules lead to a suspension.",
            _safe_url(entry, obj),
        )

    return _apply(actor=actor, obj=obj, action=Decision.WARN, reason=code, note=text, effect=effect)


@transaction.atomic
def author_suspend(*, actor: User, obj: Any, reason: str, note: str = "") -> Outcome:
    """Staff suspend the author of ``obj`` (``accounts.services.user_suspend`` with a
    suspension reason code); the author is told why."""
    from .services import user_suspend

    _require_staff(actor)
    if reason not in SuspensionReason.values:
        raise ApplicationError(
            "Choose a reason for the suspension.", code="reason_required", extra={"field": "reason"}
        )
    text = _clean_note(note)
    label = _reason_label(reason)

    def effect(entry: registry.Moderated, owner_id: int | None, obj: Any) -> None:
        if owner_id is None:
            raise ApplicationError(f"This {entry.label} has no author to suspend.", code="no_author")
        user_suspend(actor=actor, user_id=owner_id, reason=reason, note=text)
        _notify(
            owner_id,
            f"Your account was suspended by our moderators: {label}. You can still read your "
            "contracts, messages and invoices and hand over files on your active contracts.",
            "/dashboard/",
        )

    return _apply(actor=actor, obj=obj, action=Decision.SUSPEND, reason=reason, note=text, effect=effect)


ACTIONS = {
    Decision.DISMISS: content_dismiss,
    Decision.HIDE: content_hide,
    Decision.UNHIDE: content_unhide,
    Decision.WARN: author_warn,
    Decision.SUSPEND: author_suspend,
}


def moderate(*, actor: User, action: str, obj: Any, reason: str = "", note: str = "") -> Outcome:
    """Run one staff action by name (the admin and the staff page post the name)."""
    service = ACTIONS.get(action)  # type: ignore[call-overload]
    if service is None:
        raise ApplicationError("Unknown moderation action.", code="invalid_action", extra={"field": "action"})
    if action == Decision.UNHIDE:
        return content_unhide(actor=actor, obj=obj, note=note)
    return service(actor=actor, obj=obj, reason=reason, note=note)


# --- reads --------------------------------------------------------------------------------------


def content_lookup(label: str, object_id: Any) -> Any:
    """The registered content ``label`` ("jobs.job") number ``object_id``, or 404."""
    entry_models = registry.registered()
    if str(label).lower() not in entry_models:
        raise NotFoundError("This kind of content cannot be reported.", code="not_reportable")
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        raise NotFoundError("No such content.")
    app_label, _, model_name = str(label).lower().partition(".")
    try:
        model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
    except ContentType.DoesNotExist:
        model = None
    if model is None:
        raise NotFoundError("This kind of content cannot be reported.", code="not_reportable")
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None:
        raise NotFoundError(f"No such {entry_models[str(label).lower()].label}.")
    return obj


def flag_content(flag: ContentFlag) -> Any | None:
    """The content a flag is about (None if it was deleted since)."""
    model = flag.content_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=flag.object_id).first()


@dataclass
class QueueItem:
    content_type: ContentType
    object_id: int
    label: str  # "job", "review", ...
    obj: Any | None  # None: deleted since it was reported
    owner: User | None
    reports: int
    oldest_at: datetime
    reasons: list[tuple[str, int]] = field(default_factory=list)  # (label, count), most first
    snapshot: str = ""
    notes: list[str] = field(default_factory=list)
    url: str = ""
    is_hidden: bool = False

    @property
    def key(self) -> str:
        return f"{self.content_type.app_label}.{self.content_type.model}"


def queue_items(*, limit: int = QUEUE_LIMIT) -> list[QueueItem]:
    """Open reports grouped by content: how many, why, the text as reported; oldest report
    first. A constant number of queries per kind of content."""
    groups = list(
        ContentFlag.objects.filter(status=ContentFlag.Status.OPEN)
        .values("content_type_id", "object_id")
        .annotate(reports=Count("id"), oldest_at=Min("created_at"))
        .order_by("oldest_at", "content_type_id", "object_id")[:limit]
    )
    if not groups:
        return []
    keys = {(g["content_type_id"], g["object_id"]) for g in groups}
    flags: dict[tuple[int, int], list[ContentFlag]] = defaultdict(list)
    by_type: dict[int, set[int]] = defaultdict(set)
    for content_type_id, object_id in keys:
        by_type[content_type_id].add(object_id)
    open_flags = ContentFlag.objects.filter(status=ContentFlag.Status.OPEN).select_related("content_owner")
    condition = models.Q()
    for content_type_id, ids in by_type.items():
        condition |= models.Q(content_type_id=content_type_id, object_id__in=ids)
    for flag in open_flags.filter(condition).order_by("created_at", "pk"):
        flags[(flag.content_type_id, flag.object_id)].append(flag)
    objects: dict[tuple[int, int], Any] = {}
    types = {ct.pk: ct for ct in ContentType.objects.filter(pk__in=by_type)}
    for content_type_id, ids in by_type.items():
        model = types[content_type_id].model_class()
        if model is None:
            continue
        for found in model._default_manager.filter(pk__in=ids):
            objects[(content_type_id, found.pk)] = found
    items = []
    for group in groups:
        key = (group["content_type_id"], group["object_id"])
        content_type = types[key[0]]
        model_class = content_type.model_class()
        entry = registry.entry_for(model_class) if model_class is not None else None
        obj = objects.get(key)
        group_flags = flags[key]
        counts: dict[str, int] = defaultdict(int)
        for flag in group_flags:
            counts[flag.get_reason_display()] += 1
        owner = next((f.content_owner for f in group_flags if f.content_owner is not None), None)
        item = QueueItem(
            content_type=content_type,
            object_id=key[1],
            label=entry.label if entry else content_type.name,
            obj=obj,
            owner=owner,
            reports=group["reports"],
            oldest_at=group["oldest_at"],
            reasons=sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])),
            snapshot=group_flags[-1].snapshot if group_flags else "",
            notes=[f.note for f in group_flags if f.note],
        )
        if obj is not None and entry is not None:
            item.url = _safe_url(entry, obj)
            item.is_hidden = bool(entry.is_hidden(obj))
        items.append(item)
    return items


def open_flag_reason(*, reporter: Any, obj: Any) -> str:
    """The reason of ``reporter``'s open report of ``obj`` ("" when none): the job page's
    "you flagged this job" line."""
    if reporter is None or not reporter.is_authenticated:
        return ""
    content_type = ContentType.objects.get_for_model(obj)
    reason = (
        ContentFlag.objects.filter(
            content_type=content_type, object_id=obj.pk, reporter=reporter, status=ContentFlag.Status.OPEN
        )
        .values_list("reason", flat=True)
        .first()
    )
    return reason or ""


def decisions_for(obj: Any) -> models.QuerySet[ModerationDecision]:
    content_type = ContentType.objects.get_for_model(obj)
    return ModerationDecision.objects.filter(content_type=content_type, object_id=obj.pk).select_related(
        "actor"
    )


# --- freelancer profiles in the queue -------------------------------------------------------------


@transaction.atomic
def freelancer_profile_hide(*, actor: User, profile_id: int) -> Any:
    """Staff hide a freelancer profile: it leaves lists, search, matches and its public page
    for everyone but its owner and staff."""
    from .models import FreelancerProfile
    from .services import _queue_match_refresh

    _require_staff(actor)
    profile = FreelancerProfile.objects.select_for_update().filter(pk=profile_id).first()
    if profile is None:
        raise NotFoundError("No such profile.")
    if profile.hidden_at is not None:
        raise ConflictError("This profile is already hidden.", code="already_hidden")
    profile.hidden_at = timezone.now()
    profile.save(update_fields=["hidden_at", "updated_at"])
    _queue_match_refresh(profile.pk)
    return profile


@transaction.atomic
def freelancer_profile_unhide(*, actor: User, profile_id: int) -> Any:
    from .models import FreelancerProfile
    from .services import _queue_match_refresh

    _require_staff(actor)
    profile = FreelancerProfile.objects.select_for_update().filter(pk=profile_id).first()
    if profile is None:
        raise NotFoundError("No such profile.")
    if profile.hidden_at is None:
        raise ConflictError("This profile is not hidden.", code="not_hidden")
    profile.hidden_at = None
    profile.save(update_fields=["hidden_at", "updated_at"])
    _queue_match_refresh(profile.pk)
    return profile


def _profile_visible_to(profile: Any, user: Any) -> bool:
    from .models import FreelancerProfile
    from .selectors import freelancer_visible_q

    return FreelancerProfile.objects.filter(freelancer_visible_q(user), pk=profile.pk).exists()


def register() -> None:
    """Called from ``AccountsConfig.ready``: freelancer profiles in the queue."""
    from django.urls import reverse

    from .models import FreelancerProfile

    registry.register(
        FreelancerProfile,
        registry.Moderated(
            label="profile",
            owner=lambda profile: profile.user,
            snapshot=lambda profile: f"{profile.title}\n\n{profile.overview}",
            url=lambda profile: reverse("accounts:freelancer_detail", args=[profile.public_id]),
            hide=lambda actor, profile, reason: _discard(
                freelancer_profile_hide(actor=actor, profile_id=profile.pk)
            ),
            unhide=lambda actor, profile: _discard(
                freelancer_profile_unhide(actor=actor, profile_id=profile.pk)
            ),
            is_hidden=lambda profile: profile.hidden_at is not None,
            visible_to=_profile_visible_to,
        ),
    )


def _discard(_: Any) -> None:
    return None
