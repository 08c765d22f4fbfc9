"""Concurrent sends on PostgreSQL: the conversation row lock numbers messages without gaps
or collisions, and the same client_msg_id sent at once from two connections stores one."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from messaging import services
from messaging.models import Message
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(count: int, work) -> list:
    results: list = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except Exception as error:  # reported by the assertion below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_sends_get_consecutive_numbers(alice, bob, conversation):
    def work(index: int):
        sender = alice if index % 2 else bob
        return services.message_send(
            actor=sender, conversation_id=conversation.pk, body=f"m{index}", client_msg_id=f"c{index}"
        ).message.seq

    seqs = _in_threads(8, work)

    assert sorted(seqs) == [1, 2, 3, 4, 5, 6, 7, 8]
    conversation.refresh_from_db()
    assert conversation.last_message_seq == 8


def test_the_same_client_msg_id_at_once_stores_one_message(alice, conversation):
    def work(index: int):
        result = services.message_send(
            actor=alice, conversation_id=conversation.pk, body="once", client_msg_id="same-id"
        )
        return (result.message.pk, result.created)

    results = _in_threads(6, work)

    assert len({pk for pk, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, False, False, True]
    assert Message.objects.filter(conversation=conversation).count() == 1
