"""Services of messaging: conversations, sending, editing, receipts, safety, blocks, reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import ContentFlag
from marketplace.errors import ApplicationError
from marketplace.navigation import navigation_figures
from messaging import selectors, services
from messaging.models import Block, Conversation, Message, Participant
from tests import factories

pytestmark = pytest.mark.django_db


# --- conversations --------------------------------------------------------------------------


def test_a_subject_gets_one_conversation_with_its_participants(alice, bob):
    subject = factories.CategoryFactory()

    first = services.conversation_get_or_create_for_subject(
        subject=subject, participants=[alice, bob], title="Logo"
    )
    again = services.conversation_get_or_create_for_subject(
        subject=subject, participants=[bob, alice], title="Other"
    )

    assert again.pk == first.pk
    assert first.title == "Logo"
    assert first.subject == subject
    assert first.subject_type == ContentType.objects.get_for_model(subject)
    assert sorted(Participant.objects.filter(conversation=first).values_list("user__email", flat=True)) == [
        "alice@example.com",
        "bob@example.com",
    ]


def test_asking_again_with_more_people_adds_them(alice, bob, carol, conversation):
    services.conversation_get_or_create_for_subject(
        subject=conversation.subject, participants=[alice, bob, carol], title="Logo design"
    )

    assert Participant.objects.filter(conversation=conversation).count() == 3


def test_without_a_subject_the_same_people_share_one_conversation(alice, bob, carol):
    one = services.conversation_get_or_create_for_subject(participants=[alice, bob], title="Hello")
    same = services.conversation_get_or_create_for_subject(participants=[bob, alice])
    other = services.conversation_get_or_create_for_subject(participants=[alice, carol])

    assert same.pk == one.pk
    assert other.pk != one.pk
    assert one.direct_key == f"{min(alice.pk, bob.pk)}:{max(alice.pk, bob.pk)}"


def test_a_conversation_needs_two_people(alice):
    with pytest.raises(ApplicationError) as error:
        services.conversation_get_or_create_for_subject(participants=[alice, alice])
    assert error.value.code == "too_few_participants"


def test_system_messages_have_no_sender_and_count_as_unread(alice, bob, conversation):
    message = services.message_post_system(conversation=conversation, text="Offer sent")

    assert (message.seq, message.kind, message.sender_id, message.body) == (1, "system", None, "Offer sent")
    assert selectors.unread_total(user=alice) == 1
    assert selectors.unread_total(user=bob) == 1


def test_staff_join_a_dispute_through_the_system_api(conversation, staff):
    services.conversation_add_participant(conversation=conversation, user=staff)

    assert (
        Participant.objects.filter(conversation=conversation, user=staff, left_at__isnull=True).count() == 1
    )
    assert Message.objects.get(conversation=conversation, seq=1).body == "Staff M. joined the conversation."


def test_a_participant_adds_a_teammate_and_outsiders_cannot(alice, bob, carol, conversation):
    teammate = factories.make_client(first_name="Tess", last_name="Team")

    with pytest.raises(ApplicationError) as error:
        services.participant_add(actor=carol, conversation_id=conversation.pk, user_id=teammate.pk)
    assert (error.value.status_code, error.value.code) == (404, "conversation_not_found")

    services.message_post_system(conversation=conversation, text="Offer sent")
    services.participant_add(actor=alice, conversation_id=conversation.pk, user_id=teammate.pk)
    assert selectors.unread_total(user=teammate) == 1  # the announcement, not the backlog
    assert (
        Message.objects.get(conversation=conversation, seq=2).body
        == "Alice A. added Tess T. to the conversation."
    )
    with pytest.raises(ApplicationError) as again:
        services.participant_add(actor=alice, conversation_id=conversation.pk, user_id=teammate.pk)
    assert again.value.code == "already_participant"


def test_leaving_hides_the_conversation_and_refuses_sending(alice, bob, conversation, send):
    services.conversation_leave(actor=bob, conversation_id=conversation.pk)

    assert selectors.conversation_list_for_user(user=bob) == []
    assert Message.objects.get(conversation=conversation, seq=1).body == "Bob B. left the conversation."
    with pytest.raises(ApplicationError) as error:
        send(bob, "still here?")
    assert error.value.status_code == 404


def test_archive_hides_until_the_next_message(alice, bob, conversation, send):
    services.conversation_archive(actor=bob, conversation_id=conversation.pk)
    assert [p.conversation_id for p in selectors.conversation_list_for_user(user=bob)] == []
    assert [p.conversation_id for p in selectors.conversation_list_for_user(user=bob, archived=True)] == [
        conversation.pk
    ]

    send(alice, "Are you there?")

    assert [p.conversation_id for p in selectors.conversation_list_for_user(user=bob)] == [conversation.pk]


def test_mute_is_per_participant(alice, bob, conversation):
    services.conversation_mute(actor=bob, conversation_id=conversation.pk)

    assert Participant.objects.get(conversation=conversation, user=bob).muted is True
    assert Participant.objects.get(conversation=conversation, user=alice).muted is False


def test_outsiders_cannot_archive_mute_or_read(carol, conversation):
    for call in (
        lambda: services.conversation_archive(actor=carol, conversation_id=conversation.pk),
        lambda: services.conversation_mute(actor=carol, conversation_id=conversation.pk),
        lambda: services.conversation_mark_read(actor=carol, conversation_id=conversation.pk, seq=1),
        lambda: selectors.conversation_view(user=carol, conversation_id=conversation.pk),
    ):
        with pytest.raises(ApplicationError) as error:
            call()
        assert (error.value.status_code, error.value.code) == (404, "conversation_not_found")


# --- sending -------------------------------------------------------------------------------------


def test_messages_are_numbered_per_conversation(alice, bob, carol, conversation, send):
    other = services.conversation_get_or_create_for_subject(participants=[alice, carol])

    first = send(alice, "one")
    second = send(bob, "two")
    elsewhere = send(alice, "hello carol", conv=other)

    assert (first.seq, second.seq, elsewhere.seq) == (1, 2, 1)
    conversation.refresh_from_db()
    assert (conversation.last_message_seq, conversation.last_message_id) == (2, second.pk)


def test_sending_the_same_client_msg_id_twice_stores_one_message(alice, conversation):
    first = services.message_send(
        actor=alice, conversation_id=conversation.pk, body="Hi", client_msg_id="abc-1"
    )
    again = services.message_send(
        actor=alice, conversation_id=conversation.pk, body="Hi", client_msg_id="abc-1"
    )

    assert (first.created, again.created) == (True, False)
    assert again.message.pk == first.message.pk
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_the_same_client_msg_id_from_another_sender_is_another_message(alice, bob, conversation):
    services.message_send(actor=alice, conversation_id=conversation.pk, body="Hi", client_msg_id="same")
    services.message_send(actor=bob, conversation_id=conversation.pk, body="Hi", client_msg_id="same")

    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_non_participant_cannot_send_and_is_told_not_found(carol, conversation):
    with pytest.raises(ApplicationError) as error:
        services.message_send(actor=carol, conversation_id=conversation.pk, body="Hi", client_msg_id="x")

    assert (error.value.status_code, error.value.code, error.value.message) == (
        404,
        "conversation_not_found",
        "No such conversation.",
    )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"body": "x" * 5001}, "message_too_long"),
        ({"body": "   "}, "empty_message"),
        ({"body": "hi\x00there"}, "null_character"),
        ({"body": "hi \ud800"}, "invalid_text"),
        ({"body": "hi", "client_msg_id": "has spaces"}, "invalid_client_msg_id"),
        ({"body": "hi", "client_msg_id": "x" * 65}, "invalid_client_msg_id"),
        ({"body": "hi", "reply_to_seq": 99}, "reply_not_found"),
        ({"body": "hi", "reply_to_seq": "abc"}, "invalid"),
        ({"body": "hi", "attachment_ids": "1,2"}, "invalid"),
        ({"body": "hi", "attachment_ids": list(range(1, 12))}, "too_many_attachments"),
        ({"body": "hi", "attachment_ids": [424242]}, "attachment_not_found"),
    ],
)
def test_bad_input_is_refused_with_a_clear_code(alice, conversation, kwargs, code):
    with pytest.raises(ApplicationError) as error:
        services.message_send(actor=alice, conversation_id=conversation.pk, **kwargs)

    assert (error.value.status_code, error.value.code) == (400, code)
    assert Message.objects.count() == 0


def test_a_message_of_exactly_5000_characters_is_accepted(alice, send):
    assert len(send(alice, "y" * 5000).body) == 5000


def test_a_bad_conversation_id_is_a_400_and_a_missing_one_a_404(alice):
    with pytest.raises(ApplicationError) as bad:
        services.message_send(actor=alice, conversation_id="abc", body="hi")
    with pytest.raises(ApplicationError) as missing:
        services.message_send(actor=alice, conversation_id=999999, body="hi")

    assert (bad.value.status_code, missing.value.status_code) == (400, 404)


def test_replies_point_at_a_message_of_the_same_conversation(alice, bob, send):
    question = send(alice, "Can you start Monday?")
    answer = send(bob, "Yes", reply_to_seq=question.seq)

    assert answer.reply_to_id == question.pk


def test_a_suspended_account_cannot_send(alice, staff, conversation):
    from accounts import services as account_services

    account_services.user_suspend(actor=staff, user_id=alice.pk, reason="spam")
    alice.refresh_from_db()

    with pytest.raises(ApplicationError) as error:
        services.message_send(actor=alice, conversation_id=conversation.pk, body="Hi", client_msg_id="s")
    assert (error.value.status_code, error.value.code) == (403, "account_suspended")


def test_sending_marks_your_own_read_position(alice, bob, send):
    send(bob, "one")
    send(bob, "two")
    send(alice, "three")

    assert selectors.unread_total(user=alice) == 0
    assert selectors.unread_total(user=bob) == 1


def online(*users) -> None:
    """As if each user had a websocket open (presence lives in the cache)."""
    from django.core.cache import cache

    from messaging.presence import PRESENCE_TTL_SECONDS, _key

    for user in users:
        cache.set(_key(user.pk), 1, timeout=PRESENCE_TTL_SECONDS)


def test_the_broadcast_waits_for_the_commit(
    alice, bob, conversation, send, broadcasts, django_capture_on_commit_callbacks
):
    online(bob)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(alice, "Hello")
        assert broadcasts == []
    for callback in callbacks:
        callback()

    groups = [group for group, _ in broadcasts]
    assert groups == [f"chat.conv.{conversation.pk}", f"chat.user.{bob.pk}"]
    assert broadcasts[0][1]["type"] == "message"
    assert broadcasts[0][1]["event"] == "new"
    assert broadcasts[0][1]["body"] == "Hello"
    assert broadcasts[1][1] == {"type": "unread", "conversation": conversation.pk, "unread": 1, "total": 1}


def test_badge_counts_go_only_to_people_online(
    alice, bob, carol, send, broadcasts, django_capture_on_commit_callbacks
):
    group = services.conversation_get_or_create_for_subject(participants=[alice, bob, carol], title="Team")
    online(carol)

    with django_capture_on_commit_callbacks(execute=True):
        send(alice, "hi all", conv=group)

    assert [g for g, _ in broadcasts] == [f"chat.conv.{group.pk}", f"chat.user.{carol.pk}"]


def test_a_rolled_back_send_broadcasts_nothing(
    alice, conversation, broadcasts, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.message_send(
                    actor=alice, conversation_id=conversation.pk, body="oops", client_msg_id="r"
                )
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    assert callbacks == []
    assert broadcasts == []
    assert Message.objects.count() == 0


# --- editing and deleting ---------------------------------------------------------------------


def test_the_sender_edits_within_15_minutes(alice, bob, conversation, send):
    with time_machine.travel("2026-03-01 10:00:00+00:00", tick=False):
        message = send(alice, "Helo")
    with time_machine.travel("2026-03-01 10:14:59+00:00", tick=False):
        edited = services.message_edit(
            actor=alice, conversation_id=conversation.pk, seq=message.seq, body="Hello"
        )

    assert edited.body == "Hello"
    assert edited.edited_at.isoformat() == "2026-03-01T10:14:59+00:00"


def test_editing_after_15_minutes_is_refused(alice, conversation, send):
    with time_machine.travel("2026-03-01 10:00:00+00:00", tick=False):
        message = send(alice, "Helo")
    with (
        time_machine.travel("2026-03-01 10:15:01+00:00", tick=False),
        pytest.raises(ApplicationError) as error,
    ):
        services.message_edit(actor=alice, conversation_id=conversation.pk, seq=message.seq, body="Hello")

    assert error.value.code == "edit_window_closed"
    message.refresh_from_db()
    assert (message.body, message.edited_at) == ("Helo", None)


def test_only_the_sender_edits_or_deletes(alice, bob, conversation, send):
    message = send(alice, "mine")

    with pytest.raises(ApplicationError) as edit:
        services.message_edit(actor=bob, conversation_id=conversation.pk, seq=message.seq, body="yours")
    with pytest.raises(ApplicationError) as delete:
        services.message_delete(actor=bob, conversation_id=conversation.pk, seq=message.seq)

    assert (edit.value.status_code, edit.value.code) == (403, "not_sender")
    assert (delete.value.status_code, delete.value.code) == (403, "not_sender")


def test_a_deleted_message_keeps_its_place_but_not_its_content(alice, bob, conversation, send):
    from messaging.payloads import message_payload

    message = send(alice, "call me at +1 415 555 0132")
    services.message_delete(actor=alice, conversation_id=conversation.pk, seq=message.seq)

    message.refresh_from_db()
    payload = message_payload(message)
    assert message.body == "call me at +1 415 555 0132"  # kept for staff
    assert (payload["seq"], payload["body"], payload["body_html"], payload["flagged_off_platform"]) == (
        1,
        "",
        "",
        False,
    )
    with pytest.raises(ApplicationError) as again:
        services.message_edit(actor=alice, conversation_id=conversation.pk, seq=1, body="x")
    assert again.value.code == "message_deleted"


def test_editing_rechecks_the_off_platform_rule(alice, conversation, send):
    message = send(alice, "See you")
    edited = services.message_edit(
        actor=alice, conversation_id=conversation.pk, seq=message.seq, body="email me: a@b.co"
    )

    assert (edited.flagged_off_platform, edited.off_platform_reasons) == (True, ["email"])


# --- read receipts and unread counts -----------------------------------------------------------


def test_read_receipts_move_forward_only_and_are_clamped(alice, bob, conversation, send):
    for n in range(3):
        send(alice, f"m{n}")

    assert services.conversation_mark_read(actor=bob, conversation_id=conversation.pk, seq=2) == 2
    assert services.conversation_mark_read(actor=bob, conversation_id=conversation.pk, seq=1) == 2
    assert services.conversation_mark_read(actor=bob, conversation_id=conversation.pk, seq=99) == 3
    assert Participant.objects.get(conversation=conversation, user=bob).last_read_seq == 3


def test_a_negative_read_position_is_refused(bob, conversation):
    with pytest.raises(ApplicationError) as error:
        services.conversation_mark_read(actor=bob, conversation_id=conversation.pk, seq=-1)
    assert (error.value.status_code, error.value.code) == (400, "invalid")


def test_unread_counts_per_conversation_and_in_total(alice, bob, carol, conversation, send):
    other = services.conversation_get_or_create_for_subject(participants=[bob, carol])
    send(alice, "a1")
    send(alice, "a2")
    send(carol, "c1", conv=other)

    rows = {p.conversation_id: p.unread for p in selectors.conversation_list_for_user(user=bob)}
    assert rows == {conversation.pk: 2, other.pk: 1}
    assert selectors.unread_total(user=bob) == 3

    services.conversation_mark_read(actor=bob, conversation_id=conversation.pk, seq=2)
    assert selectors.unread_total(user=bob) == 1
    assert selectors.unread_for_users(conversation_id=conversation.pk, user_ids=[bob.pk, alice.pk]) == {
        bob.pk: (0, 1),
        alice.pk: (0, 0),
    }


def test_marking_read_broadcasts_the_receipt_and_the_new_count(
    alice, bob, conversation, send, broadcasts, django_capture_on_commit_callbacks
):
    send(alice, "hello")
    online(bob)
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_mark_read(actor=bob, conversation_id=conversation.pk, seq=1)

    assert broadcasts == [
        (
            f"chat.conv.{conversation.pk}",
            {"type": "read", "conversation": conversation.pk, "user": bob.pk, "seq": 1},
        ),
        (f"chat.user.{bob.pk}", {"type": "unread", "conversation": conversation.pk, "unread": 0, "total": 0}),
    ]


# --- safety --------------------------------------------------------------------------------------


def test_off_platform_requests_are_flagged_before_a_contract(alice, bob, conversation, send):
    flagged = send(bob, "Let's skip the fees: WhatsApp me on +44 7700 900123")
    ordinary = send(bob, "I can deliver the first draft on Friday for $450.")

    assert (flagged.flagged_off_platform, flagged.off_platform_reasons) == (
        True,
        ["phone", "messenger", "pay_directly"],
    )
    assert (ordinary.flagged_off_platform, ordinary.off_platform_reasons) == (False, [])


def test_after_a_contract_nothing_is_flagged(alice, bob, conversation, send):
    services.conversation_set_has_contract(conversation=conversation, has_contract=True)

    message = send(bob, "Sure, my email is bob@example.com for the invoices")

    assert message.flagged_off_platform is False
    assert Conversation.objects.get(pk=conversation.pk).has_contract is True


# --- blocks and reports -------------------------------------------------------------------------


def test_a_blocked_sender_cannot_message_the_blocker(alice, bob, conversation, send):
    services.user_block(actor=alice, user_id=bob.pk)

    with pytest.raises(ApplicationError) as error:
        send(bob, "why?")
    assert (error.value.status_code, error.value.code, error.value.message) == (
        403,
        "blocked",
        "Alice A. has blocked you; you cannot message them.",
    )
    assert send(alice, "I can still write").seq == 1

    services.user_unblock(actor=alice, user_id=bob.pk)
    assert send(bob, "thanks").seq == 2


def test_blocking_is_idempotent_and_refuses_yourself_and_staff(alice, bob, staff):
    services.user_block(actor=alice, user_id=bob.pk)
    services.user_block(actor=alice, user_id=bob.pk)

    assert Block.objects.filter(blocker=alice, blocked=bob).count() == 1
    for target, code in ((alice.pk, "block_self"), (staff.pk, "block_staff")):
        with pytest.raises(ApplicationError) as error:
            services.user_block(actor=alice, user_id=target)
        assert error.value.code == code


def test_a_participant_reports_someone_elses_message_once(alice, bob, conversation, send):
    message = send(bob, "pay me via western union")

    report = services.message_report(
        actor=alice,
        conversation_id=conversation.pk,
        seq=message.seq,
        reason="off_platform",
        note="asked twice",
    )
    assert (report.object_id, report.reporter_id, report.reason, report.note) == (
        message.pk,
        alice.pk,
        "off_platform",
        "asked twice",
    )
    with pytest.raises(ApplicationError) as again:
        services.message_report(actor=alice, conversation_id=conversation.pk, seq=message.seq, reason="spam")
    assert again.value.code == "already_reported"
    assert ContentFlag.objects.count() == 1


def test_reports_of_your_own_message_or_with_a_bad_reason_are_refused(alice, bob, carol, conversation, send):
    mine = send(alice, "hello")
    for actor, reason, code in (
        (alice, "spam", "cannot_report"),
        (bob, "because", "invalid_reason"),
    ):
        with pytest.raises(ApplicationError) as error:
            services.message_report(actor=actor, conversation_id=conversation.pk, seq=mine.seq, reason=reason)
        assert error.value.code == code
    with pytest.raises(ApplicationError) as outsider:
        services.message_report(actor=carol, conversation_id=conversation.pk, seq=mine.seq, reason="spam")
    assert outsider.value.status_code == 404


def test_staff_dismiss_reports_through_the_moderation_queue(alice, bob, staff, conversation, send):
    from accounts import moderation

    message = send(bob, "spam spam")
    report = services.message_report(
        actor=alice, conversation_id=conversation.pk, seq=message.seq, reason="spam"
    )

    with pytest.raises(ApplicationError):
        moderation.content_dismiss(actor=alice, obj=message)
    moderation.content_dismiss(actor=staff, obj=message)

    report.refresh_from_db()
    assert (report.status, report.resolved_by_id, report.resolved_at is not None) == (
        "dismissed",
        staff.pk,
        True,
    )


# --- search --------------------------------------------------------------------------------------


def test_search_finds_text_only_in_your_conversations(alice, bob, carol, conversation, send):
    other = services.conversation_get_or_create_for_subject(participants=[carol, factories.make_client()])
    send(alice, "The LOGO needs a darker green")
    send(bob, "Green it is")
    deleted = send(bob, "green deleted")
    services.message_delete(actor=bob, conversation_id=conversation.pk, seq=deleted.seq)
    send(carol, "green elsewhere", conv=other)

    found = selectors.message_search(user=bob, query="green")
    assert [m.body for m in found] == ["Green it is", "The LOGO needs a darker green"]
    assert selectors.message_search(user=bob, query="g") == []
    assert [m.body for m in selectors.message_search(user=carol, query="GREEN")] == ["green elsewhere"]


def test_search_is_bounded(alice, send):
    for n in range(55):
        send(alice, f"needle {n}")

    assert len(selectors.message_search(user=alice, query="needle")) == 50


def test_time_moves_the_edit_window_not_the_order(alice, bob, send):
    now = timezone.now()
    with time_machine.travel(now + timedelta(hours=1), tick=False):
        later = send(alice, "later")
    earlier = send(bob, "earlier")

    assert (later.seq, earlier.seq) == (1, 2)


def test_the_navigation_badges_are_the_two_counts_in_one_query(
    alice, bob, carol, conversation, django_assert_num_queries
):
    other = services.conversation_get_or_create_for_subject(participants=[alice, carol])
    for text in ("one", "two", "three"):
        services.message_post_system(conversation=conversation, text=text)
    services.message_post_system(conversation=other, text="to carol too")
    services.conversation_mark_read(actor=bob, conversation_id=conversation.pk, seq=2)
    services.notify(recipient=alice, kind="offer", text="one")
    services.notify(recipient=alice, kind="offer", text="two")
    services.conversation_leave(actor=carol, conversation_id=other.pk)

    # alice: three, one to carol too and the note that carol left; bob read two of three
    for user, expected in ((alice, (5, 2)), (bob, (1, 0)), (carol, (0, 0))):
        with django_assert_num_queries(1):
            figures = navigation_figures(user=user)
        badges = (figures.messages, figures.notifications)
        assert badges == expected
        assert badges == (
            selectors.unread_total(user=user),
            selectors.notification_unread_count(user_id=user.pk),
        )
