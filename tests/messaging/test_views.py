"""The chat and notification pages through Django's test client: they work without
JavaScript, answer 404 to outsiders, escape what people write, and cost a constant
number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import ContentFlag
from marketplace.context_processors import navigation
from messaging import selectors, services
from messaging.models import Block, Message, Participant
from tests import factories
from tests.messaging.conftest import pdf_upload, png_upload

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


# --- inbox and conversation ----------------------------------------------------------------


def test_the_inbox_has_an_empty_state(client, carol):
    client.force_login(carol)

    page = html(client.get("/messages/"))

    assert "No conversations yet" in page
    assert 'id="conversation-list-empty"' in page


def test_the_inbox_lists_conversations_with_unread_badges_and_the_last_message(
    client, alice, bob, conversation, send
):
    send(alice, "First")
    send(alice, "Second <b>bold</b>")
    client.force_login(bob)

    page = html(client.get("/messages/"))

    item = re.search(
        rf'<li class="list-group-item[^"]*" data-conversation-id="{conversation.pk}">.*?</li>', page, re.S
    )
    assert item is not None
    assert "Logo design" in item.group(0)
    assert "Alice A.: Second &lt;b&gt;bold&lt;/b&gt;" in item.group(0)
    assert '<span data-role="count">2</span>' in item.group(0)


def test_an_outsider_gets_404_everywhere(client, alice, carol, conversation, send):
    message = send(alice, "private")
    client.force_login(carol)

    for url in (
        f"/messages/{conversation.pk}/",
        f"/messages/{conversation.pk}/history/?before=5",
        f"/messages/{conversation.pk}/m/{message.seq}/edit/",
        f"/messages/{conversation.pk}/m/{message.seq}/report/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/messages/{conversation.pk}/send/",
        f"/messages/{conversation.pk}/archive/",
        f"/messages/{conversation.pk}/mute/",
        f"/messages/{conversation.pk}/leave/",
        f"/messages/{conversation.pk}/people/",
        f"/messages/{conversation.pk}/m/{message.seq}/delete/",
    ):
        assert client.post(url, {"body": "x", "email": "carol@example.com"}).status_code == 404, url
    assert Message.objects.count() == 1


def test_anonymous_visitors_are_sent_to_log_in(client, conversation):
    response = client.get(f"/messages/{conversation.pk}/")

    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/login/?next=/messages/{conversation.pk}/",
    )


def test_the_thread_escapes_text_links_urls_and_marks_it_read(client, alice, bob, conversation, send):
    send(alice, '<script>alert("x")</script> brief at https://example.com/brief')
    client.force_login(bob)

    page = html(client.get(f"/messages/{conversation.pk}/"))

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; brief at " in page
    assert '<a href="https://example.com/brief" rel="nofollow noopener noreferrer" target="_blank">' in page
    assert Participant.objects.get(conversation=conversation, user=bob).last_read_seq == 1


def test_pages_carry_no_inline_script_style_or_handlers(client, alice, bob, conversation, send):
    send(alice, "Hello")
    client.force_login(bob)

    for url in (
        "/messages/",
        f"/messages/{conversation.pk}/",
        "/notifications/",
        "/notifications/settings/",
        "/messages/search/?q=he",
    ):
        page = html(client.get(url))
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], url
        assert re.findall(r"\sstyle=\"", page) == [], url
        assert re.findall(r"\son[a-z]+=", page) == [], url


def test_the_off_platform_warning_is_shown_to_the_recipient_only(client, alice, bob, conversation, send):
    send(bob, "Pay me directly on PayPal me, it is cheaper")

    client.force_login(alice)
    assert 'data-role="off-platform-warning"' in html(client.get(f"/messages/{conversation.pk}/"))
    client.force_login(bob)
    assert 'data-role="off-platform-warning"' not in html(client.get(f"/messages/{conversation.pk}/"))


def test_a_deleted_message_shows_as_deleted(client, alice, bob, conversation, send):
    message = send(alice, "secret number 601234567")
    services.message_delete(actor=alice, conversation_id=conversation.pk, seq=message.seq)
    client.force_login(bob)

    page = html(client.get(f"/messages/{conversation.pk}/"))

    assert "This message was deleted" in page
    assert "601234567" not in page


def test_older_messages_page_by_seq(client, alice, bob, conversation, send):
    for n in range(1, 36):
        send(alice, f"message number {n}.")
    client.force_login(bob)

    latest = html(client.get(f"/messages/{conversation.pk}/"))
    older = html(client.get(f"/messages/{conversation.pk}/history/?before=6"))
    bad = client.get(f"/messages/{conversation.pk}/?before=abc")

    assert re.findall(r'<li id="m(\d+)"', latest)[:2] == ["6", "7"]
    assert f'href="/messages/{conversation.pk}/?before=6"' in latest
    assert re.findall(r'<li id="m(\d+)"', older) == ["1", "2", "3", "4", "5"]
    assert "Load earlier messages" not in older
    assert bad.status_code == 302  # refused with a message, never a 500


def test_the_form_post_sends_a_message_with_files_without_javascript(client, alice, bob, conversation):
    client.force_login(alice)

    response = client.post(
        f"/messages/{conversation.pk}/send/",
        {
            "body": "Here are the files",
            "client_msg_id": "form-1",
            "attachments": [png_upload(), pdf_upload()],
        },
    )

    assert (response.status_code, response["Location"]) == (302, f"/messages/{conversation.pk}/#m1")
    message = Message.objects.get()
    assert (message.body, message.sender_id) == ("Here are the files", alice.pk)
    assert sorted(message.attachments.values_list("original_name", flat=True)) == ["brief.pdf", "screen.png"]
    page = html(client.get(response["Location"]))
    assert "Message sent." in page
    assert f'src="/messages/files/{message.attachments.get(kind="png").pk}/preview/"' in page


def test_a_double_submitted_form_stores_one_message(client, alice, conversation):
    client.force_login(alice)
    form = {"body": "Only once", "client_msg_id": "double-1"}

    client.post(f"/messages/{conversation.pk}/send/", form)
    again = client.post(f"/messages/{conversation.pk}/send/", form, follow=True)

    assert Message.objects.count() == 1
    assert "This message was already sent." in html(again)


def test_form_errors_are_messages_not_500s(client, alice, conversation):
    client.force_login(alice)

    empty = client.post(f"/messages/{conversation.pk}/send/", {"body": "", "client_msg_id": "e"}, follow=True)
    bad_file = client.post(
        f"/messages/{conversation.pk}/send/",
        {"body": "x", "client_msg_id": "f", "attachments": [factories_file("virus.exe", b"MZ\x90\x00")]},
        follow=True,
    )

    assert "Write a message or attach a file." in html(empty)
    assert "This file type is not accepted." in html(bad_file)
    assert Message.objects.count() == 0


def factories_file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_the_js_upload_endpoint_answers_json(client, alice, carol, conversation):
    client.force_login(alice)
    ok = client.post(f"/messages/{conversation.pk}/files/", {"file": pdf_upload()})
    missing = client.post(f"/messages/{conversation.pk}/files/", {})
    client.force_login(carol)
    outsider = client.post(f"/messages/{conversation.pk}/files/", {"file": pdf_upload()})

    assert ok.status_code == 201
    assert ok.json()["name"] == "brief.pdf"
    assert (missing.status_code, missing.json()["code"]) == (400, "file_missing")
    assert (outsider.status_code, outsider.json()["code"]) == (404, "conversation_not_found")


def test_reply_link_prefills_the_composer(client, alice, bob, conversation, send):
    send(alice, "Which colour?")
    client.force_login(bob)

    page = html(client.get(f"/messages/{conversation.pk}/?reply_to=1"))

    assert 'name="reply_to" value="1"' in page
    assert 'Replying to <span id="chat-reply-text">Alice A.: Which colour?</span>' in page


def test_edit_and_delete_pages(client, alice, conversation, send):
    send(alice, "Helo")
    client.force_login(alice)

    form = client.get(f"/messages/{conversation.pk}/m/1/edit/")
    saved = client.post(f"/messages/{conversation.pk}/m/1/edit/", {"body": "Hello"}, follow=True)
    deleted = client.post(f"/messages/{conversation.pk}/m/1/delete/", follow=True)

    assert form.status_code == 200
    assert "Message edited." in html(saved)
    assert "Message deleted." in html(deleted)
    message = Message.objects.get()
    assert (message.body, message.deleted_at is not None) == ("Hello", True)


def test_editing_someone_elses_message_shows_the_reason(client, alice, bob, conversation, send):
    send(alice, "mine")
    client.force_login(bob)

    response = client.post(f"/messages/{conversation.pk}/m/1/edit/", {"body": "hacked"})

    assert response.status_code == 200
    assert "Only the sender can change a message." in html(response)
    assert Message.objects.get().body == "mine"


def test_report_page(client, alice, bob, conversation, send):
    send(bob, "send it via western union")
    client.force_login(alice)

    response = client.post(
        f"/messages/{conversation.pk}/m/1/report/", {"reason": "off_platform", "note": ""}, follow=True
    )

    assert "Thanks: staff will review the message." in html(response)
    assert ContentFlag.objects.get().reason == "off_platform"


def test_archive_mute_leave_and_add_people(client, alice, bob, conversation):
    teammate = factories.make_client(email="tess@example.com", first_name="Tess", last_name="Team")
    client.force_login(alice)

    archived = client.post(f"/messages/{conversation.pk}/archive/", {"archived": "1"}, follow=True)
    muted = client.post(f"/messages/{conversation.pk}/mute/", {"muted": "1"}, follow=True)
    added = client.post(f"/messages/{conversation.pk}/people/", {"email": "TESS@example.com"}, follow=True)
    unknown = client.post(
        f"/messages/{conversation.pk}/people/", {"email": "nobody@example.com"}, follow=True
    )
    left = client.post(f"/messages/{conversation.pk}/leave/", follow=True)

    assert "Conversation archived." in html(archived)
    assert "Muted: no emails about this conversation." in html(muted)
    assert "Tess T. was added to the conversation." in html(added)
    assert "Nobody with that email has an account." in html(unknown)
    assert "You left the conversation." in html(left)
    me = Participant.objects.get(conversation=conversation, user=alice)
    assert (me.archived, me.muted, me.left_at is not None) == (
        False,
        True,
        True,
    )  # Tess's message unarchived it
    assert Participant.objects.filter(conversation=conversation, user=teammate).exists()


def test_block_and_unblock_pages(client, alice, bob):
    client.force_login(alice)

    blocked = client.post(f"/messages/users/{bob.pk}/block/", follow=True)
    assert "You blocked Bob B.: they can no longer message you." in html(blocked)
    assert "Bob B." in html(client.get("/messages/blocked/"))
    unblocked = client.post(f"/messages/users/{bob.pk}/unblock/", follow=True)
    assert "You have not blocked anyone." in html(unblocked)
    assert Block.objects.count() == 0


def test_search_page(client, alice, bob, conversation, send):
    send(alice, "The invoice is attached")
    client.force_login(bob)

    found = html(client.get("/messages/search/?q=invoice"))
    none = html(client.get("/messages/search/?q=zebra"))
    short = html(client.get("/messages/search/?q=i"))

    assert f'href="/messages/{conversation.pk}/?before=2#m1"' in found
    assert "No messages contain “zebra”." in none
    assert "Type at least two characters." in short


# --- notifications pages -------------------------------------------------------------------------


def test_notifications_page_mark_read_and_all(client, bob):
    first = services.notify(recipient=bob, kind="offer", text="Alice sent you an offer", url="/offers/3/")
    services.notify(recipient=bob, kind="payment", text="Payment released")
    client.force_login(bob)

    page = html(client.get("/notifications/"))
    assert "2 unread" in page
    opened = client.post(f"/notifications/{first.pk}/read/", {"open": "1"})
    assert (opened.status_code, opened["Location"]) == (302, "/offers/3/")
    everything = client.post("/notifications/read-all/", follow=True)
    assert "Marked 1 notification as read." in html(everything)
    assert selectors.notification_unread_count(user_id=bob.pk) == 0


def test_notifications_empty_state(client, carol):
    client.force_login(carol)

    assert "No notifications yet." in html(client.get("/notifications/"))


def test_someone_elses_notification_is_404(client, alice, bob):
    notification = services.notify(recipient=bob, kind="offer", text="x")
    client.force_login(alice)

    assert client.post(f"/notifications/{notification.pk}/read/").status_code == 404


def test_preferences_page_saves_each_kind(client, bob):
    client.force_login(bob)
    data = dict.fromkeys(selectors.preferences_for(user=bob), "email")
    data.update({"message": "in_app", "review": "off"})

    response = client.post("/notifications/settings/", data, follow=True)

    assert "Notification settings saved." in html(response)
    assert selectors.preferences_for(user=bob)["message"] == "in_app"
    assert selectors.preferences_for(user=bob)["review"] == "off"
    assert '<option value="in_app" selected>In the app only</option>' in html(response)


# --- navigation badge -----------------------------------------------------------------------------


def test_the_context_processor_counts_unread_messages_and_notifications(alice, bob, conversation, send):
    send(alice, "one")
    send(alice, "two")
    services.notify(recipient=bob, kind="offer", text="x")
    request = RequestFactory().get("/")
    request.user = bob

    figures = navigation(request)
    assert (figures["messaging_unread"], figures["notifications_unread"]) == (2, 1)


def test_the_context_processor_is_empty_for_visitors():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert navigation(request) == {}


def test_the_nav_partial_shows_both_badges(alice, bob, conversation, send):
    send(alice, "hello")
    request = RequestFactory().get("/")
    request.user = bob

    page = render_to_string(
        "messaging/partials/nav.html", {"user": bob, **navigation(request)}, request=request
    )

    assert '<span data-role="count">1</span>' in page
    assert 'id="nav-messages-count"' in page
    assert 'id="nav-notifications-count"' in page
    assert 'src="/static/js/notifications.js"' in page
    assert "Messages" in page and "Notifications" in page


# --- query counts ----------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_inbox_and_thread_cost_a_constant_number_of_queries(client, alice, bob, conversation, send):
    client.force_login(bob)
    send(
        alice,
        "one",
        attachment_ids=[
            services.attachment_upload(actor=alice, conversation_id=conversation.pk, upload=pdf_upload()).pk
        ],
    )
    small_inbox = _queries(client, "/messages/")
    small_thread = _queries(client, f"/messages/{conversation.pk}/")

    for n in range(6):
        other = services.conversation_get_or_create_for_subject(
            participants=[bob, factories.make_client()], title=f"c{n}"
        )
        send(bob, "hi", conv=other)
    for n in range(20):
        upload = services.attachment_upload(actor=alice, conversation_id=conversation.pk, upload=pdf_upload())
        send(alice if n % 2 else bob, f"m{n}", reply_to_seq=1, attachment_ids=[upload.pk] if n % 2 else [])

    assert _queries(client, "/messages/") == small_inbox
    assert _queries(client, f"/messages/{conversation.pk}/") == small_thread  # both times marking read


def test_the_inbox_pages_by_30_and_the_thread_sidebar_shows_the_latest_30(client, bob):
    client.force_login(bob)
    conversations = []
    for n in range(35):
        conversations.append(
            services.conversation_get_or_create_for_subject(
                participants=[bob, factories.make_client()], title=f"Project {n}"
            )
        )

    first = client.get("/messages/").content.decode()
    second = client.get("/messages/?page=2").content.decode()
    beyond = client.get("/messages/?page=99")  # the last page, not an error
    thread = client.get(f"/messages/{conversations[0].pk}/").content.decode()

    def listed(html: str) -> list[int]:
        return [int(pk) for pk in re.findall(r'data-conversation-id="(\d+)"', html)]

    assert len(listed(first)) == 30 and len(listed(second)) == 5
    assert set(listed(first)) | set(listed(second)) == {c.pk for c in conversations}
    assert 'href="?page=2">Older</a>' in first and "Page 1 of 2" in first
    assert 'href="?page=1">Newer</a>' in second
    assert beyond.status_code == 200 and "Page 2 of 2" in beyond.content.decode()
    assert len(listed(thread)) == 30
    assert 'data-testid="all-conversations"' in thread
