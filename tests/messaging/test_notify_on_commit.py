"""messaging.services.notify_on_commit: other apps announce a change only once it commits."""

from __future__ import annotations

import pytest
from django.db import transaction

from messaging import services
from messaging.models import Notification, NotificationKind
from tests import factories

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def test_nothing_is_sent_before_the_commit_and_the_commit_sends_it(django_capture_on_commit_callbacks):
    user = factories.make_client()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notify_on_commit(recipient_id=user.pk, kind=NotificationKind.CONTRACT, text="Committed")
    assert not Notification.objects.filter(recipient=user).exists()
    assert len(callbacks) == 1

    callbacks[0]()  # what the commit runs
    assert list(Notification.objects.filter(recipient=user).values_list("text", flat=True)) == ["Committed"]


def test_a_rolled_back_change_notifies_nobody(django_capture_on_commit_callbacks):
    user = factories.make_client()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Rollback),
        transaction.atomic(),
    ):
        services.notify_on_commit(recipient_id=user.pk, kind=NotificationKind.CONTRACT, text="Rolled back")
        raise Rollback
    assert callbacks == []  # the savepoint's callbacks were discarded with it
    assert not Notification.objects.filter(recipient=user).exists()


def test_a_recipient_deleted_before_the_commit_is_skipped(django_capture_on_commit_callbacks):
    user = factories.make_client()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notify_on_commit(recipient_id=user.pk, kind=NotificationKind.CONTRACT, text="Gone")
    user.delete()
    callbacks[0]()
    assert not Notification.objects.exists()
