"""Events: register and cancel (capacity never exceeded, even concurrently), the join link
only for registered members, the .ics file, reminders exactly once, the viewer's time
zone, and the API."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import FreelancerProfile
from community import events as event_services
from community.models import Event, EventRegistration
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from messaging.models import Notification, NotificationKind
from tests import factories
from tests.conftest import requires_postgres

_counter = iter(range(1, 10**6))


def make_event(**overrides) -> Event:
    n = next(_counter)
    values = {
        "title": f"Webinar {n}",
        "slug": f"webinar-{n}",
        "description": "Learn things.",
        "speaker_name": "Ada Speaker",
        "speaker_title": "Expert",
        "starts_at": timezone.now() + timedelta(days=3),
        "duration_minutes": 60,
        "capacity": 10,
        "join_url": f"https://meet.example.com/secret-{n}",
        "is_published": True,
        "created_by": overrides.pop("created_by", None) or factories.make_staff(),
    }
    values.update(overrides)
    return Event.objects.create(**values)


def detail_url(event: Event) -> str:
    return reverse("community:event_detail", kwargs={"slug": event.slug})


# --- services ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_cancel_and_register_again():
    event = make_event(capacity=2)
    member = factories.make_freelancer()
    registration = event_services.event_register(actor=member, event_id=event.pk)
    event.refresh_from_db()
    assert registration.status == EventRegistration.Status.REGISTERED
    assert event.registered_count == 1
    with pytest.raises(ConflictError) as error:
        event_services.event_register(actor=member, event_id=event.pk)
    assert error.value.code == "already_registered"
    event_services.event_cancel(actor=member, event_id=event.pk)
    event.refresh_from_db()
    assert event.registered_count == 0
    with pytest.raises(ConflictError):
        event_services.event_cancel(actor=member, event_id=event.pk)
    again = event_services.event_register(actor=member, event_id=event.pk)
    event.refresh_from_db()
    assert again.pk == registration.pk and again.status == EventRegistration.Status.REGISTERED
    assert again.cancelled_at is None
    assert event.registered_count == 1
    assert EventRegistration.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_full_event_refuses_and_cancel_frees_a_seat():
    event = make_event(capacity=1)
    first, second = factories.make_freelancer(), factories.make_client()
    event_services.event_register(actor=first, event_id=event.pk)
    with pytest.raises(ConflictError) as error:
        event_services.event_register(actor=second, event_id=event.pk)
    assert error.value.code == "event_full"
    event_services.event_cancel(actor=first, event_id=event.pk)
    event_services.event_register(actor=second, event_id=event.pk)
    event.refresh_from_db()
    assert event.registered_count == 1


@pytest.mark.django_db
def test_started_unpublished_and_missing_events_are_refused():
    member = factories.make_freelancer()
    started = make_event(starts_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(ApplicationError) as error:
        event_services.event_register(actor=member, event_id=started.pk)
    assert error.value.code == "event_started"
    hidden = make_event(is_published=False)
    with pytest.raises(NotFoundError):
        event_services.event_register(actor=member, event_id=hidden.pk)
    with pytest.raises(NotFoundError):
        event_services.event_register(actor=member, event_id=10**9)


@pytest.mark.django_db
def test_cannot_cancel_after_the_start():
    event = make_event()
    member = factories.make_freelancer()
    event_services.event_register(actor=member, event_id=event.pk)
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ApplicationError) as error:
        event_services.event_cancel(actor=member, event_id=event.pk)
    assert error.value.code == "event_started"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_never_exceed_capacity():
    capacity, count = 3, 8
    event = make_event(capacity=capacity)
    members = [factories.make_freelancer() for _ in range(count)]
    start = threading.Barrier(count)
    results: list[str] = []
    errors: list[BaseException] = []

    def run(member) -> None:
        try:
            start.wait(timeout=10)
            event_services.event_register(actor=member, event_id=event.pk)
            results.append("ok")
        except ConflictError as error:
            results.append(error.code)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == ["event_full"] * (count - capacity) + ["ok"] * capacity
    event.refresh_from_db()
    assert event.registered_count == capacity
    assert EventRegistration.objects.filter(event=event, status="registered").count() == capacity


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_register_and_cancel_keep_the_count_exact():
    event = make_event(capacity=2)
    holder = factories.make_freelancer()
    event_services.event_register(actor=holder, event_id=event.pk)
    others = [factories.make_client() for _ in range(4)]
    start = threading.Barrier(len(others) + 1)
    errors: list[BaseException] = []

    def run(action) -> None:
        try:
            start.wait(timeout=10)
            action()
        except ConflictError:
            pass
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    actions = [lambda m=m: event_services.event_register(actor=m, event_id=event.pk) for m in others]
    actions.append(lambda: event_services.event_cancel(actor=holder, event_id=event.pk))
    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    event.refresh_from_db()
    registered = EventRegistration.objects.filter(event=event, status="registered").count()
    assert event.registered_count == registered <= 2


# --- pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_upcoming_and_past_with_recordings(client):
    upcoming = make_event(title="Coming soon")
    past = make_event(
        title="Long ago",
        starts_at=timezone.now() - timedelta(days=10),
        recording_url="https://videos.example.com/r1",
    )
    make_event(title="Secret draft", is_published=False)
    page = client.get(reverse("community:event_list")).content.decode()
    assert upcoming.title in page and past.title in page
    assert "Secret draft" not in page
    assert 'href="https://videos.example.com/r1"' in page
    assert upcoming.join_url not in page


@pytest.mark.django_db
def test_list_empty_states(client):
    Event.objects.all().delete()
    page = client.get(reverse("community:event_list")).content.decode()
    assert 'data-testid="no-upcoming"' in page and 'data-testid="no-past"' in page


@pytest.mark.django_db
def test_join_link_only_for_registered_members(client):
    event = make_event()
    assert event.join_url not in client.get(detail_url(event)).content.decode()
    member = factories.make_freelancer()
    client.force_login(member)
    page = client.get(detail_url(event)).content.decode()
    assert event.join_url not in page and 'data-testid="register"' in page
    response = client.post(reverse("community:event_register", kwargs={"slug": event.slug}), follow=True)
    page = response.content.decode()
    assert "You are registered" in page
    assert event.join_url in page and 'data-testid="join-link"' in page
    response = client.post(reverse("community:event_cancel", kwargs={"slug": event.slug}), follow=True)
    page = response.content.decode()
    assert "registration is cancelled" in page
    assert event.join_url not in page


@pytest.mark.django_db
def test_register_page_errors_and_methods(client):
    event = make_event(capacity=1)
    url = reverse("community:event_register", kwargs={"slug": event.slug})
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    event_services.event_register(actor=factories.make_client(), event_id=event.pk)
    client.force_login(factories.make_freelancer())
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "This event is full." in response.content.decode()
    assert 'data-testid="event-full"' in response.content.decode()
    cancel = client.post(reverse("community:event_cancel", kwargs={"slug": event.slug}), follow=True)
    assert "You are not registered" in cancel.content.decode()
    hidden = make_event(is_published=False)
    assert client.get(detail_url(hidden)).status_code == 404
    assert client.post(reverse("community:event_register", kwargs={"slug": hidden.slug})).status_code == 404
    assert client.get(reverse("community:event_detail", kwargs={"slug": "no-such"})).status_code == 404


@pytest.mark.django_db
def test_start_time_in_the_viewers_time_zone(client):
    event = make_event(starts_at=datetime(2031, 3, 14, 15, 30, tzinfo=UTC))
    member = factories.make_freelancer()
    FreelancerProfile.objects.filter(user=member).update(timezone="Asia/Tokyo")
    client.force_login(member)
    page = client.get(detail_url(event)).content.decode()
    assert "Saturday, March 15, 2031, 00:30 (Asia/Tokyo)" in page  # UTC+9
    assert "Friday, March 14, 2031, 15:30 UTC" in page
    client.logout()
    anonymous = client.get(detail_url(event)).content.decode()
    assert "Friday, March 14, 2031, 15:30 (UTC)" in anonymous
    assert "Asia/Tokyo" not in anonymous


@pytest.mark.django_db
def test_viewer_time_zone_follows_the_active_role():
    member = factories.make_client()
    assert event_services.viewer_timezone_name(member) == "UTC"
    member.client_profile.timezone = "America/New_York"
    member.client_profile.save(update_fields=["timezone"])
    assert event_services.viewer_timezone_name(member) == "America/New_York"
    assert event_services.viewer_timezone_name(None) == "UTC"


# --- calendar ----------------------------------------------------------------------------


def _unfold(body: str) -> list[str]:
    return body.replace("\r\n ", "").split("\r\n")


@pytest.mark.django_db
def test_ics_file(client, settings):
    settings.SITE_URL = "https://market.example.com"
    event = make_event(
        title="Pricing; fees, and more",
        description="Line one\nLine two with a backslash \\ and a comma, ok" + " long" * 30,
        starts_at=datetime(2031, 1, 2, 9, 0, tzinfo=UTC),
        duration_minutes=90,
    )
    response = client.get(reverse("community:event_calendar", kwargs={"slug": event.slug}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f'filename="{event.slug}.ics"' in response["Content-Disposition"]
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    lines = _unfold(body)
    assert "VERSION:2.0" in lines and "BEGIN:VEVENT" in lines and "END:VEVENT" in lines
    assert f"UID:event-{event.pk}@market.example.com" in lines
    assert "DTSTART:20310102T090000Z" in lines
    assert "DTEND:20310102T103000Z" in lines
    assert any(line.startswith("DTSTAMP:") and line.endswith("Z") for line in lines)
    assert "SUMMARY:Pricing\\; fees\\, and more" in lines
    description = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "Line one\\nLine two with a backslash \\\\ and a comma\\, ok" in description
    assert f"URL:https://market.example.com/events/{event.slug}/" in lines
    assert event.join_url not in body


@pytest.mark.django_db
def test_ics_includes_the_join_link_only_for_registered_members(client):
    event = make_event()
    member = factories.make_freelancer()
    client.force_login(member)
    url = reverse("community:event_calendar", kwargs={"slug": event.slug})
    assert event.join_url not in "".join(_unfold(client.get(url).content.decode()))
    event_services.event_register(actor=member, event_id=event.pk)
    unfolded = "".join(_unfold(client.get(url).content.decode()))
    assert f"LOCATION:{event.join_url}" in unfolded
    hidden = make_event(is_published=False)
    assert client.get(reverse("community:event_calendar", kwargs={"slug": hidden.slug})).status_code == 404


# --- reminders ---------------------------------------------------------------------------


def _reminders(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=NotificationKind.COMMUNITY).order_by("pk"))


@pytest.mark.django_db
def test_reminders_a_day_and_an_hour_before_exactly_once(django_capture_on_commit_callbacks):
    now = timezone.now()
    event = make_event(starts_at=now + timedelta(hours=20))
    member, cancelled = factories.make_freelancer(), factories.make_client()
    FreelancerProfile.objects.filter(user=member).update(timezone="Asia/Tokyo")
    event_services.event_register(actor=member, event_id=event.pk)
    event_services.event_register(actor=cancelled, event_id=event.pk)
    event_services.event_cancel(actor=cancelled, event_id=event.pk)
    far = make_event(starts_at=now + timedelta(days=3))
    event_services.event_register(actor=member, event_id=far.pk)

    with django_capture_on_commit_callbacks(execute=True):
        assert event_services.event_reminders_send(now=now) == {"day": 1, "hour": 0}
        assert event_services.event_reminders_send(now=now) == {"day": 0, "hour": 0}
    sent = _reminders(member)
    assert len(sent) == 1
    assert "starts tomorrow" in sent[0].text and "JST" in sent[0].text and "UTC" in sent[0].text
    assert sent[0].url == detail_url(event)
    assert _reminders(cancelled) == []

    later = event.starts_at - timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        assert event_services.event_reminders_send(now=later) == {"day": 0, "hour": 1}
        assert event_services.event_reminders_send(now=later) == {"day": 0, "hour": 0}
    sent = _reminders(member)
    assert len(sent) == 2 and "in an hour" in sent[1].text
    registration = EventRegistration.objects.get(event=event, user=member)
    assert registration.reminded_day_at is not None and registration.reminded_hour_at is not None
    # after the start nothing more is sent
    assert event_services.event_reminders_send(now=event.starts_at + timedelta(minutes=1)) == {
        "day": 0,
        "hour": 0,
    }


@pytest.mark.django_db
def test_late_registration_gets_only_the_hour_reminder():
    now = timezone.now()
    event = make_event(starts_at=now + timedelta(minutes=40))
    member = factories.make_freelancer()
    event_services.event_register(actor=member, event_id=event.pk)
    assert event_services.event_reminders_send(now=now) == {"day": 0, "hour": 1}
    assert len(_reminders(member)) == 1


@pytest.mark.django_db
def test_reminder_task_runs_the_service():
    from community.tasks import send_event_reminders

    event = make_event(starts_at=timezone.now() + timedelta(minutes=30))
    member = factories.make_freelancer()
    event_services.event_register(actor=member, event_id=event.pk)
    assert send_event_reminders.apply().get() == {"day": 0, "hour": 1}
    assert send_event_reminders.apply().get() == {"day": 0, "hour": 0}
    assert len(_reminders(member)) == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reminder_runs_send_once():
    now = timezone.now()
    event = make_event(starts_at=now + timedelta(hours=5))
    members = [factories.make_freelancer() for _ in range(3)]
    for member in members:
        event_services.event_register(actor=member, event_id=event.pk)
    count = 4
    start = threading.Barrier(count)
    totals: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            totals.append(event_services.event_reminders_send(now=now)["day"])
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(totals) == len(members)
    for member in members:
        assert len(_reminders(member)) == 1


def test_reminders_are_in_the_beat_schedule(settings):
    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "community.send_event_reminders"
    ]
    assert len(entries) == 1


# --- API ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lists_and_detail(api_client):
    upcoming = make_event(title="API upcoming")
    past = make_event(
        title="API past",
        starts_at=timezone.now() - timedelta(days=2),
        recording_url="https://v.example.com/x",
    )
    make_event(title="API hidden", is_published=False)
    listing = api_client.get("/api/v1/events/").json()
    assert [e["slug"] for e in listing if e["slug"] in (upcoming.slug, past.slug)] == [upcoming.slug]
    assert "join_url" not in listing[0]
    past_listing = api_client.get("/api/v1/events/", {"when": "past"}).json()
    assert past.slug in [e["slug"] for e in past_listing]
    assert api_client.get("/api/v1/events/", {"when": "tomorrow"}).status_code == 400
    detail = api_client.get(f"/api/v1/events/{upcoming.slug}/").json()
    assert detail["join_url"] == "" and detail["is_registered"] is False and detail["seats_left"] == 10
    assert api_client.get("/api/v1/events/no-such/").status_code == 404


@pytest.mark.django_db
def test_api_register_and_cancel(api_client):
    event = make_event(capacity=1)
    url = f"/api/v1/events/{event.slug}/registration/"
    assert api_client.post(url).status_code in (401, 403)
    member = factories.make_freelancer()
    member.freelancer_profile.timezone = "Asia/Tokyo"
    member.freelancer_profile.save(update_fields=["timezone"])
    api_client.force_authenticate(member)
    created = api_client.post(url)
    assert created.status_code == 201
    body = created.json()
    assert body["is_registered"] is True and body["join_url"] == event.join_url and body["seats_left"] == 0
    assert body["timezone"] == "Asia/Tokyo" and body["starts_at_local"].endswith("+09:00")
    again = api_client.post(url)
    assert again.status_code == 409 and again.json()["code"] == "already_registered"
    other = factories.make_client()
    api_client.force_authenticate(other)
    full = api_client.post(url)
    assert full.status_code == 409 and full.json()["code"] == "event_full"
    assert api_client.delete(url).status_code == 409
    api_client.force_authenticate(member)
    cancelled = api_client.delete(url)
    assert cancelled.status_code == 200 and cancelled.json()["join_url"] == ""
    hidden = make_event(is_published=False)
    assert api_client.post(f"/api/v1/events/{hidden.slug}/registration/").status_code == 404


# --- admin and demo data -------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_publish_events_in_admin_and_capacity_cannot_drop_below_seats(client):
    staff = factories.make_staff()
    client.force_login(staff)
    form = {
        "title": "Admin webinar",
        "slug": "admin-webinar",
        "description": "Desc",
        "speaker_name": "Speaker",
        "speaker_title": "",
        "starts_at_0": "2031-05-01",
        "starts_at_1": "10:00:00",
        "duration_minutes": 45,
        "capacity": 2,
        "join_url": "https://meet.example.com/admin",
        "recording_url": "",
        "is_published": "on",
        "registrations-TOTAL_FORMS": 0,
        "registrations-INITIAL_FORMS": 0,
    }
    response = client.post(reverse("admin:community_event_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(slug="admin-webinar")
    assert event.created_by == staff and event.is_published
    event_services.event_register(actor=factories.make_freelancer(), event_id=event.pk)
    event_services.event_register(actor=factories.make_client(), event_id=event.pk)
    form["capacity"] = 1
    form["registrations-TOTAL_FORMS"] = 2
    form["registrations-INITIAL_FORMS"] = 2
    for index, registration in enumerate(EventRegistration.objects.filter(event=event).order_by("pk")):
        form[f"registrations-{index}-id"] = registration.pk
        form[f"registrations-{index}-event"] = event.pk
    response = client.post(reverse("admin:community_event_change", args=[event.pk]), form)
    assert response.status_code == 200
    assert "2 seats are already taken" in response.content.decode()
    event.refresh_from_db()
    assert (event.capacity, event.registered_count) == (2, 2)
    response = client.post(
        reverse("admin:community_event_changelist"),
        {"action": "unpublish", "_selected_action": [event.pk]},
        follow=True,
    )
    event.refresh_from_db()
    assert not event.is_published
    assert "Unpublished 1." in response.content.decode()
    client.logout()
    assert client.get(detail_url(event)).status_code == 404


@pytest.mark.django_db
def test_demo_seed_makes_three_upcoming_and_two_past_events_once():
    from community.community_seeding import seed_demo_help_events
    from community.models import Article

    Event.objects.all().delete()
    factories.make_staff()
    assert seed_demo_help_events() == {"events": 5}
    assert seed_demo_help_events() == {"events": 0}
    assert len(event_services.upcoming_events()) == 3
    past = event_services.past_events()
    assert len(past) == 2 and all(e.recording_url for e in past)
    assert Article.objects.filter(is_published=True).count() >= 15


@pytest.mark.django_db
def test_event_set_published_is_staff_only():
    event = make_event()
    with pytest.raises(PermissionDeniedError):
        event_services.event_set_published(actor=factories.make_client(), event_id=event.pk, published=False)
    staff = factories.make_staff()
    with pytest.raises(NotFoundError):
        event_services.event_set_published(actor=staff, event_id=10**9, published=False)
    assert not event_services.event_set_published(
        actor=staff, event_id=event.pk, published=False
    ).is_published
    with pytest.raises(NotFoundError):
        event_services.event_get_published(slug=event.slug)
    assert event_services.event_set_published(actor=staff, event_id=event.pk, published=True).is_published


@pytest.mark.django_db
def test_reminder_claim_rechecks_the_event():
    # given a registration that was due when the run listed it
    now = timezone.now()
    event = make_event(starts_at=now + timedelta(hours=5))
    member = factories.make_freelancer()
    registration = event_services.event_register(actor=member, event_id=event.pk)
    # when the event is unpublished (or has started) before the claim
    Event.objects.filter(pk=event.pk).update(is_published=False)
    assert event_services._send_reminder(registration.pk, "day", now) is False
    Event.objects.filter(pk=event.pk).update(is_published=True, starts_at=now - timedelta(minutes=1))
    assert event_services._send_reminder(registration.pk, "hour", now) is False
    # then nothing is sent and nothing is claimed
    assert _reminders(member) == []
    registration.refresh_from_db()
    assert registration.reminded_day_at is None and registration.reminded_hour_at is None


@pytest.mark.django_db
def test_seats_left_is_the_same_in_the_page_view_and_the_api(api_client):
    event = make_event(capacity=2)
    event_services.event_register(actor=factories.make_client(), event_id=event.pk)
    event.refresh_from_db()
    assert event_services.event_seats_left(event) == 1
    assert event_services.event_view(event=event, viewer=None).seats_left == 1
    assert api_client.get(f"/api/v1/events/{event.slug}/").json()["seats_left"] == 1
    listed = [e for e in api_client.get("/api/v1/events/").json() if e["slug"] == event.slug]
    assert listed[0]["seats_left"] == 1
