"""Events (webinars): registering and cancelling (services), the event lists and the
viewer's view of one event (selectors), the .ics calendar file and the reminders.

Capacity: ``event_register`` and ``event_cancel`` lock the event row
(``select_for_update``) before they read ``registered_count``, so concurrent registrations
queue on that row and the seat count is never exceeded; the database's CHECK constraint
``event_not_over_capacity`` is the last line of defence. One registration row per member
and event: cancelling marks it cancelled, registering again revives it.

Reminders: ``event_reminders_send`` (beat, every 5 minutes) notifies each registered
member once a day before (when the start is less than 24 hours and more than one hour
away) and once an hour before. Each notification is claimed by a conditional UPDATE
(``reminded_day_at IS NULL`` -> now) in the same transaction as the notification row:
two runs, even concurrent ones, send it once; a failed notification rolls the claim back.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from messaging.models import NotificationKind

from .models import Event, EventRegistration
from .publishing import published_set

if TYPE_CHECKING:
    from accounts.models import User

DAY_REMINDER_BEFORE = timedelta(hours=24)
HOUR_REMINDER_BEFORE = timedelta(hours=1)
REMINDER_BATCH = 500
MAX_DURATION_MINUTES = 32767  # Event.duration_minutes is a PositiveSmallIntegerField


# --- time zones --------------------------------------------------------------------------


def viewer_timezone_name(user: Any) -> str:
    """The time zone on the viewer's profile (the one of their active role first), else UTC."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "UTC"
    profiles = ["client_profile", "freelancer_profile"]
    if getattr(user, "active_role", "") != "client":
        profiles.reverse()
    for name in profiles:
        profile = getattr(user, name, None) if hasattr(user, name) else None
        zone = getattr(profile, "timezone", "") if profile is not None else ""
        if zone:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
            return zone
    return "UTC"


# --- selectors ---------------------------------------------------------------------------


def published_events() -> QuerySet[Event]:
    return Event.objects.filter(is_published=True)


def event_ends_at(event: Event) -> datetime:
    return event.starts_at + timedelta(minutes=event.duration_minutes)


def event_seats_left(event: Event) -> int:
    return max(0, event.capacity - event.registered_count)


def upcoming_events(*, now: datetime | None = None) -> list[Event]:
    """Published events that have not ended, soonest first (those in progress included)."""
    now = now or timezone.now()
    earliest = now - timedelta(minutes=MAX_DURATION_MINUTES)  # an event that started then may still run
    candidates = published_events().filter(starts_at__gte=earliest).order_by("starts_at", "pk")
    return [e for e in candidates if event_ends_at(e) > now]


def past_events(*, now: datetime | None = None, limit: int = 30) -> list[Event]:
    """Published events that have ended, latest first."""
    now = now or timezone.now()
    candidates = published_events().filter(starts_at__lt=now).order_by("-starts_at", "-pk")[: limit + 50]
    return [e for e in candidates if event_ends_at(e) <= now][:limit]


def registered_event_ids(*, user: Any, events: list[Event]) -> set[int]:
    if user is None or not getattr(user, "is_authenticated", False) or not events:
        return set()
    return set(
        EventRegistration.objects.filter(
            user=user, event__in=events, status=EventRegistration.Status.REGISTERED
        ).values_list("event_id", flat=True)
    )


def event_get_published(*, slug: str | None = None, event_id: int | None = None) -> Event:
    events = published_events().select_related("created_by")
    event = events.filter(pk=event_id).first() if event_id is not None else events.filter(slug=slug).first()
    if event is None:
        raise NotFoundError("No such event.", code="event_not_found")
    return event


@dataclass(frozen=True)
class EventView:
    """One event as a viewer sees it."""

    event: Event
    registration: EventRegistration | None
    timezone_name: str
    starts_local: datetime
    ends_at: datetime
    seats_left: int
    has_started: bool
    has_ended: bool

    @property
    def is_registered(self) -> bool:
        return (
            self.registration is not None and self.registration.status == EventRegistration.Status.REGISTERED
        )

    @property
    def join_url(self) -> str:
        """Only registered members ever get the join link."""
        return self.event.join_url if self.is_registered else ""

    @property
    def can_register(self) -> bool:
        return not self.is_registered and not self.has_started and self.seats_left > 0

    @property
    def can_cancel(self) -> bool:
        return self.is_registered and not self.has_started


def event_view(*, event: Event, viewer: Any, now: datetime | None = None) -> EventView:
    now = now or timezone.now()
    registration = None
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        registration = EventRegistration.objects.filter(event=event, user=viewer).first()
    zone = viewer_timezone_name(viewer)
    ends_at = event_ends_at(event)
    return EventView(
        event=event,
        registration=registration,
        timezone_name=zone,
        starts_local=event.starts_at.astimezone(zoneinfo.ZoneInfo(zone)),
        ends_at=ends_at,
        seats_left=event_seats_left(event),
        has_started=event.starts_at <= now,
        has_ended=ends_at <= now,
    )


# --- services ----------------------------------------------------------------------------


def _event_for_update(event_id: int) -> Event:
    event = Event.objects.select_for_update().filter(pk=event_id, is_published=True).first()
    if event is None:
        raise NotFoundError("No such event.", code="event_not_found")
    return event


def _event_url(event: Event) -> str:
    return reverse("community:event_detail", kwargs={"slug": event.slug})


@transaction.atomic
def event_register(*, actor: User, event_id: int) -> EventRegistration:
    """Take a seat at an upcoming event. Locks the event row; refuses a full or started
    event and a second registration; revives a cancelled one."""
    if getattr(actor, "is_suspended", False):
        raise PermissionDeniedError("Your account is suspended.", code="suspended")
    event = _event_for_update(event_id)
    now = timezone.now()
    if event.starts_at <= now:
        raise ApplicationError("This event has already started.", code="event_started")
    registration = EventRegistration.objects.select_for_update().filter(event=event, user=actor).first()
    if registration is not None and registration.status == EventRegistration.Status.REGISTERED:
        raise ConflictError("You are already registered for this event.", code="already_registered")
    if event.registered_count >= event.capacity:
        raise ConflictError("This event is full.", code="event_full")
    if registration is None:
        registration = EventRegistration.objects.create(event=event, user=actor, created_at=now)
    else:
        registration.status = EventRegistration.Status.REGISTERED
        registration.cancelled_at = None
        registration.save(update_fields=["status", "cancelled_at"])
    Event.objects.filter(pk=event.pk).update(registered_count=F("registered_count") + 1)
    return registration


@transaction.atomic
def event_cancel(*, actor: User, event_id: int) -> EventRegistration:
    """Give the seat back before the event starts. Locks the event row, then the registration."""
    event = _event_for_update(event_id)
    registration = EventRegistration.objects.select_for_update().filter(event=event, user=actor).first()
    if registration is None or registration.status != EventRegistration.Status.REGISTERED:
        raise ConflictError("You are not registered for this event.", code="not_registered")
    if event.starts_at <= timezone.now():
        raise ApplicationError("This event has already started.", code="event_started")
    registration.status = EventRegistration.Status.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.save(update_fields=["status", "cancelled_at"])
    Event.objects.filter(pk=event.pk).update(registered_count=F("registered_count") - 1)
    return registration


def _reminder_text(event: Event, user: User, which: str) -> str:
    zone = zoneinfo.ZoneInfo(viewer_timezone_name(user))
    local = event.starts_at.astimezone(zone)
    when = "tomorrow" if which == "day" else "in an hour"
    at = f"{local:%H:%M} {local.tzname()}"
    if str(zone) != "UTC":
        at += f" ({event.starts_at.astimezone(zoneinfo.ZoneInfo('UTC')):%H:%M} UTC)"
    return f"Reminder: “{event.title}” starts {when}, at {at}. The join link is on the event page."


def _send_reminder(registration_id: int, which: str, now: datetime) -> bool:
    """Claim and send one reminder. Returns True when this call sent it."""
    from messaging import services as messaging_services

    field = "reminded_day_at" if which == "day" else "reminded_hour_at"
    with transaction.atomic():
        # Re-check what made it due: an event unpublished or started since the due list was
        # read gets no reminder. A separate read, not a join in the claim: Django turns a
        # join into "pk IN (subquery)", which PostgreSQL does not re-evaluate after waiting
        # for a concurrent claim, so two runs would both claim the row.
        if not Event.objects.filter(
            registrations__pk=registration_id, is_published=True, starts_at__gt=now
        ).exists():
            return False
        claimed = EventRegistration.objects.filter(
            pk=registration_id, status=EventRegistration.Status.REGISTERED, **{f"{field}__isnull": True}
        ).update(**{field: now})
        if not claimed:
            return False
        registration = EventRegistration.objects.select_related("event", "user").get(pk=registration_id)
        messaging_services.notify(
            recipient=registration.user,
            kind=NotificationKind.COMMUNITY,
            text=_reminder_text(registration.event, registration.user, which),
            url=_event_url(registration.event),
            subject=registration.event,
        )
    return True


def event_reminders_send(*, now: datetime | None = None) -> dict[str, int]:
    """Send the reminders that are due (see the module docstring). Safe to run twice, and
    twice at once."""
    now = now or timezone.now()
    registered = EventRegistration.objects.filter(
        status=EventRegistration.Status.REGISTERED, event__is_published=True
    )
    due_day = registered.filter(
        reminded_day_at__isnull=True,
        event__starts_at__gt=now + HOUR_REMINDER_BEFORE,
        event__starts_at__lte=now + DAY_REMINDER_BEFORE,
    ).values_list("pk", flat=True)[:REMINDER_BATCH]
    due_hour = registered.filter(
        reminded_hour_at__isnull=True,
        event__starts_at__gt=now,
        event__starts_at__lte=now + HOUR_REMINDER_BEFORE,
    ).values_list("pk", flat=True)[:REMINDER_BATCH]
    sent = {"day": 0, "hour": 0}
    for which, ids in (("day", list(due_day)), ("hour", list(due_hour))):
        for registration_id in ids:
            sent[which] += int(_send_reminder(registration_id, which, now))
    return sent


# --- calendar ----------------------------------------------------------------------------


def _ics_escape(text: str) -> str:
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _ics_fold(line: str) -> list[str]:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1),
    without splitting a UTF-8 character."""
    out: list[str] = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode("utf-8")) > limit:
            out.append(current)
            current = " " + char
            limit = 75
        else:
            current += char
    out.append(current)
    return out


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def event_ics(*, event: Event, viewer: Any, now: datetime | None = None) -> str:
    """The event as an iCalendar file (one VEVENT, times in UTC). The join link is included
    only for a registered viewer."""
    view = event_view(event=event, viewer=viewer)
    site = settings.SITE_URL.rstrip("/")
    host = site.split("://", 1)[-1].split("/", 1)[0] or "marketplace"
    page = f"{site}{_event_url(event)}"
    description = event.description
    speaker = event.speaker_name + (f", {event.speaker_title}" if event.speaker_title else "")
    description = f"{description}\n\nSpeaker: {speaker}\nEvent page: {page}"
    if view.join_url:
        description += f"\nJoin: {view.join_url}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{_ics_escape(settings.SITE_NAME)}//Events//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:event-{event.pk}@{host}",
        f"DTSTAMP:{_ics_time(now or timezone.now())}",
        f"DTSTART:{_ics_time(event.starts_at)}",
        f"DTEND:{_ics_time(view.ends_at)}",
        f"SUMMARY:{_ics_escape(event.title)}",
        f"DESCRIPTION:{_ics_escape(description)}",
        f"URL:{page}",
        f"LOCATION:{_ics_escape(view.join_url or 'Online')}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    folded = [part for line in lines for part in _ics_fold(line)]
    return "\r\n".join(folded) + "\r\n"


def event_set_published(*, actor: User, event_id: int, published: bool) -> Event:
    """Publish or unpublish an event (staff). Locks the event row."""
    return published_set(
        actor=actor,
        model=Event,
        object_id=event_id,
        published=published,
        noun="event",
        not_found_code="event_not_found",
    )
