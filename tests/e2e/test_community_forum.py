"""The forum in a real browser: a freelancer asks a question from the Community page,
another member (a client) answers it, and the freelancer accepts the answer, which then
shows first under the question with its author's member card."""

from __future__ import annotations

import pytest

from community.forum_seeding import ensure_boards
from community.models import Post, Thread
from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(j, email: str) -> None:
    j.page.goto("/accounts/login/")
    j.page.fill("input[name=login]", email)
    j.page.fill("input[name=password]", factories.PASSWORD)
    j.page.locator("main form button[type=submit]").click()
    j.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_question_is_answered_and_the_answer_accepted(journey):
    ensure_boards()  # the transactional teardown of earlier tests empties the boards' table
    asker = factories.make_freelancer(first_name="Maria", last_name="Garcia")
    helper = factories.make_client(first_name="Tom", last_name="Baker")

    # the freelancer asks
    j = journey("asker")
    _log_in(j, asker.email)
    j.page.get_by_test_id("nav-community").first.click()
    j.page.wait_for_url("**/community/")
    j.shot("community")
    j.page.get_by_test_id("new-thread").click()
    j.page.select_option("select[name=board]", label="Getting started")
    j.page.fill("input[name=title]", "How should I price my first fixed-price job?")
    j.page.fill(
        "textarea[name=body]",
        "I am new here. Should I quote **low** to win my first review, or charge my usual rate?",
    )
    j.page.get_by_test_id("preview").click()
    assert j.page.get_by_test_id("preview-body").locator("strong").inner_text() == "low"
    j.shot("question-form")
    j.page.get_by_test_id("post-thread").click()
    j.page.wait_for_url("**/community/threads/*/")
    assert j.page.get_by_test_id("thread-title").inner_text().startswith("How should I price")
    assert j.page.get_by_test_id("question").locator("strong").inner_text() == "low"
    j.shot("question-posted")
    thread = Thread.objects.get()

    # another member answers
    h = journey("answerer")
    _log_in(h, helper.email)
    h.page.goto(f"/community/boards/{thread.board.slug}/")
    h.page.get_by_role("link", name="How should I price my first fixed-price job?").click()
    h.page.fill(
        "textarea[name=body]",
        "@MariaG charge your usual rate, and split the work into milestones so the client "
        "sees progress early.",
    )
    h.shot("answer-form")
    h.page.get_by_test_id("post-reply").click()
    h.page.wait_for_selector("[data-testid=reply]")
    assert "split the work into milestones" in h.page.get_by_test_id("reply").inner_text()
    h.shot("answer-posted")
    answer = Post.objects.get(thread=thread, is_opening=False)

    # the freelancer accepts it
    j.page.reload()
    j.page.get_by_test_id("accept").click()
    j.page.wait_for_selector("[data-testid=accepted-answer]")
    accepted = j.page.get_by_test_id("accepted-answer")
    assert "Accepted answer" in accepted.inner_text()
    assert "Tom B." in accepted.get_by_test_id("member-card").inner_text()
    assert "Client" in accepted.get_by_test_id("member-card").inner_text()
    assert "Answer accepted" in j.page.locator("body").inner_text()
    j.shot("answer-accepted")
    assert Thread.objects.get(pk=thread.pk).accepted_post_id == answer.pk

    # the board lists the thread as answered
    j.page.goto(f"/community/boards/{thread.board.slug}/")
    assert j.page.get_by_test_id("answered").count() == 1
    j.shot("board")
