"""Staff moderation in the admin: flagged messages listed, reports resolved, joining a
conversation for a dispute. Files are never linked from the admin."""

from __future__ import annotations

import pytest

from accounts.models import ContentFlag
from messaging import services
from messaging.models import Message, Participant

pytestmark = pytest.mark.django_db


def test_flagged_messages_are_listed_for_staff_with_the_reason(client, staff, alice, bob, conversation, send):
    send(bob, "Let's talk on WhatsApp")
    send(bob, "The draft is ready")
    client.force_login(staff)

    page = client.get("/admin/messaging/message/?flagged_off_platform__exact=1").content.decode()

    assert "Let&#x27;s talk on WhatsApp" in page
    assert "another messaging app" in page
    assert "The draft is ready" not in page


def test_every_messaging_admin_page_opens(client, staff, alice, bob, conversation, send):
    from tests.messaging.conftest import pdf_upload

    attachment = services.attachment_upload(actor=alice, conversation_id=conversation.pk, upload=pdf_upload())
    message = send(alice, "hello", attachment_ids=[attachment.pk])
    services.message_report(actor=bob, conversation_id=conversation.pk, seq=message.seq, reason="spam")
    services.user_block(actor=bob, user_id=alice.pk)
    services.notify(recipient=bob, kind="offer", text="x")
    services.notification_preferences_set(actor=bob, preferences={"offer": "off"})
    client.force_login(staff)

    for model in (
        "conversation",
        "message",
        "attachment",
        "block",
        "notification",
        "notificationpreference",
    ):
        listing = client.get(f"/admin/messaging/{model}/")
        assert listing.status_code == 200, model
    assert client.get(f"/admin/messaging/attachment/{attachment.pk}/change/").status_code == 200
    assert client.get(f"/admin/messaging/conversation/{conversation.pk}/change/").status_code == 200
    assert client.get(f"/admin/messaging/message/{message.pk}/change/").status_code == 200


def test_staff_dismiss_message_reports_with_the_queue_admin_action(
    client, staff, alice, bob, conversation, send
):
    message = send(bob, "spam")
    report = services.message_report(
        actor=alice, conversation_id=conversation.pk, seq=message.seq, reason="spam"
    )
    client.force_login(staff)

    client.post(
        "/admin/accounts/contentflag/",
        {
            "action": "dismiss_reports",
            "_selected_action": [report.pk],
            "apply": "1",
            "reason": "",
            "note": "",
        },
    )

    report.refresh_from_db()
    assert (report.status, report.resolved_by_id) == ("dismissed", staff.pk)


def test_staff_join_a_conversation_with_an_admin_action(client, staff, conversation):
    client.force_login(staff)

    client.post(
        "/admin/messaging/conversation/", {"action": "join_as_staff", "_selected_action": [conversation.pk]}
    )

    assert Participant.objects.filter(conversation=conversation, user=staff, left_at__isnull=True).exists()
    assert Message.objects.get(conversation=conversation).body == "Staff M. joined the conversation."
    assert ContentFlag.objects.count() == 0
