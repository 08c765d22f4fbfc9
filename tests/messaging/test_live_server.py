"""The browser tests' live server (tests/messaging/live_server.py) starts a new event loop
for every test. The Redis channel layer keeps per-process state of the receives in
progress, tied to the loop that made it; a server must not inherit the state a dead loop
left behind, or its consumers fail and chat pages fall back to reloading."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer
from websockets.sync.client import connect

from messaging import services
from tests import factories
from tests.conftest import requires_redis
from tests.messaging.conftest import session_cookie
from tests.messaging.live_server import serve

pytestmark = [requires_redis, pytest.mark.django_db(transaction=True)]


def _die_while_receiving(layer) -> None:
    """What a server's loop can leave when it ends: one consumer's receive waiting behind
    the channel's lock, which the layer's clean-up task took after the last message (the
    lock taken here by hand, as that task does), and the loop closed before either ends.
    This is the state a browser test on CI once inherited: "Lock ... [locked] is bound to
    a different event loop"."""
    loop = asyncio.new_event_loop()

    async def leave_receive_state() -> asyncio.Future:
        channel = await layer.new_channel()
        await layer.receive_clean_locks.acquire(layer.prefix + layer.non_local_name(channel))
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.1)
        return waiting

    waiting = loop.run_until_complete(leave_receive_state())
    loop.close()
    assert not waiting.done()  # still waiting when its loop ended


def _notification_over_a_real_websocket(url: str, user) -> dict:
    cookie = session_cookie(user).decode()
    with connect(
        url.replace("http://", "ws://") + "/ws/chat/",
        additional_headers={"Origin": url, "Cookie": cookie},
        open_timeout=10,
    ) as socket:
        services.notify(recipient=user, kind="offer", text="An offer for you", url="/offers/1/")
        while True:
            frame = json.loads(socket.recv(timeout=10))
            if frame["type"] == "notification":
                return frame


def test_a_live_server_does_not_inherit_the_channel_layer_of_the_one_before(settings, tmp_path):
    user = factories.make_freelancer()

    first = serve(settings, tmp_path)
    next(first)
    used_before = get_channel_layer()
    next(first, None)  # the first server stops
    _die_while_receiving(used_before)

    second = serve(settings, tmp_path)
    live = next(second)
    try:
        assert get_channel_layer() is not used_before
        frame = _notification_over_a_real_websocket(live.url, user)
    finally:
        next(second, None)
    assert frame["notification"]["text"] == "An offer for you"
    assert frame["unread_notifications"] == 1


def test_the_dead_loops_state_does_break_a_layer_that_is_reused():
    """The reason for the fresh layers above: the same layer object, reused on a new loop
    after a loop died mid-receive, refuses to receive."""
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)  # not the process's own
    _die_while_receiving(layer)

    async def receive_again() -> None:
        channel = await layer.new_channel()
        await asyncio.wait_for(layer.receive(channel), timeout=2)

    with pytest.raises(RuntimeError):
        asyncio.run(receive_again())
