"""Fixtures for messaging: people, a conversation opened through the services, a
websocket communicator logged in through a real session, and a recorder of broadcasts."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from messaging import realtime, services
from messaging.models import Conversation
from tests import factories


@pytest.fixture(autouse=True)
def _messaging_settings(settings, tmp_path):
    """A private media folder per test and an empty cache (presence lives there)."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.SITE_URL = "https://marketplace.example"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice(db):
    """A client."""
    return factories.make_client(first_name="Alice", last_name="Adams", email="alice@example.com")


@pytest.fixture
def bob(db):
    """A freelancer talking with Alice."""
    return factories.make_freelancer(first_name="Bob", last_name="Brown", email="bob@example.com")


@pytest.fixture
def carol(db):
    """A freelancer with no part in Alice and Bob's conversation."""
    return factories.make_freelancer(first_name="Carol", last_name="Clark", email="carol@example.com")


@pytest.fixture
def conversation(alice, bob) -> Conversation:
    subject = factories.CategoryFactory()  # any saved model stands in for a contract or proposal
    return services.conversation_get_or_create_for_subject(
        subject=subject, participants=[alice, bob], title="Logo design"
    )


@pytest.fixture
def send(conversation) -> Callable[..., Any]:
    """send(user, "text", **kwargs) -> Message, through the real service."""
    counter = {"n": 0}

    def _send(user, body: str = "Hello", *, conv: Conversation | None = None, **kwargs):
        counter["n"] += 1
        kwargs.setdefault("client_msg_id", f"t-{counter['n']}")
        return services.message_send(
            actor=user, conversation_id=(conv or conversation).pk, body=body, **kwargs
        ).message

    return _send


@pytest.fixture
def broadcasts(monkeypatch) -> list[tuple[str, dict]]:
    """Every (group, frame) the services send, in order."""
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(realtime, "send_to_groups", lambda items: sent.extend(items))
    return sent


def png_upload(name: str = "screen.png", size: tuple[int, int] = (640, 480)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf_upload(name: str = "brief.pdf", size: int = 2048) -> SimpleUploadedFile:
    body = b"%PDF-1.4\n" + b"0" * max(0, size - 9)
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def make_communicator(
    application, cookie: bytes | None = None, origin: bytes = b"http://testserver"
) -> WebsocketCommunicator:
    """A communicator on /ws/chat/; ``cookie`` comes from ``session_cookie`` (called
    outside the event loop, since it writes the session)."""
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/chat/", headers=headers)


async def receive_json(communicator: WebsocketCommunicator, timeout: float = 5) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_until(communicator: WebsocketCommunicator, frame_type: str, timeout: float = 5) -> dict:
    """Skip frames (presence, unread...) until one of ``frame_type`` arrives."""
    while True:
        frame = await receive_json(communicator, timeout)
        if frame["type"] == frame_type:
            return frame


async def drain(communicator: WebsocketCommunicator, timeout: float = 0.3) -> list[dict]:
    """Every frame that arrives within ``timeout`` of the previous one."""
    frames = []
    # receive_nothing waits without cancelling the application (a timed-out receive would)
    while not await communicator.receive_nothing(timeout=timeout):
        frames.append(await receive_json(communicator))
    return frames
