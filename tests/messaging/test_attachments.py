"""Attachments: uploaded over HTTP first (size, type by content, random private names),
sent with a message by id, downloaded only by participants through a view."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from marketplace.errors import ApplicationError
from messaging import services
from messaging.models import Attachment
from tests.messaging.conftest import pdf_upload, png_upload

pytestmark = pytest.mark.django_db


def upload(user, conversation, file):
    return services.attachment_upload(actor=user, conversation_id=conversation.pk, upload=file)


def test_an_image_is_reencoded_under_a_random_private_name_with_a_thumbnail(alice, conversation):
    attachment = upload(alice, conversation, png_upload("Holiday Photo.png", size=(1200, 900)))

    assert (attachment.original_name, attachment.kind, attachment.content_type, attachment.is_image) == (
        "Holiday Photo.png",
        "png",
        "image/png",
        True,
    )
    stored = Path(attachment.file.path)
    assert stored.is_file()
    assert "Holiday" not in stored.name
    assert str(stored).startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not str(stored).startswith(str(settings.MEDIA_ROOT) + os.sep)
    from PIL import Image

    with Image.open(attachment.thumbnail.path) as thumb:
        assert max(thumb.size) == 320
    assert attachment.size_bytes == stored.stat().st_size


def test_a_pdf_keeps_its_bytes(alice, conversation):
    attachment = upload(alice, conversation, pdf_upload("brief.pdf", size=4096))

    assert (attachment.kind, attachment.content_type, attachment.size_bytes, attachment.is_image) == (
        "pdf",
        "application/pdf",
        4096,
        False,
    )
    assert Path(attachment.file.path).read_bytes()[:5] == b"%PDF-"


def test_attachments_have_no_public_url(alice, conversation):
    attachment = upload(alice, conversation, pdf_upload())

    with pytest.raises(ValueError):
        attachment.file.url  # noqa: B018 - the property raises


@pytest.mark.parametrize(
    ("file", "code"),
    [
        (SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024)), "file_too_large"),
        (SimpleUploadedFile("empty.txt", b""), "file_empty"),
        (SimpleUploadedFile("tool.exe", b"MZ\x90\x00\x03" + b"\x00" * 100), "file_type"),
        (SimpleUploadedFile("page.html", b"\x00\x01<html><script>alert(1)</script>"), "file_type"),
        (SimpleUploadedFile("photo.png", b"%PDF-1.4 not an image"), "file_extension_mismatch"),
        (SimpleUploadedFile("broken.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 20), "image_corrupt"),
    ],
)
def test_bad_files_are_refused_with_a_clear_code(alice, conversation, file, code):
    with pytest.raises(ApplicationError) as error:
        upload(alice, conversation, file)

    assert (error.value.status_code, error.value.code) == (400, code)
    assert Attachment.objects.count() == 0


def test_exactly_10_mb_is_accepted(alice, conversation):
    attachment = upload(
        alice, conversation, SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024 - 5))
    )

    assert attachment.size_bytes == 10 * 1024 * 1024


def test_only_participants_upload(carol, conversation):
    with pytest.raises(ApplicationError) as error:
        upload(carol, conversation, pdf_upload())

    assert error.value.status_code == 404


def test_an_uploaded_file_is_sent_once_by_its_uploader_in_its_conversation(alice, bob, carol, conversation):
    attachment = upload(alice, conversation, pdf_upload())
    other = services.conversation_get_or_create_for_subject(participants=[alice, carol])

    for actor, conv in ((bob, conversation), (alice, other)):
        with pytest.raises(ApplicationError) as error:
            services.message_send(
                actor=actor, conversation_id=conv.pk, body="", attachment_ids=[attachment.pk]
            )
        assert error.value.code == "attachment_not_found"

    sent = services.message_send(
        actor=alice,
        conversation_id=conversation.pk,
        body="",
        attachment_ids=[attachment.pk],
        client_msg_id="f",
    ).message
    assert list(sent.attachments.values_list("pk", flat=True)) == [attachment.pk]
    with pytest.raises(ApplicationError) as twice:
        services.message_send(
            actor=alice, conversation_id=conversation.pk, body="again", attachment_ids=[attachment.pk]
        )
    assert twice.value.code == "attachment_not_found"


def test_participants_download_and_others_get_404(client, alice, bob, carol, conversation):
    attachment = upload(alice, conversation, pdf_upload("brief.pdf"))
    services.message_send(
        actor=alice, conversation_id=conversation.pk, body="", attachment_ids=[attachment.pk]
    )
    url = f"/messages/files/{attachment.pk}/"

    client.force_login(bob)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:5] == b"%PDF-"
    assert response["Content-Disposition"] == 'attachment; filename="brief.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"
    assert response["Content-Type"] == "application/pdf"

    client.force_login(carol)
    assert client.get(url).status_code == 404
    assert client.get(f"/messages/files/{attachment.pk + 1000}/").status_code == 404

    client.logout()
    anonymous = client.get(url)
    assert (anonymous.status_code, anonymous["Location"].split("?")[0]) == (302, "/accounts/login/")


def test_images_are_shown_inline_with_a_thumbnail(client, alice, bob, conversation):
    attachment = upload(alice, conversation, png_upload())
    services.message_send(
        actor=alice, conversation_id=conversation.pk, body="look", attachment_ids=[attachment.pk]
    )
    client.force_login(bob)

    full = client.get(f"/messages/files/{attachment.pk}/")
    thumb = client.get(f"/messages/files/{attachment.pk}/preview/")
    download = client.get(f"/messages/files/{attachment.pk}/?download=1")

    assert (full.status_code, full["Content-Type"], full["Content-Disposition"]) == (
        200,
        "image/png",
        'inline; filename="screen.png"',
    )
    assert (thumb.status_code, thumb["Content-Type"]) == (200, "image/png")
    assert download["Content-Disposition"] == 'attachment; filename="screen.png"'


def test_an_unsent_file_is_visible_to_its_uploader_only(client, alice, bob, conversation):
    attachment = upload(alice, conversation, pdf_upload())

    client.force_login(bob)
    assert client.get(f"/messages/files/{attachment.pk}/").status_code == 404
    client.force_login(alice)
    assert client.get(f"/messages/files/{attachment.pk}/").status_code == 200


def test_files_of_a_deleted_message_are_gone_for_participants(client, alice, bob, conversation):
    attachment = upload(alice, conversation, pdf_upload())
    message = services.message_send(
        actor=alice, conversation_id=conversation.pk, body="", attachment_ids=[attachment.pk]
    ).message
    services.message_delete(actor=alice, conversation_id=conversation.pk, seq=message.seq)

    client.force_login(bob)
    assert client.get(f"/messages/files/{attachment.pk}/").status_code == 404


def test_a_participant_who_left_loses_access(client, alice, bob, conversation):
    attachment = upload(alice, conversation, pdf_upload())
    services.message_send(
        actor=alice, conversation_id=conversation.pk, body="", attachment_ids=[attachment.pk]
    )
    services.conversation_leave(actor=bob, conversation_id=conversation.pk)

    client.force_login(bob)
    assert client.get(f"/messages/files/{attachment.pk}/").status_code == 404


def test_unsent_files_older_than_a_day_are_purged(alice, conversation, django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        stale = upload(alice, conversation, pdf_upload("old.pdf"))
        sent = upload(alice, conversation, pdf_upload("sent.pdf"))
        services.message_send(actor=alice, conversation_id=conversation.pk, body="", attachment_ids=[sent.pk])
    fresh = upload(alice, conversation, pdf_upload("new.pdf"))
    stale_path = Path(stale.file.path)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.attachment_purge_unsent() == 1

    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == ["new.pdf", "sent.pdf"]
    assert not stale_path.exists()
    assert Path(fresh.file.path).exists()
