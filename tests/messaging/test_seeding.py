"""Demo conversations for seed_demo: deterministic, idempotent, with one image."""

from __future__ import annotations

import io
import random

import pytest

from messaging.models import Attachment, Conversation, Message
from messaging.seeding import seed_conversations
from tests import factories

pytestmark = pytest.mark.django_db


def test_seeding_fills_conversations_once_with_one_attachment():
    people = [factories.make_client() for _ in range(3)] + [factories.make_freelancer() for _ in range(3)]

    filled = seed_conversations(people, random.Random(7), io.StringIO())
    counts = (Conversation.objects.count(), Message.objects.count(), Attachment.objects.count())
    again = seed_conversations(people, random.Random(7), io.StringIO())

    assert filled == 3
    assert again == 0
    assert (Conversation.objects.count(), Message.objects.count(), Attachment.objects.count()) == counts
    assert counts[2] == 1
    assert Attachment.objects.get().message is not None
    assert Message.objects.filter(kind="system").count() == 3
    assert Message.objects.filter(flagged_off_platform=True).count() == 0


def test_seeding_is_deterministic_for_a_seed():
    people = [factories.make_client() for _ in range(2)] + [factories.make_freelancer() for _ in range(2)]

    seed_conversations(people, random.Random(11), io.StringIO())
    first = list(Message.objects.order_by("conversation_id", "seq").values_list("body", flat=True))
    Message.objects.all().delete()
    Attachment.objects.all().delete()
    Conversation.objects.update(last_message_seq=0, last_message=None)
    seed_conversations(people, random.Random(11), io.StringIO())
    second = list(Message.objects.order_by("conversation_id", "seq").values_list("body", flat=True))

    assert first == second
