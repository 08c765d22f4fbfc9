"""Demo conversations for ``seed_demo``: chats between demo users with a few messages each
and one image attachment, built through the services.

Deterministic for an ``rng`` seed; idempotent: a conversation that already has messages is
left alone, and every message carries a ``client_msg_id`` so a half-finished run resumes
without duplicates.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from typing import TextIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw

from accounts.models import User
from marketplace.progress import Progress

from . import services
from .models import Message

TOPICS = [
    "Website redesign",
    "Mobile app MVP",
    "Logo and brand kit",
    "Data migration",
    "Monthly bookkeeping",
    "Product descriptions",
    "Landing page copy",
    "API integration",
]
SCRIPT = [
    (
        0,
        "Hi {b}! Thanks for your interest in the {topic_l} project. Do you have a minute to talk about the scope?",
    ),
    (1, "Hello {a}, happy to help. Could you share what you have so far and your ideal timeline?"),
    (0, "Sure: we would like a first version within three weeks. The current state is in the screenshot."),
    (
        1,
        "Thanks, that helps. I would split it into two milestones: a prototype first, then the polished version.",
    ),
    (0, "Sounds good. I will send an offer through the marketplace today."),
    (1, "Great, I will start as soon as the first milestone is funded. Details: https://example.com/brief"),
]


def _screenshot(rng: random.Random, label: str) -> SimpleUploadedFile:
    image = Image.new("RGB", (480, 300), tuple(rng.randint(150, 230) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 460, 60), fill=(40, 90, 40))
    for row in range(4):
        draw.rectangle((20, 80 + row * 50, 300, 110 + row * 50), fill=(255, 255, 255))
    draw.text((30, 30), label[:40], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("screenshot.png", buffer.getvalue(), content_type="image/png")


def seed_conversations(
    users: Sequence[User], rng: random.Random, stream: TextIO | None = None, count: int | None = None
) -> int:
    """Open up to ``count`` conversations between pairs of ``users`` (first half with second
    half) and fill the new ones; returns how many were filled. One image is attached."""
    people = list(users)
    half = len(people) // 2
    pairs = list(zip(people[:half], people[half:], strict=False))
    if count is not None:
        pairs = pairs[:count]
    bar = Progress(len(pairs), "Conversations", stream=stream)
    filled = 0
    attached = False
    for index, (a, b) in enumerate(pairs):
        topic = TOPICS[index % len(TOPICS)]
        with transaction.atomic():
            conversation = services.conversation_get_or_create_for_subject(participants=[a, b], title=topic)
            if Message.objects.filter(conversation=conversation).exists():
                bar.advance()
                continue
            services.message_post_system(
                conversation=conversation, text=f"{a.display_name} started a conversation about {topic}."
            )
            lines = SCRIPT[: rng.randint(3, len(SCRIPT))]
            fmt = {
                "a": a.first_name or a.display_name,
                "b": b.first_name or b.display_name,
                "topic_l": topic.lower(),
            }
            for n, (who, text) in enumerate(lines):
                sender = a if who == 0 else b
                ids: list[int] = []
                if not attached and "screenshot" in text:
                    upload = _screenshot(rng, topic)
                    ids = [
                        services.attachment_upload(
                            actor=sender, conversation_id=conversation.pk, upload=upload
                        ).pk
                    ]
                    attached = True
                services.message_send(
                    actor=sender,
                    conversation_id=conversation.pk,
                    body=text.format(**fmt),
                    client_msg_id=f"seed-{conversation.pk}-{n}",
                    attachment_ids=ids,
                )
            filled += 1
        bar.advance()
    bar.finish()
    return filled
