"""Two people chat live in two browsers: messages, typing and a file arrive without
reloading, the unread badge updates, an off-platform request carries a warning.

Websockets need an ASGI server, which pytest-django's ``live_server`` (WSGI) is not: the
``asgi_live_server`` fixture (tests/messaging/live_server.py) runs uvicorn in a thread of
the test process, serving Django and the websocket routes against the test database; the
``transaction=True`` mark makes the data the test creates visible to it; the server serves
the project's own ASGI application.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from messaging import services
from messaging.models import Message
from tests import factories
from tests.e2e.conftest import Journey
from tests.messaging.live_server import serve

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def _leave_the_database_as_migrated(django_db_blocker):
    """A transactional test empties every table when it ends, the taxonomy and skill tests
    that a data migration loaded included; load them again for the browser tests of the
    modules that follow."""
    yield
    import importlib

    from django.apps import apps

    data = importlib.import_module("accounts.migrations.0002_taxonomy_and_assessments")
    with django_db_blocker.unblock():
        data.load(apps, None)


@pytest.fixture
def asgi_live_server(settings, tmp_path):
    yield from serve(settings, tmp_path)


@pytest.fixture
def chat_journey(browser, asgi_live_server, request):
    journeys: list[Journey] = []

    def make(name: str) -> Journey:
        j = Journey(browser, asgi_live_server.url, f"{request.node.name}-{name}")
        journeys.append(j)
        return j

    yield make
    problems = [p for j in journeys for p in j.problems.items]
    for j in journeys:
        j.close()
    assert problems == [], "browser reported problems:\n" + "\n".join(problems)


def _log_in(j: Journey, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    # clients land on the dashboard, freelancers without a profile in the onboarding wizard
    j.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _png(path) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), (200, 120, 20)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_two_people_chat_live_with_a_file_and_badges(chat_journey, tmp_path):
    alice = factories.make_client(email="alice@example.com", first_name="Alice", last_name="Adams")
    bob = factories.make_freelancer(email="bob@example.com", first_name="Bob", last_name="Brown")
    conversation = services.conversation_get_or_create_for_subject(
        subject=factories.CategoryFactory(), participants=[alice, bob], title="Logo design"
    )
    services.message_post_system(
        conversation=conversation, text="Alice A. invited you to the job Logo design."
    )

    a = chat_journey("alice")
    b = chat_journey("bob")
    _log_in(a, "alice@example.com")
    _log_in(b, "bob@example.com")

    # Bob waits on his inbox; Alice opens the conversation
    b.page.goto("/messages/")
    badge = b.page.locator(
        f"#conversation-list [data-conversation-id='{conversation.pk}'] [data-role=unread]"
    )
    assert badge.locator("[data-role=count]").inner_text() == "1"
    a.page.goto(f"/messages/{conversation.pk}/")
    a.page.wait_for_function(
        "document.querySelector('#chat-enter-hint').classList.contains('d-none') === false"
    )
    a.shot("conversation")
    a.page.evaluate("window.__noReload = true")
    b.page.evaluate("window.__noReload = true")

    # Alice writes and presses Enter; Bob's unread badge goes up without a reload
    a.page.wait_for_function("window.mkRealtime && window.mkRealtime.isOpen()")
    a.page.locator("#chat-form textarea").fill("Hello Bob! Can you start on Monday?")
    a.page.locator("#chat-form textarea").press("Enter")
    a.page.wait_for_selector("#chat-messages li[data-seq='2']")
    b.page.wait_for_function(
        f"document.querySelector(\"#conversation-list [data-conversation-id='{conversation.pk}'] [data-role=count]\").textContent === '2'"
    )
    b.shot("inbox-badge")
    assert b.page.evaluate("window.__noReload") is True
    assert a.page.locator("#chat-form textarea").input_value() == ""

    # Bob opens the conversation: the message is there and Alice's badge is unaffected
    b.page.goto(f"/messages/{conversation.pk}/")
    assert b.page.locator("#m2 .chat-body").inner_text() == "Hello Bob! Can you start on Monday?"
    b.page.wait_for_function("window.mkRealtime && window.mkRealtime.isOpen()")
    b.page.evaluate("window.__noReload = true")
    # Alice sees Bob come online and read her message
    a.page.wait_for_function(
        f"document.querySelector(\"#chat-people [data-user='{bob.pk}'] [data-role=presence-label]\").textContent === 'online'"
    )
    a.page.wait_for_selector("#m2 [data-role=seen]:not([hidden])")

    # Bob replies to the question: Alice sees him typing, then the reply with its quote
    assert b.page.locator("#chat-reply").is_visible() is False
    b.page.locator("#m2 [data-action=reply]").click()
    assert b.page.locator("#chat-reply-text").inner_text() == "Alice A.: Hello Bob! Can you start on Monday?"
    b.page.locator("#chat-form textarea").type("Yes, Monday works")
    a.page.wait_for_selector("#chat-typing:has-text('Bob B. is typing…')")
    b.page.get_by_role("button", name="Send").click()
    a.page.wait_for_selector("#m3:has-text('Yes, Monday works')")
    assert (
        a.page.locator("#m3 [data-role=reply-quote]").inner_text()
        == "Alice A.: Hello Bob! Can you start on Monday?"
    )
    assert b.page.locator("#chat-reply").is_visible() is False
    preview = f"#conversation-list [data-conversation-id='{conversation.pk}'] [data-role=preview]"
    assert a.page.locator(preview).inner_text() == "Bob B.: Yes, Monday works"
    a.shot("reply-arrived")

    # Alice sends a file; Bob sees the image arrive without reloading
    a.page.set_input_files("#chat-form input[type=file]", _png(tmp_path / "moodboard.png"))
    a.page.locator("#chat-form textarea").fill("Here is the moodboard")
    a.page.get_by_role("button", name="Send").click()
    b.page.wait_for_selector("#m4 img.img-thumbnail")
    b.page.wait_for_function("document.querySelector('#m4 img.img-thumbnail').naturalWidth === 320")
    assert b.page.locator("#m4 img.img-thumbnail").get_attribute("alt") == "Image: moodboard.png"
    assert b.page.evaluate("window.__noReload") is True
    b.shot("file-arrived")

    # an off-platform request is delivered with a warning for the reader only
    a.page.locator("#chat-form textarea").fill("Or just email me at alice.adams@gmail.com")
    a.page.locator("#chat-form textarea").press("Enter")
    b.page.wait_for_selector("#m5 [data-role=off-platform-warning]")
    a.page.wait_for_selector("#m5")
    assert a.page.locator("#m5 [data-role=off-platform-warning]").count() == 0
    b.shot("warning")

    stored = list(
        Message.objects.filter(conversation=conversation).order_by("seq").values_list("seq", "body")
    )
    assert stored == [
        (1, "Alice A. invited you to the job Logo design."),
        (2, "Hello Bob! Can you start on Monday?"),
        (3, "Yes, Monday works"),
        (4, "Here is the moodboard"),
        (5, "Or just email me at alice.adams@gmail.com"),
    ]
    assert Message.objects.get(conversation=conversation, seq=3).reply_to.seq == 2
    assert (
        Message.objects.get(conversation=conversation, seq=4).attachments.get().original_name
        == "moodboard.png"
    )
    assert Message.objects.get(conversation=conversation, seq=5).flagged_off_platform is True


def test_without_javascript_the_form_posts_and_a_reload_shows_messages(browser, asgi_live_server):
    alice = factories.make_client(email="alice@example.com", first_name="Alice", last_name="Adams")
    bob = factories.make_freelancer(email="bob@example.com", first_name="Bob", last_name="Brown")
    conversation = services.conversation_get_or_create_for_subject(
        participants=[alice, bob], title="No script"
    )

    context = browser.new_context(base_url=asgi_live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "alice@example.com")
    page.fill("input[name=password]", factories.PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.goto(f"/messages/{conversation.pk}/")
    page.locator("#chat-form textarea").fill("Sent without JavaScript")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(f"**/messages/{conversation.pk}/#m1")

    assert page.locator("#m1 .chat-body").inner_text() == "Sent without JavaScript"
    assert page.get_by_text("Message sent.").count() == 1
    services.message_send(actor=bob, conversation_id=conversation.pk, body="Got it")
    page.reload()
    assert page.locator("#m2 .chat-body").inner_text() == "Got it"
    context.close()
