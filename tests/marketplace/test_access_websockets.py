"""The websocket half of the access matrix (tests/marketplace/access_matrix.py, WEBSOCKETS):
every websocket route refuses a foreign Origin; the chat refuses anonymous visitors and
answers "no such conversation" to anyone outside a conversation, staff included. Kept apart
from test_access_matrix.py: these tests need real transactions (the ASGI consumer runs in
another thread), the matrix one shared rolled-back world."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync

from accounts.models import User
from tests.marketplace import access_matrix as matrix


def _websocket_paths() -> list[str]:
    from marketplace.routing import websocket_urlpatterns

    return sorted(str(p.pattern) for p in websocket_urlpatterns)


def _ws_connect(user: User | None, origin: bytes, path: str = "ws/chat/") -> tuple[bool, Any]:
    from channels.testing import WebsocketCommunicator

    from tests.messaging.asgi import build_application
    from tests.messaging.conftest import session_cookie

    headers = [(b"origin", origin), (b"host", b"testserver")]
    if user is not None:
        headers.append((b"cookie", session_cookie(user)))
    application = build_application()

    async def scenario():
        communicator = WebsocketCommunicator(application, "/" + path, headers=headers)
        connected, code = await communicator.connect(timeout=5)
        if connected:
            await communicator.disconnect()
        return connected, code

    return async_to_sync(scenario)()


def test_every_websocket_route_is_in_the_matrix():
    assert _websocket_paths() == sorted(matrix.WEBSOCKETS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", sorted(matrix.WEBSOCKETS))
@pytest.mark.parametrize(
    "origin", [b"https://evil.example", b"http://testserver.evil.example", b"null"], ids=repr
)
def test_websockets_refuse_a_foreign_origin(path, origin):
    from tests import factories

    member = factories.make_client()
    assert _ws_connect(member, b"http://testserver", path)[0] is True
    assert _ws_connect(member, origin, path)[0] is False


@pytest.mark.django_db(transaction=True)
def test_the_chat_socket_refuses_anonymous_visitors():
    assert _ws_connect(None, b"http://testserver") == (False, 4401)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("frame_type", ["subscribe", "send", "typing", "read"])
def test_the_chat_socket_refuses_non_participants(frame_type):
    """A stranger and a staff member (staff moderate in the admin, not in the chat) get
    "no such conversation" for every kind of frame naming someone else's conversation."""
    import json

    from messaging import services
    from tests import factories
    from tests.messaging.asgi import build_application
    from tests.messaging.conftest import make_communicator, receive_json, session_cookie

    alice, bob = factories.make_client(), factories.make_freelancer()
    conversation = services.conversation_get_or_create_for_subject(
        subject=factories.CategoryFactory(), participants=[alice, bob], title="Private"
    )
    frames = {
        "subscribe": {"type": "subscribe", "conversation": conversation.pk, "last_seq": 0},
        "send": {"type": "send", "conversation": conversation.pk, "client_msg_id": "x1", "body": "hi"},
        "typing": {"type": "typing", "conversation": conversation.pk},
        "read": {"type": "read", "conversation": conversation.pk, "seq": 1},
    }
    application = build_application()
    for outsider in (factories.make_freelancer(), factories.make_staff()):
        cookie = session_cookie(outsider)

        async def scenario(cookie=cookie):
            communicator = make_communicator(application, cookie)
            connected, _ = await communicator.connect(timeout=5)
            assert connected is True
            await communicator.send_to(text_data=json.dumps(frames[frame_type]))
            answer = await receive_json(communicator)
            quiet = await communicator.receive_nothing(timeout=0.3)
            await communicator.disconnect()
            return answer, quiet

        answer, quiet = async_to_sync(scenario)()
        assert answer["type"] == "error", answer
        assert answer["code"] in ("conversation_not_found", "not_subscribed"), answer
        assert quiet is True
    assert conversation.messages.count() == 0
