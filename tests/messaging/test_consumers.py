"""The chat websocket, end to end through the ASGI stack (origin check, session auth,
routing) with channels.testing.WebsocketCommunicator. Over the real Redis channel layer
when REDIS_URL is set, the in-memory one otherwise."""

from __future__ import annotations

import json
import os

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from messaging import realtime, services
from messaging.models import Message
from tests.conftest import requires_redis
from tests.messaging.asgi import build_application
from tests.messaging.conftest import drain, make_communicator, receive_json, receive_until, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app():
    return build_application()


def run(coroutine_function):
    return async_to_sync(coroutine_function)()


async def connected(app, cookie: bytes):
    communicator = make_communicator(app, cookie)
    ok, _ = await communicator.connect(timeout=5)
    assert ok is True
    return communicator


async def subscribe(communicator, conversation_id: int, last_seq: int = 0) -> list[dict]:
    """Subscribe; returns the resynced message frames (up to the "subscribed" frame)."""
    await communicator.send_json_to(
        {"type": "subscribe", "conversation": conversation_id, "last_seq": last_seq}
    )
    frames = []
    while True:
        frame = await receive_json(communicator)
        if frame["type"] == "subscribed":
            return frames
        if frame["type"] == "message":
            frames.append(frame)
        elif frame["type"] == "error":
            raise AssertionError(frame)


send_service = database_sync_to_async(services.message_send)


# --- connecting -----------------------------------------------------------------------------


def test_a_foreign_origin_is_refused(app, alice):
    alice_cookie = session_cookie(alice)

    async def scenario():
        communicator = make_communicator(app, alice_cookie, origin=b"https://evil.example")
        ok, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return ok

    assert run(scenario) is False


def test_an_anonymous_connection_is_closed(app):
    async def scenario():
        communicator = make_communicator(app, None)
        ok, code = await communicator.connect(timeout=5)
        return ok, code

    assert run(scenario) == (False, 4401)


def test_a_non_participant_is_refused_at_subscribe_and_hears_nothing(app, alice, carol, conversation):
    carol_cookie = session_cookie(carol)

    async def scenario():
        outsider = await connected(app, carol_cookie)
        await outsider.send_json_to({"type": "subscribe", "conversation": conversation.pk, "last_seq": 0})
        refused = await receive_json(outsider)
        await send_service(actor=alice, conversation_id=conversation.pk, body="private", client_msg_id="p1")
        heard_nothing = await outsider.receive_nothing(timeout=0.5)
        await outsider.send_json_to(
            {"type": "send", "conversation": conversation.pk, "client_msg_id": "c1", "body": "let me in"}
        )
        send_refused = await receive_json(outsider)
        await outsider.disconnect()
        return refused, heard_nothing, send_refused

    refused, heard_nothing, send_refused = run(scenario)
    assert refused == {
        "type": "error",
        "code": "conversation_not_found",
        "message": "No such conversation.",
        "conversation": conversation.pk,
    }
    assert heard_nothing is True
    assert send_refused == {
        "type": "error",
        "code": "conversation_not_found",
        "message": "No such conversation.",
        "conversation": conversation.pk,
        "client_msg_id": "c1",
    }
    assert Message.objects.filter(conversation=conversation).count() == 1


# --- live delivery ------------------------------------------------------------------------------


def test_a_message_reaches_both_sides_live(app, alice, bob, conversation):
    alice_cookie = session_cookie(alice)
    bob_cookie = session_cookie(bob)

    async def scenario():
        a = await connected(app, alice_cookie)
        b = await connected(app, bob_cookie)
        await subscribe(a, conversation.pk)
        await subscribe(b, conversation.pk)
        await a.send_json_to(
            {
                "type": "send",
                "conversation": conversation.pk,
                "client_msg_id": "m-1",
                "body": "Hi Bob, see https://example.com",
                "reply_to": None,
                "attachment_ids": [],
            }
        )
        ack = await receive_until(a, "ack")
        mine = await receive_until(a, "message")
        theirs = await receive_until(b, "message")
        badge = await receive_until(b, "unread")
        await a.disconnect()
        await b.disconnect()
        return ack, mine, theirs, badge

    ack, mine, theirs, badge = run(scenario)
    stored = Message.objects.get(conversation=conversation)
    assert ack == {
        "type": "ack",
        "conversation": conversation.pk,
        "client_msg_id": "m-1",
        "seq": 1,
        "created": True,
    }
    assert theirs == mine
    assert {
        k: theirs[k] for k in ("type", "event", "conversation", "seq", "id", "kind", "sender", "body")
    } == {
        "type": "message",
        "event": "new",
        "conversation": conversation.pk,
        "seq": 1,
        "id": stored.pk,
        "kind": "text",
        "sender": {"id": alice.pk, "name": "Alice A."},
        "body": "Hi Bob, see https://example.com",
    }
    assert theirs["body_html"] == (
        'Hi Bob, see <a href="https://example.com" rel="nofollow noopener noreferrer" target="_blank">'
        "https://example.com</a>"
    )
    assert badge == {"type": "unread", "conversation": conversation.pk, "unread": 1, "total": 1}


def test_sending_the_same_id_again_after_a_reconnect_stores_one_message(app, alice, conversation):
    alice_cookie = session_cookie(alice)
    frame = {"type": "send", "conversation": conversation.pk, "client_msg_id": "retry-7", "body": "Only once"}

    async def scenario():
        first = await connected(app, alice_cookie)
        await first.send_json_to(frame)
        first_ack = await receive_until(first, "ack")
        await first.disconnect()  # the connection drops; the client does not know it was stored
        second = await connected(app, alice_cookie)
        await second.send_json_to(frame)
        second_ack = await receive_until(second, "ack")
        await second.disconnect()
        return first_ack, second_ack

    first_ack, second_ack = run(scenario)
    assert (first_ack["seq"], first_ack["created"]) == (1, True)
    assert (second_ack["seq"], second_ack["created"]) == (1, False)
    assert list(Message.objects.filter(conversation=conversation).values_list("body", flat=True)) == [
        "Only once"
    ]


def test_resubscribing_with_the_last_seq_resyncs_without_gap_or_duplicate(app, alice, bob, conversation):
    bob_cookie = session_cookie(bob)

    async def scenario():
        b = await connected(app, bob_cookie)
        await subscribe(b, conversation.pk)
        for n in (1, 2):
            await send_service(
                actor=alice, conversation_id=conversation.pk, body=f"live {n}", client_msg_id=f"l{n}"
            )
        before = [(await receive_until(b, "message"))["seq"] for _ in range(2)]
        await b.disconnect()
        for n in (3, 4, 5):  # sent while Bob is away
            await send_service(
                actor=alice, conversation_id=conversation.pk, body=f"away {n}", client_msg_id=f"a{n}"
            )
        b2 = await connected(app, bob_cookie)
        resynced = [f["seq"] for f in await subscribe(b2, conversation.pk, last_seq=before[-1])]
        await send_service(actor=alice, conversation_id=conversation.pk, body="back", client_msg_id="b6")
        after = [f["seq"] for f in await drain(b2, timeout=1.0) if f["type"] == "message"]
        await b2.disconnect()
        return before, resynced, after

    before, resynced, after = run(scenario)
    assert before == [1, 2]
    assert resynced == [3, 4, 5]
    assert after == [6]
    received = before + resynced + after
    assert received == list(
        Message.objects.filter(conversation=conversation).order_by("seq").values_list("seq", flat=True)
    )


def test_a_live_message_that_skips_a_number_first_pulls_the_missing_one(
    app, alice, bob, conversation, monkeypatch
):
    bob_cookie = session_cookie(bob)

    async def scenario():
        b = await connected(app, bob_cookie)
        await subscribe(b, conversation.pk)
        # message 1 is stored but its broadcast is lost (or still on its way)
        monkeypatch.setattr(realtime, "on_commit_send", lambda build: None)
        await send_service(actor=alice, conversation_id=conversation.pk, body="first", client_msg_id="g1")
        monkeypatch.undo()
        await send_service(actor=alice, conversation_id=conversation.pk, body="second", client_msg_id="g2")
        frames = [f for f in await drain(b, timeout=1.0) if f["type"] == "message"]
        # and a late copy of message 1 is not delivered twice
        layer = get_channel_layer()
        late = await database_sync_to_async(_frame_for)(conversation.pk, 1)
        await layer.group_send(
            realtime.conversation_group(conversation.pk), {"type": realtime.EVENT_TYPE, "frame": late}
        )
        duplicates = await b.receive_nothing(timeout=0.5)
        await b.disconnect()
        return frames, duplicates

    frames, duplicates = run(scenario)
    assert [(f["seq"], f["body"]) for f in frames] == [(1, "first"), (2, "second")]
    assert duplicates is True


def _frame_for(conversation_id: int, seq: int) -> dict:
    from messaging.payloads import message_frame

    return message_frame(Message.objects.get(conversation_id=conversation_id, seq=seq), event="new")


def test_a_subscription_replays_history_from_zero(app, alice, bob, conversation):
    bob_cookie = session_cookie(bob)
    for n in range(1, 4):
        services.message_send(
            actor=alice, conversation_id=conversation.pk, body=f"m{n}", client_msg_id=f"h{n}"
        )

    async def scenario():
        b = await connected(app, bob_cookie)
        frames = await subscribe(b, conversation.pk, last_seq=0)
        partial = await subscribe(b, conversation.pk, last_seq=2)
        await b.disconnect()
        return frames, partial

    frames, partial = run(scenario)
    assert [(f["seq"], f["body"]) for f in frames] == [(1, "m1"), (2, "m2"), (3, "m3")]
    assert [f["seq"] for f in partial] == [3]


def test_edits_and_deletions_reach_subscribers(app, alice, bob, conversation):
    bob_cookie = session_cookie(bob)

    async def scenario():
        b = await connected(app, bob_cookie)
        await subscribe(b, conversation.pk)
        await send_service(actor=alice, conversation_id=conversation.pk, body="Helo", client_msg_id="e1")
        await receive_until(b, "message")
        await database_sync_to_async(services.message_edit)(
            actor=alice, conversation_id=conversation.pk, seq=1, body="Hello"
        )
        edited = await receive_until(b, "message")
        await database_sync_to_async(services.message_delete)(
            actor=alice, conversation_id=conversation.pk, seq=1
        )
        deleted = await receive_until(b, "message")
        await b.disconnect()
        return edited, deleted

    edited, deleted = run(scenario)
    assert (edited["event"], edited["seq"], edited["body"], edited["edited_at"] is not None) == (
        "edited",
        1,
        "Hello",
        True,
    )
    assert (deleted["event"], deleted["seq"], deleted["body"], deleted["deleted_at"] is not None) == (
        "deleted",
        1,
        "",
        True,
    )


# --- receipts, typing, presence -------------------------------------------------------------------


def test_read_receipts_typing_and_presence_reach_the_other_side(app, alice, bob, conversation):
    alice_cookie = session_cookie(alice)
    bob_cookie = session_cookie(bob)

    async def scenario():
        b = await connected(app, bob_cookie)
        await subscribe(b, conversation.pk)
        a = await connected(app, alice_cookie)
        await subscribe(a, conversation.pk)
        online = await receive_until(b, "presence")
        await a.send_json_to(
            {"type": "send", "conversation": conversation.pk, "client_msg_id": "r1", "body": "Hi"}
        )
        await receive_until(b, "message")
        await b.send_json_to({"type": "read", "conversation": conversation.pk, "seq": 1})
        receipt = await receive_until(a, "read")
        await b.send_json_to({"type": "typing", "conversation": conversation.pk})
        typing = await receive_until(a, "typing")
        own_typing = [f for f in await drain(b, timeout=0.5) if f["type"] == "typing"]
        await a.disconnect()
        offline = await receive_until(b, "presence")
        await b.disconnect()
        return online, receipt, typing, own_typing, offline

    online, receipt, typing, own_typing, offline = run(scenario)
    assert online == {"type": "presence", "conversation": conversation.pk, "user": alice.pk, "online": True}
    assert receipt == {"type": "read", "conversation": conversation.pk, "user": bob.pk, "seq": 1}
    assert typing == {"type": "typing", "conversation": conversation.pk, "user": bob.pk, "name": "Bob B."}
    assert own_typing == []
    assert offline == {"type": "presence", "conversation": conversation.pk, "user": alice.pk, "online": False}


def test_a_second_tab_keeps_a_person_online(app, alice, bob, conversation):
    alice_cookie = session_cookie(alice)
    bob_cookie = session_cookie(bob)

    async def scenario():
        a = await connected(app, alice_cookie)
        await subscribe(a, conversation.pk)
        tab1 = await connected(app, bob_cookie)
        await subscribe(tab1, conversation.pk)
        tab2 = await connected(app, bob_cookie)
        await subscribe(tab2, conversation.pk)
        await drain(a)
        await tab1.disconnect()
        after_one = [f for f in await drain(a, timeout=0.5) if f["type"] == "presence"]
        await tab2.disconnect()
        after_both = await receive_until(a, "presence")
        await a.disconnect()
        return after_one, after_both

    after_one, after_both = run(scenario)
    assert after_one == []
    assert after_both == {
        "type": "presence",
        "conversation": conversation.pk,
        "user": bob.pk,
        "online": False,
    }


def test_typing_needs_a_subscription(app, alice, conversation):
    alice_cookie = session_cookie(alice)

    async def scenario():
        a = await connected(app, alice_cookie)
        await a.send_json_to({"type": "typing", "conversation": conversation.pk})
        reply = await receive_json(a)
        await a.disconnect()
        return reply

    assert run(scenario) == {
        "type": "error",
        "code": "not_subscribed",
        "message": "Subscribe to the conversation first.",
        "conversation": conversation.pk,
    }


def test_notifications_reach_the_users_own_group(app, bob):
    bob_cookie = session_cookie(bob)

    async def scenario():
        b = await connected(app, bob_cookie)
        await database_sync_to_async(services.notify)(
            recipient=bob, kind="offer", text="Alice sent you an offer", url="/offers/1/"
        )
        frame = await receive_until(b, "notification")
        await b.disconnect()
        return frame

    frame = run(scenario)
    assert frame["unread_notifications"] == 1
    assert {k: frame["notification"][k] for k in ("kind", "text", "url", "read")} == {
        "kind": "offer",
        "text": "Alice sent you an offer",
        "url": "/offers/1/",
        "read": False,
    }


# --- protocol errors -------------------------------------------------------------------------------


def test_bad_frames_get_error_frames_and_the_connection_stays_open(app, alice, conversation):
    alice_cookie = session_cookie(alice)

    async def scenario():
        a = await connected(app, alice_cookie)
        replies = []
        for raw in (
            "not json",
            "[1, 2]",
            json.dumps({"type": "dance"}),
            json.dumps({"type": "send", "conversation": conversation.pk, "body": "no id"}),
            json.dumps({"type": "send", "conversation": conversation.pk, "client_msg_id": "z", "body": 5}),
            json.dumps({"type": "subscribe", "conversation": "abc"}),
            json.dumps({"type": "subscribe", "conversation": conversation.pk, "last_seq": -3}),
            json.dumps(
                {"type": "send", "conversation": conversation.pk, "client_msg_id": "big", "body": "x" * 5001}
            ),
            json.dumps(
                {"type": "send", "conversation": conversation.pk, "client_msg_id": "nul", "body": "a\x00b"}
            ),
            json.dumps(  # half a surrogate pair, written as JSON's \ud800 escape
                {"type": "send", "conversation": conversation.pk, "client_msg_id": "half", "body": "a\ud800"}
            ),
            "x" * (70 * 1024),
        ):
            await a.send_to(text_data=raw)
            reply = await receive_json(a)
            replies.append(reply["code"])
        await a.send_json_to({"type": "ping", "id": 9})
        pong = await receive_json(a)
        await a.disconnect()
        return replies, pong

    replies, pong = run(scenario)
    assert replies == [
        "invalid_json",
        "bad_frame",
        "unknown_type",
        "invalid_client_msg_id",
        "invalid",
        "conversation_not_found",
        "invalid",
        "message_too_long",
        "null_character",
        "invalid_text",
        "frame_too_large",
    ]
    assert pong == {"type": "pong", "id": 9}


def test_a_suspended_account_is_disconnected_at_the_next_ping(app, alice, staff):
    alice_cookie = session_cookie(alice)
    from accounts import services as account_services

    async def scenario():
        a = await connected(app, alice_cookie)
        await database_sync_to_async(account_services.user_suspend)(
            actor=staff, user_id=alice.pk, reason="spam"
        )
        await a.send_json_to({"type": "ping"})
        error = await receive_json(a)
        closed = await a.receive_output(timeout=5)
        return error, closed

    error, closed = run(scenario)
    assert error["code"] == "account_suspended"
    assert closed == {"type": "websocket.close", "code": 4403}


@requires_redis
def test_the_tests_run_over_the_redis_channel_layer():
    from channels_redis.core import RedisChannelLayer

    assert os.environ["REDIS_URL"]
    assert isinstance(get_channel_layer(), RedisChannelLayer)
