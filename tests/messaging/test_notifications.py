"""Notifications: created and pushed live, emailed by a task according to per-kind
preferences, chat digests batched per conversation, and the signed unsubscribe link."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.utils import timezone

from messaging import emails, selectors, services, tasks
from messaging.models import Channel, Notification, NotificationPreference, Participant

pytestmark = pytest.mark.django_db

T0 = "2026-03-02 09:00:00+00:00"


def at(minutes: float):
    """A moment ``minutes`` after T0, frozen."""
    from datetime import datetime

    return time_machine.travel(datetime.fromisoformat(T0) + timedelta(minutes=minutes), tick=False)


# --- notify ----------------------------------------------------------------------------------


def test_notify_stores_pushes_and_emails(bob, broadcasts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(
            recipient=bob, kind="contract", text="Milestone funded", url="/contracts/7/"
        )

    assert (notification.recipient_id, notification.kind, notification.text, notification.url) == (
        bob.pk,
        "contract",
        "Milestone funded",
        "/contracts/7/",
    )
    assert [(group, frame["type"], frame["unread_notifications"]) for group, frame in broadcasts] == [
        (f"chat.user.{bob.pk}", "notification", 1)
    ]
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["bob@example.com"]
    assert email.subject == "[Marketplace] Milestone funded"
    assert "https://marketplace.example/contracts/7/" in email.body
    unsubscribe = emails.unsubscribe_url(bob.pk, "contract")
    assert unsubscribe in email.body
    assert email.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert Notification.objects.get().emailed_at is not None


def test_the_email_task_is_safe_to_run_twice(bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(recipient=bob, kind="offer", text="New offer", url="/offers/1/")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_notification_email(notification.pk) is False

    assert len(mail.outbox) == 1


def test_in_app_only_means_no_email_and_off_means_nothing(bob, django_capture_on_commit_callbacks):
    services.notification_preferences_set(actor=bob, preferences={"offer": "in_app", "review": "off"})

    with django_capture_on_commit_callbacks(execute=True):
        in_app = services.notify(recipient=bob, kind="offer", text="New offer")
        off = services.notify(recipient=bob, kind="review", text="New review")

    assert (in_app is not None, off) == (True, None)
    assert list(Notification.objects.values_list("kind", flat=True)) == ["offer"]
    assert mail.outbox == []


def test_notify_refuses_what_other_apps_must_not_send(bob):
    for kwargs in (
        {"kind": "gossip", "text": "x"},
        {"kind": "offer", "text": "   "},
        {"kind": "offer", "text": "x", "url": "https://evil.example/"},
        {"kind": "offer", "text": "x", "url": "//evil.example/"},
    ):
        with pytest.raises(ValueError):
            services.notify(recipient=bob, **kwargs)


def test_long_texts_are_shortened_and_subjects_recorded(bob, conversation):
    notification = services.notify(recipient=bob, kind="job", text="word " * 100, subject=conversation)

    assert len(notification.text) == 300
    assert notification.text.endswith("…")
    assert notification.subject == conversation


def test_mark_read_one_and_all(alice, bob, broadcasts, django_capture_on_commit_callbacks):
    first = services.notify(recipient=bob, kind="offer", text="one")
    services.notify(recipient=bob, kind="offer", text="two")
    services.notify(recipient=alice, kind="offer", text="alice's")

    with django_capture_on_commit_callbacks(execute=True):
        services.notification_mark_read(actor=bob, notification_id=first.pk)
    assert selectors.notification_unread_count(user_id=bob.pk) == 1
    assert broadcasts[-1] == (
        f"chat.user.{bob.pk}",
        {"type": "notifications_read", "unread_notifications": 1},
    )
    with pytest.raises(Exception) as error:
        services.notification_mark_read(actor=alice, notification_id=first.pk)
    assert error.value.status_code == 404

    assert services.notification_mark_all_read(actor=bob) == 1
    assert selectors.notification_unread_count(user_id=bob.pk) == 0
    assert selectors.notification_unread_count(user_id=alice.pk) == 1


def test_preferences_default_to_email_and_refuse_unknown_values(bob):
    assert selectors.preferences_for(user=bob) == {
        "message": "email",
        "proposal": "email",
        "offer": "email",
        "contract": "email",
        "payment": "email",
        "review": "email",
        "job": "email",
        "account": "email",
        "team": "email",
        "community": "email",
    }
    for preferences, code in (
        ({"gossip": "email"}, "invalid_kind"),
        ({"offer": "pigeon"}, "invalid_channel"),
    ):
        with pytest.raises(Exception) as error:
            services.notification_preferences_set(actor=bob, preferences=preferences)
        assert error.value.code == code


# --- chat digests ------------------------------------------------------------------------------


def digest(now_minutes: float, django_capture_on_commit_callbacks) -> int:
    with at(now_minutes), django_capture_on_commit_callbacks(execute=True):
        return tasks.send_chat_digests()


def test_chat_digest_batches_unread_messages_once_per_15_minutes(
    alice, bob, conversation, send, django_capture_on_commit_callbacks
):
    with at(0):
        send(alice, "Hi Bob, are you free?")
    with at(1):
        send(alice, "It is about the logo.")

    assert digest(1.5, django_capture_on_commit_callbacks) == 0  # still within the grace period
    assert digest(3, django_capture_on_commit_callbacks) == 1
    assert len(mail.outbox) == 1
    first = mail.outbox[0]
    assert first.to == ["bob@example.com"]
    assert first.subject == "[Marketplace] 2 unread messages from Alice A. about Logo design"
    assert "Hi Bob, are you free?" in first.body
    assert "It is about the logo." in first.body
    assert f"https://marketplace.example/messages/{conversation.pk}/" in first.body

    with at(4):
        send(alice, "Hello?")
    assert digest(10, django_capture_on_commit_callbacks) == 0  # a digest went out 7 minutes ago
    assert digest(18.1, django_capture_on_commit_callbacks) == 1
    second = mail.outbox[1]
    assert second.subject == "[Marketplace] 3 unread messages from Alice A. about Logo design"
    assert "Hello?" in second.body

    assert digest(40, django_capture_on_commit_callbacks) == 0  # nothing new since
    assert len(mail.outbox) == 2


def test_read_messages_and_own_messages_are_not_emailed(
    alice, bob, conversation, send, django_capture_on_commit_callbacks
):
    with at(0):
        send(alice, "Hi")
        services.conversation_mark_read(actor=bob, conversation_id=conversation.pk, seq=1)
        send(bob, "Hello Alice")

    assert digest(10, django_capture_on_commit_callbacks) == 1  # Alice has one unread message
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "Hello Alice" in mail.outbox[0].body


def test_muted_and_opted_out_participants_get_no_digest(
    alice, bob, carol, send, django_capture_on_commit_callbacks
):
    group = services.conversation_get_or_create_for_subject(participants=[alice, bob, carol], title="Team")
    services.conversation_mute(actor=bob, conversation_id=group.pk)
    services.notification_preferences_set(actor=carol, preferences={"message": "in_app"})
    with at(0):
        send(alice, "Standup at 10", conv=group)

    assert digest(5, django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_the_digest_is_safe_to_run_twice(alice, bob, conversation, send, django_capture_on_commit_callbacks):
    with at(0):
        send(alice, "Hi")
    participant = Participant.objects.get(conversation=conversation, user=bob)

    with at(5), django_capture_on_commit_callbacks(execute=True):
        assert services.chat_digest_send(participant_id=participant.pk) is True
        assert services.chat_digest_send(participant_id=participant.pk) is False

    assert len(mail.outbox) == 1


def test_system_messages_are_included_in_digests(bob, conversation, django_capture_on_commit_callbacks):
    with at(0):
        services.message_post_system(conversation=conversation, text="Offer sent")

    assert digest(5, django_capture_on_commit_callbacks) == 2  # both Alice and Bob
    assert all("Offer sent" in m.body for m in mail.outbox)


# --- unsubscribe --------------------------------------------------------------------------------


def test_the_unsubscribe_link_works_without_logging_in(client, bob):
    token = emails.unsubscribe_token(bob.pk, "message")
    url = f"/notifications/unsubscribe/{token}/"

    page = client.get(url)
    assert page.status_code == 200
    assert "Stop emails about <strong>new chat messages</strong>?" in page.content.decode()
    assert selectors.preference_channel(user=bob, kind="message") == Channel.EMAIL  # a GET changes nothing

    done = client.post(url)
    assert done.status_code == 200
    assert "you will no longer get emails about <strong>new chat messages</strong>" in done.content.decode()
    assert selectors.preference_channel(user=bob, kind="message") == Channel.IN_APP
    assert client.post(url).status_code == 200  # twice is fine
    assert NotificationPreference.objects.filter(user=bob).count() == 1


def test_one_click_unsubscribe_from_a_mail_client_needs_no_csrf_token(bob):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        f"/notifications/unsubscribe/{emails.unsubscribe_token(bob.pk, 'offer')}/",
        {"List-Unsubscribe": "One-Click"},
    )

    assert response.status_code == 200
    assert selectors.preference_channel(user=bob, kind="offer") == Channel.IN_APP


def test_a_tampered_or_foreign_token_is_refused(client, alice, bob):
    token = emails.unsubscribe_token(bob.pk, "message")
    forged = signing.dumps({"u": alice.pk, "k": "message"}, salt="another-salt", compress=True)

    for bad in (token[:-2] + "xx", forged, "nonsense"):
        response = client.post(f"/notifications/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert "This unsubscribe link is not valid." in response.content.decode()
    assert NotificationPreference.objects.count() == 0


def test_unsubscribing_keeps_a_stricter_choice(bob):
    services.notification_preferences_set(actor=bob, preferences={"offer": "off"})

    services.notification_unsubscribe(token=emails.unsubscribe_token(bob.pk, "offer"))

    assert selectors.preference_channel(user=bob, kind="offer") == Channel.OFF


def test_timezone_is_utc_in_digests(alice, bob, conversation, send, django_capture_on_commit_callbacks):
    with at(0):
        send(alice, "Morning")
    digest(5, django_capture_on_commit_callbacks)

    assert "Alice A. (Mar 2, 09:00 UTC):" in mail.outbox[0].body
    assert timezone.get_current_timezone_name() == "UTC"
