"""The messaging API under /api/v1/: conversations, messages by seq, sending, receipts,
attachments, notifications and preferences; errors in the standard envelope."""

from __future__ import annotations

import pytest

from messaging import selectors, services
from messaging.models import Message
from tests import factories
from tests.messaging.conftest import pdf_upload

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def as_bob(api_client, bob):
    api_client.force_authenticate(bob)
    return api_client


def test_the_api_needs_a_login(api_client, conversation):
    for url in (
        f"{API}/conversations/",
        f"{API}/conversations/{conversation.pk}/messages/",
        f"{API}/notifications/",
    ):
        response = api_client.get(url)
        assert response.status_code in (401, 403), url
        assert set(response.json()) == {"message", "code", "extra"}


def test_conversation_list_and_detail(as_bob, alice, bob, conversation, send):
    send(alice, "Hi Bob")
    send(alice, "Are you there?")

    listing = as_bob.get(f"{API}/conversations/").json()
    detail = as_bob.get(f"{API}/conversations/{conversation.pk}/").json()

    assert [c["id"] for c in listing["results"]] == [conversation.pk]
    row = listing["results"][0]
    assert (row["title"], row["unread"], row["last_message_seq"], row["last_read_seq"]) == (
        "Logo design",
        2,
        2,
        0,
    )
    assert row["last_message"]["body"] == "Are you there?"
    assert row["subject"]["type"] == "accounts.category"
    assert detail == row
    assert sorted((p["id"], p["name"]) for p in detail["participants"]) == sorted(
        [(alice.pk, "Alice A."), (bob.pk, "Bob B.")]
    )


def test_someone_elses_conversation_is_404(api_client, carol, conversation):
    api_client.force_authenticate(carol)

    for method, url, data in (
        ("get", f"{API}/conversations/{conversation.pk}/", None),
        ("get", f"{API}/conversations/{conversation.pk}/messages/", None),
        ("post", f"{API}/conversations/{conversation.pk}/messages/", {"client_msg_id": "x", "body": "hi"}),
        ("post", f"{API}/conversations/{conversation.pk}/read/", {"seq": 1}),
    ):
        response = getattr(api_client, method)(url, data, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "conversation_not_found"), url


def test_messages_are_paged_by_seq_before_and_after(as_bob, alice, conversation, send):
    for n in range(1, 8):
        send(alice, f"m{n}")

    latest = as_bob.get(f"{API}/conversations/{conversation.pk}/messages/?limit=3").json()
    older = as_bob.get(
        f"{API}/conversations/{conversation.pk}/messages/?limit=3&before={latest['before_cursor']}"
    ).json()
    newer = as_bob.get(f"{API}/conversations/{conversation.pk}/messages/?after=5").json()

    assert ([m["seq"] for m in latest["results"]], latest["has_more"], latest["before_cursor"]) == (
        [5, 6, 7],
        True,
        5,
    )
    assert ([m["seq"] for m in older["results"]], older["has_more"]) == ([2, 3, 4], True)
    assert ([m["seq"] for m in newer["results"]], newer["has_more"], newer["after_cursor"]) == (
        [6, 7],
        False,
        7,
    )


@pytest.mark.parametrize("query", ["before=abc", "after=-1", "before=3&after=1"])
def test_bad_cursors_are_400(as_bob, conversation, query):
    response = as_bob.get(f"{API}/conversations/{conversation.pk}/messages/?{query}")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


def test_send_is_idempotent_201_then_200(as_bob, conversation):
    url = f"{API}/conversations/{conversation.pk}/messages/"
    first = as_bob.post(url, {"client_msg_id": "api-1", "body": "Hello from the API"}, format="json")
    again = as_bob.post(url, {"client_msg_id": "api-1", "body": "Hello from the API"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert (first.json()["seq"], first.json()["sender"]["name"]) == (1, "Bob B.")
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"body": "no id"}, "validation_error"),
        ({"client_msg_id": "a", "body": "x" * 5001}, "validation_error"),
        ({"client_msg_id": "a", "body": "hi", "attachment_ids": ["x"]}, "validation_error"),
        ({"client_msg_id": "a b", "body": "hi"}, "invalid_client_msg_id"),
        ({"client_msg_id": "a", "body": ""}, "empty_message"),
        ({"client_msg_id": "a", "body": "hi", "reply_to": 9}, "reply_not_found"),
    ],
)
def test_bad_sends_are_400_with_a_code(as_bob, conversation, payload, code):
    response = as_bob.post(f"{API}/conversations/{conversation.pk}/messages/", payload, format="json")

    assert (response.status_code, response.json()["code"]) == (400, code)


def test_edit_and_delete(as_bob, bob, conversation, send):
    send(bob, "Helo")
    url = f"{API}/conversations/{conversation.pk}/messages/1/"

    edited = as_bob.patch(url, {"body": "Hello"}, format="json")
    deleted = as_bob.delete(url)

    assert (edited.status_code, edited.json()["body"]) == (200, "Hello")
    assert (deleted.status_code, deleted.json()["body"], deleted.json()["deleted_at"] is not None) == (
        200,
        "",
        True,
    )


def test_mark_read(as_bob, alice, conversation, send):
    send(alice, "one")
    send(alice, "two")

    response = as_bob.post(f"{API}/conversations/{conversation.pk}/read/", {"seq": 1}, format="json")
    bad = as_bob.post(f"{API}/conversations/{conversation.pk}/read/", {"seq": "x"}, format="json")

    assert response.json() == {"conversation": conversation.pk, "last_read_seq": 1, "unread": 1}
    assert bad.status_code == 400


def test_upload_send_and_download_a_file(as_bob, api_client, alice, carol, conversation):
    uploaded = as_bob.post(
        f"{API}/conversations/{conversation.pk}/attachments/", {"file": pdf_upload()}, format="multipart"
    )
    assert uploaded.status_code == 201
    attachment = uploaded.json()
    assert (
        attachment["name"],
        attachment["size_bytes"],
        attachment["is_image"],
        attachment["thumbnail_url"],
    ) == (
        "brief.pdf",
        2048,
        False,
        None,
    )
    sent = as_bob.post(
        f"{API}/conversations/{conversation.pk}/messages/",
        {"client_msg_id": "f-1", "body": "", "attachment_ids": [attachment["id"]]},
        format="json",
    )
    assert [a["id"] for a in sent.json()["attachments"]] == [attachment["id"]]

    api_client.force_authenticate(alice)
    download = api_client.get(f"{API}/conversations/{conversation.pk}/attachments/{attachment['id']}/")
    assert (download.status_code, download["Content-Disposition"]) == (
        200,
        'attachment; filename="brief.pdf"',
    )
    api_client.force_authenticate(carol)
    assert (
        api_client.get(f"{API}/conversations/{conversation.pk}/attachments/{attachment['id']}/").status_code
        == 404
    )


def test_a_bad_upload_is_400(as_bob, conversation):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = as_bob.post(
        f"{API}/conversations/{conversation.pk}/attachments/",
        {"file": SimpleUploadedFile("run.exe", b"MZ\x90\x00")},
        format="multipart",
    )
    missing = as_bob.post(f"{API}/conversations/{conversation.pk}/attachments/", {}, format="multipart")

    assert (response.status_code, response.json()["code"]) == (400, "file_type")
    assert (missing.status_code, missing.json()["code"]) == (400, "file_missing")


def test_notifications_list_read_and_read_all(as_bob, bob):
    first = services.notify(recipient=bob, kind="offer", text="Offer", url="/offers/1/")
    services.notify(recipient=bob, kind="review", text="Review")

    listing = as_bob.get(f"{API}/notifications/").json()
    read = as_bob.post(f"{API}/notifications/{first.pk}/read/")
    everything = as_bob.post(f"{API}/notifications/read-all/")

    assert [(n["text"], n["read"]) for n in listing["results"]] == [("Review", False), ("Offer", False)]
    assert (read.status_code, read.json()["read"]) == (200, True)
    assert everything.json() == {"marked": 1}
    assert as_bob.post(f"{API}/notifications/999999/read/").status_code == 404


def test_preferences_get_and_put(as_bob, bob):
    assert as_bob.get(f"{API}/notifications/preferences/").json()["offer"] == "email"

    saved = as_bob.put(
        f"{API}/notifications/preferences/", {"offer": "in_app", "message": "off"}, format="json"
    )
    bad_channel = as_bob.put(f"{API}/notifications/preferences/", {"offer": "pigeon"}, format="json")
    bad_kind = as_bob.put(f"{API}/notifications/preferences/", {"gossip": "email"}, format="json")

    assert (saved.json()["offer"], saved.json()["message"], saved.json()["review"]) == (
        "in_app",
        "off",
        "email",
    )
    assert (bad_channel.status_code, bad_kind.status_code) == (400, 400)
    assert selectors.preferences_for(user=bob)["offer"] == "in_app"


def test_a_suspended_account_reads_but_cannot_write(api_client, alice, staff, conversation):
    from accounts import services as account_services

    account_services.user_suspend(actor=staff, user_id=alice.pk, reason="spam")
    alice.refresh_from_db()
    api_client.force_authenticate(alice)

    assert api_client.get(f"{API}/conversations/").status_code == 200
    write = api_client.post(
        f"{API}/conversations/{conversation.pk}/messages/", {"body": "hello"}, format="json"
    )
    assert write.status_code == 403
    assert write.json()["code"] == "account_suspended"
    assert not conversation.messages.filter(body="hello").exists()


def test_the_schema_documents_the_messaging_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()

    for path in (
        "/api/v1/conversations/",
        "/api/v1/conversations/{conversation_id}/",
        "/api/v1/conversations/{conversation_id}/messages/",
        "/api/v1/conversations/{conversation_id}/messages/{seq}/",
        "/api/v1/conversations/{conversation_id}/read/",
        "/api/v1/conversations/{conversation_id}/attachments/",
        "/api/v1/conversations/{conversation_id}/attachments/{attachment_id}/",
        "/api/v1/notifications/",
        "/api/v1/notifications/{notification_id}/read/",
        "/api/v1/notifications/read-all/",
        "/api/v1/notifications/preferences/",
    ):
        assert path in schema["paths"], path
    message_fields = set(schema["components"]["schemas"]["Message"]["properties"])
    from messaging.payloads import message_payload

    sample = message_payload(factories_message())
    assert message_fields == set(sample)


def factories_message():
    alice = factories.make_client()
    bob = factories.make_freelancer()
    conversation = services.conversation_get_or_create_for_subject(participants=[alice, bob])
    return services.message_send(actor=alice, conversation_id=conversation.pk, body="x").message


MESSAGING_ENUM_NAMES = {
    # the entries the wiring adds to SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]
    "MessageKindEnum": "messaging.models.Message.Kind",
    "NotificationKindEnum": "messaging.models.NotificationKind",
    "NotificationChannelEnum": "messaging.models.Channel",
    "ClientKindEnum": "accounts.models.ClientKind",
}


def test_the_schema_generates_without_warnings_given_the_enum_names(capsys):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.plumbing import _load_enum_name_overrides
    from drf_spectacular.settings import patched_settings, spectacular_settings

    overrides = {**spectacular_settings.ENUM_NAME_OVERRIDES, **MESSAGING_ENUM_NAMES}
    _load_enum_name_overrides.cache_clear()
    capsys.readouterr()
    try:
        with patched_settings({"ENUM_NAME_OVERRIDES": overrides}):
            schema = SchemaGenerator().get_schema(request=None, public=True)
    finally:
        _load_enum_name_overrides.cache_clear()

    assert "Warning" not in capsys.readouterr().err
    assert schema["components"]["schemas"]["NotificationChannelEnum"]["enum"] == ["email", "in_app", "off"]
