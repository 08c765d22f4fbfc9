"""Forums: posting permissions, safe Markdown, accepted answers, mentions and follows,
moderation and its log, held posts, search, keyset pages, query counts, access and API."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ModerationDecision
from community import forum_selectors as selectors
from community import forums
from community.forum_seeding import ensure_boards, seed_demo_forums
from community.markdown import render_markdown
from community.models import Board, Post, PostingRestriction, Thread, ThreadFollow
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from messaging.models import Notification, NotificationKind
from tests import factories

BODY = "I am new here and would like to know how this works in practice."


@pytest.fixture(autouse=True)
def _generous_rate(settings):
    settings.COMMUNITY_POST_RATE = 1000


@pytest.fixture
def boards(db):
    ensure_boards()
    return {board.slug: board for board in Board.objects.all()}


@pytest.fixture
def board(boards):
    return boards["getting-started"]


def old_member(**kwargs):
    user = factories.make_freelancer(**kwargs)
    user.date_joined = timezone.now() - timedelta(days=90)
    user.save(update_fields=["date_joined"])
    return user


@pytest.fixture
def asker(db):
    return old_member(first_name="Maria", last_name="Garcia")


@pytest.fixture
def answerer(db):
    return old_member(first_name="Tom", last_name="Baker")


@pytest.fixture
def thread(asker, board):
    return forums.thread_create(actor=asker, board_id=board.pk, title="How do Connects work here?", body=BODY)


def community_notes(user):
    return list(Notification.objects.filter(recipient=user, kind=NotificationKind.COMMUNITY).order_by("pk"))


# --- Markdown sanitising ------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


ALLOWED_TAGS = {"p", "br", "em", "strong", "s", "code", "pre", "ul", "ol", "li", "blockquote", "a", "hr"}
ALLOWED_ATTRS = {"a": {"href", "title", "rel", "class"}, "ol": {"start"}}

INJECTIONS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "![pic](https://evil.example/a.png)",
    "![pic](javascript:alert(1))",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](%6Aavascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](file:///etc/passwd)",
    "[click](//evil.example/path)",
    "<javascript:alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "<svg onload=alert(1)><circle r=10 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<form action="https://evil.example"><input name=a></form>',
    "<!-- <script>alert(1)</script> -->",
    '[x](https://ok.example "title" onmouseover="alert(1)")',
    '[x](https://ok.example"onmouseover="alert(1))',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "`<script>alert(1)</script>`\n\n```html\n<script>alert(1)</script>\n```",
    "<details open ontoggle=alert(1)>",
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "[link](<javascript:alert(1)>)",
    "[ref]\n\n[ref]: javascript:alert(1)",
]


@pytest.mark.parametrize("attack", INJECTIONS)
def test_markdown_output_keeps_only_the_safe_subset(attack):
    html = render_markdown(attack)
    collector = _Collector()
    collector.feed(html)
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attrs) <= ALLOWED_ATTRS.get(tag, set()), (tag, attrs, html)
        if tag == "a":
            href = attrs.get("href") or ""
            assert href.startswith(("https://", "http://", "mailto:")), html
            assert attrs.get("rel") == "nofollow ugc noopener"
        for value in attrs.values():
            assert not any(bad in (value or "").lower() for bad in ("javascript", "vbscript", "data:")), html
    lowered = html.lower()
    for tag in ("<script", "<img", "<svg", "<style", "<iframe", '<a href="javascript'):
        assert tag not in lowered, html  # as text it is escaped (&lt;script ...)


def test_corpus_has_at_least_25_attacks():
    assert len(INJECTIONS) >= 25


def test_markdown_renders_the_subset_and_links_safely():
    html = render_markdown(
        "**bold** *it* `code`\n\n> quoted\n\n- one\n- two\n\n[site](https://example.com) "
        "<https://example.org> [mail](mailto:a@example.com) ~~gone~~"
    )
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>code</code>" in html
    assert "<blockquote>" in html and "<li>one</li>" in html and "<s>gone</s>" in html
    assert '<a href="https://example.com" rel="nofollow ugc noopener">site</a>' in html
    assert '<a href="https://example.org" rel="nofollow ugc noopener">' in html
    assert 'href="mailto:a@example.com"' in html


def test_markdown_mentions_link_only_known_handles_outside_code():
    html = render_markdown(
        "Hi @MariaG and @nobody, not `@MariaG`, not mail@MariaG.com",
        mentions={"mariag": "/freelancers/~abc/"},
    )
    assert html.count('class="mention"') == 1
    assert '<a href="/freelancers/~abc/" class="mention" rel="nofollow ugc noopener">@MariaG</a>' in html
    assert "@nobody" in html and "<code>@MariaG</code>" in html


def test_markdown_signature_without_mentions_is_stable():
    assert render_markdown("plain") == "<p>plain</p>\n"
    assert render_markdown("") == ""


# --- posting permissions ------------------------------------------------------------------------------


def test_thread_create_counts_follows_and_renders(asker, board):
    thread = forums.thread_create(
        actor=asker, board_id=board.pk, title="A question about fees", body="**Hi** all"
    )
    post = Post.objects.get(thread=thread)
    assert post.is_opening and post.body_html == "<p><strong>Hi</strong> all</p>\n"
    assert ThreadFollow.objects.filter(thread=thread, user=asker).exists()
    board.refresh_from_db()
    assert (board.thread_count, board.post_count) == (1, 1)
    assert board.last_activity_at == thread.last_activity_at


def test_bad_input_is_a_clear_error(asker, board):
    with pytest.raises(ApplicationError) as short:
        forums.thread_create(actor=asker, board_id=board.pk, title="short", body=BODY)
    assert short.value.code == "title_too_short"
    with pytest.raises(ApplicationError) as empty:
        forums.thread_create(actor=asker, board_id=board.pk, title="A proper title here", body="  ")
    assert empty.value.code == "body_required"
    with pytest.raises(ApplicationError) as no_board:
        forums.thread_create(actor=asker, board_id="abc", title="A proper title here", body=BODY)
    assert no_board.value.code == "board_required"


def test_suspended_member_cannot_post(asker, thread):
    asker.suspended_at = timezone.now()
    asker.save(update_fields=["suspended_at"])
    with pytest.raises(PermissionDeniedError) as error:
        forums.reply_create(actor=asker, thread_id=thread.pk, body=BODY)
    assert error.value.code == "account_suspended"


def test_restricted_member_cannot_post_until_restored(asker, answerer, thread, staff):
    forums.posting_restrict(actor=staff, user_id=answerer.pk, reason="Spam links")
    with pytest.raises(PermissionDeniedError) as error:
        forums.reply_create(actor=answerer, thread_id=thread.pk, body=BODY)
    assert error.value.code == "posting_restricted" and "Spam links" in error.value.message
    forums.posting_restore(actor=staff, user_id=answerer.pk)
    assert forums.reply_create(actor=answerer, thread_id=thread.pk, body=BODY).pk


def test_expired_restriction_no_longer_applies(answerer, thread, staff):
    PostingRestriction.objects.create(
        user=answerer, reason="cool off", until=timezone.now() - timedelta(minutes=1), created_by=staff
    )
    assert forums.reply_create(actor=answerer, thread_id=thread.pk, body=BODY).pk


def test_posting_rate_limit_is_a_429(settings, answerer, thread):
    settings.COMMUNITY_POST_RATE = 2
    forums.reply_create(actor=answerer, thread_id=thread.pk, body="first reply")
    forums.reply_create(actor=answerer, thread_id=thread.pk, body="second reply")
    with pytest.raises(forums.RateLimitedError) as error:
        forums.reply_create(actor=answerer, thread_id=thread.pk, body="third reply")
    assert error.value.status_code == 429 and "2 times in 10 minutes" in error.value.message
    assert Post.objects.filter(author=answerer).count() == 2


def test_locked_thread_refuses_members_but_not_staff(answerer, thread, staff):
    forums.thread_set_locked(actor=staff, thread_id=thread.pk, locked=True)
    with pytest.raises(PermissionDeniedError) as error:
        forums.reply_create(actor=answerer, thread_id=thread.pk, body=BODY)
    assert error.value.code == "thread_locked"
    assert forums.reply_create(actor=staff, thread_id=thread.pk, body="Staff note: closed.").pk


def test_only_staff_start_announcements(asker, boards, staff):
    with pytest.raises(PermissionDeniedError) as error:
        forums.thread_create(
            actor=asker, board_id=boards["announcements"].pk, title="My big news today", body=BODY
        )
    assert error.value.code == "staff_only_board"
    assert forums.thread_create(
        actor=staff, board_id=boards["announcements"].pk, title="Scheduled maintenance", body=BODY
    ).pk


def test_editing_own_post_only(asker, answerer, thread):
    opening = Post.objects.get(thread=thread, is_opening=True)
    edited = forums.post_edit(
        actor=asker, post_id=opening.pk, body="Updated *text*", title="A better title now"
    )
    assert edited.edited_at is not None and "<em>text</em>" in edited.body_html
    assert Thread.objects.get(pk=thread.pk).title == "A better title now"
    with pytest.raises(NotFoundError):
        forums.post_edit(actor=answerer, post_id=opening.pk, body="hijack")


# --- accepted answers ---------------------------------------------------------------------------------


def test_only_the_author_accepts_a_reply_of_the_thread(
    asker, answerer, thread, board, django_capture_on_commit_callbacks
):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="Here is how it works.")
    with pytest.raises(PermissionDeniedError) as error:
        forums.thread_accept_answer(actor=answerer, thread_id=thread.pk, post_id=reply.pk)
    assert error.value.code == "not_thread_author"
    opening = Post.objects.get(thread=thread, is_opening=True)
    with pytest.raises(ApplicationError) as own_question:
        forums.thread_accept_answer(actor=asker, thread_id=thread.pk, post_id=opening.pk)
    assert own_question.value.code == "answer_not_in_thread"
    other = forums.thread_create(actor=answerer, board_id=board.pk, title="Another thread here", body=BODY)
    foreign = forums.reply_create(actor=asker, thread_id=other.pk, body="elsewhere")
    with pytest.raises(ApplicationError) as elsewhere:
        forums.thread_accept_answer(actor=asker, thread_id=thread.pk, post_id=foreign.pk)
    assert elsewhere.value.code == "answer_not_in_thread"

    with django_capture_on_commit_callbacks(execute=True):
        forums.thread_accept_answer(actor=asker, thread_id=thread.pk, post_id=reply.pk)
    assert Thread.objects.get(pk=thread.pk).accepted_post_id == reply.pk
    assert [n.text for n in community_notes(answerer)][-1].startswith("Maria G. accepted your answer")
    second = forums.reply_create(actor=answerer, thread_id=thread.pk, body="Even better answer.")
    forums.thread_accept_answer(actor=asker, thread_id=thread.pk, post_id=second.pk)
    assert Thread.objects.get(pk=thread.pk).accepted_post_id == second.pk
    forums.thread_accept_answer(actor=asker, thread_id=thread.pk, post_id=None)
    assert Thread.objects.get(pk=thread.pk).accepted_post_id is None


def test_accepted_answer_shows_first_after_the_question(client, asker, answerer, thread):
    first = forums.reply_create(actor=answerer, thread_id=thread.pk, body="first reply text")
    best = forums.reply_create(actor=old_member(), thread_id=thread.pk, body="the best answer text")
    forums.thread_accept_answer(actor=asker, thread_id=thread.pk, post_id=best.pk)
    view = selectors.thread_view(thread=Thread.objects.get(pk=thread.pk), viewer=asker)
    assert view.accepted.post.pk == best.pk and [r.post.pk for r in view.replies] == [first.pk]
    html = client.get(reverse("community:thread", args=[thread.pk])).content.decode()
    assert html.index("the best answer text") < html.index("first reply text")
    assert 'data-testid="accepted-answer"' in html


# --- mentions and follows -----------------------------------------------------------------------------


def test_followers_and_mentions_are_told_once(asker, answerer, thread, django_capture_on_commit_callbacks):
    third = old_member(first_name="Lee", last_name="Park")
    forums.reply_create(actor=third, thread_id=thread.pk, body="I wonder too.")  # now a participant
    before_asker = len(community_notes(asker))
    with django_capture_on_commit_callbacks(execute=True):
        reply = forums.reply_create(
            actor=answerer, thread_id=thread.pk, body="@MariaG and @LeeP: see the fees page. Again @mariag."
        )
    asker_notes = community_notes(asker)[before_asker:]
    assert [n.text for n in asker_notes] == ["Tom B. mentioned you in “How do Connects work here?”."]
    third_notes = [n.text for n in community_notes(third)]
    assert third_notes[-1] == "Tom B. mentioned you in “How do Connects work here?”."
    assert reply.body_html.count('class="mention"') == 0  # no public profiles: text only, still notified
    # the answerer follows from now on and hears of the next reply
    with django_capture_on_commit_callbacks(execute=True):
        forums.reply_create(actor=asker, thread_id=thread.pk, body="Thanks!")
    assert community_notes(answerer)[-1].text == "Maria G. replied in “How do Connects work here?”."
    assert community_notes(answerer)[-1].url == forums.post_url(Post.objects.latest("pk"))


def test_mentions_link_to_public_profiles_and_by_public_id(board, asker, django_capture_on_commit_callbacks):
    pro = factories.make_published_freelancer(first_name="Ana", last_name="Lopez")
    public_id = pro.freelancer_profile.public_id
    with django_capture_on_commit_callbacks(execute=True):
        thread = forums.thread_create(
            actor=asker,
            board_id=board.pk,
            title="Calling an expert here",
            body=f"What do you think @{public_id}?",
        )
    post = Post.objects.get(thread=thread)
    assert f'href="/freelancers/{public_id}/" class="mention"' in post.body_html
    assert community_notes(pro)[-1].text == "Maria G. mentioned you in “Calling an expert here”."


def test_edit_notifies_only_newly_mentioned(asker, answerer, thread, django_capture_on_commit_callbacks):
    forums.reply_create(actor=answerer, thread_id=thread.pk, body="hello")
    opening = Post.objects.get(thread=thread, is_opening=True)
    with django_capture_on_commit_callbacks(execute=True):
        forums.post_edit(actor=asker, post_id=opening.pk, body="Asking @TomB")
        forums.post_edit(actor=asker, post_id=opening.pk, body="Asking @TomB again")
    mentions = [n for n in community_notes(answerer) if "mentioned you" in n.text]
    assert len(mentions) == 1


def test_unfollow_stops_reply_notices(asker, answerer, thread, django_capture_on_commit_callbacks):
    forums.thread_unfollow(actor=asker, thread_id=thread.pk)
    before = len(community_notes(asker))
    with django_capture_on_commit_callbacks(execute=True):
        forums.reply_create(actor=answerer, thread_id=thread.pk, body="a reply")
    assert len(community_notes(asker)) == before
    forums.thread_follow(actor=asker, thread_id=thread.pk)
    forums.thread_follow(actor=asker, thread_id=thread.pk)  # twice: one row
    assert ThreadFollow.objects.filter(thread=thread, user=asker).count() == 1


# --- likes and counters ---------------------------------------------------------------------------------


def test_likes_count_once_and_rank_threads(asker, answerer, thread):
    opening = Post.objects.get(thread=thread, is_opening=True)
    with pytest.raises(PermissionDeniedError):
        forums.post_like(actor=asker, post_id=opening.pk)
    forums.post_like(actor=answerer, post_id=opening.pk)
    forums.post_like(actor=answerer, post_id=opening.pk)
    assert Post.objects.get(pk=opening.pk).like_count == 1
    assert Thread.objects.get(pk=thread.pk).like_count == 1
    forums.post_unlike(actor=answerer, post_id=opening.pk)
    forums.post_unlike(actor=answerer, post_id=opening.pk)
    assert Thread.objects.get(pk=thread.pk).like_count == 0
    with pytest.raises(NotFoundError):
        forums.post_like(actor=answerer, post_id=999999)


def test_reply_counters_and_activity(asker, answerer, thread, board):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="an answer")
    thread.refresh_from_db()
    board.refresh_from_db()
    assert thread.reply_count == 1 and thread.last_activity_at == reply.created_at
    assert (board.thread_count, board.post_count, board.last_activity_at) == (1, 2, reply.created_at)


# --- moderation -------------------------------------------------------------------------------------------


def test_moderation_actions_log_decisions(asker, answerer, thread, boards, staff):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="spammy reply")
    forums.thread_set_pinned(actor=staff, thread_id=thread.pk, pinned=True)
    forums.thread_set_pinned(actor=staff, thread_id=thread.pk, pinned=False)
    forums.thread_set_locked(actor=staff, thread_id=thread.pk, locked=True)
    forums.thread_set_locked(actor=staff, thread_id=thread.pk, locked=False)
    forums.thread_move(actor=staff, thread_id=thread.pk, board_id=boards["payments"].pk)
    forums.post_hide(actor=staff, post_id=reply.pk, note="spam")
    forums.post_unhide(actor=staff, post_id=reply.pk)
    forums.posting_restrict(
        actor=staff, user_id=answerer.pk, reason="spam", until=timezone.now() + timedelta(days=3)
    )
    forums.posting_restore(actor=staff, user_id=answerer.pk)
    actions = list(
        ModerationDecision.objects.filter(actor=staff).order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        "pin", "unpin", "lock", "unlock", "move", "hide", "unhide", "restrict_posting", "restore_posting",
    ]  # fmt: skip
    assert ModerationDecision.objects.get(action="hide").target_user == answerer
    old, new = Board.objects.get(slug="getting-started"), Board.objects.get(slug="payments")
    assert (old.thread_count, old.post_count) == (0, 0)
    assert (new.thread_count, new.post_count) == (1, 2)


def test_moderation_is_staff_only_and_refuses_no_ops(asker, thread, staff):
    for call in (
        lambda: forums.thread_set_pinned(actor=asker, thread_id=thread.pk, pinned=True),
        lambda: forums.thread_set_locked(actor=asker, thread_id=thread.pk, locked=True),
        lambda: forums.posting_restrict(actor=asker, user_id=staff.pk, reason="x"),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    with pytest.raises(ConflictError):
        forums.thread_set_locked(actor=staff, thread_id=thread.pk, locked=False)
    with pytest.raises(ApplicationError):
        forums.thread_move(actor=staff, thread_id=thread.pk, board_id=thread.board_id)


def test_hiding_replies_and_questions_fixes_counters(asker, answerer, thread, board, staff):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="a reply")
    forums.thread_accept_answer(actor=asker, thread_id=thread.pk, post_id=reply.pk)
    forums.post_hide(actor=staff, post_id=reply.pk)
    thread.refresh_from_db()
    assert thread.reply_count == 0 and thread.accepted_post_id is None
    opening = Post.objects.get(thread=thread, is_opening=True)
    forums.post_hide(actor=staff, post_id=opening.pk)
    board.refresh_from_db()
    assert Thread.objects.get(pk=thread.pk).hidden_at is not None
    assert (board.thread_count, board.post_count) == (0, 0)
    with pytest.raises(NotFoundError):
        selectors.thread_get_for_viewer(thread_id=thread.pk, viewer=answerer)


def test_report_goes_to_the_generic_queue_and_hide_from_it(asker, answerer, thread, staff):
    from accounts import moderation

    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="buy followers at my site")
    flag = moderation.flag_create(actor=asker, obj=reply, reason="spam", note="ad")
    assert flag.content_owner == answerer and "buy followers" in flag.snapshot
    moderation.content_hide(actor=staff, obj=reply, reason="spam")
    assert Post.objects.get(pk=reply.pk).hidden_at is not None
    assert Thread.objects.get(pk=thread.pk).reply_count == 0


# --- held posts ---------------------------------------------------------------------------------------------


def test_new_accounts_first_posts_with_links_are_held_until_approved(
    asker, thread, board, staff, django_capture_on_commit_callbacks
):
    newcomer = factories.make_freelancer(first_name="New", last_name="Comer")
    plain = forums.reply_create(actor=newcomer, thread_id=thread.pk, body="no links here")
    assert plain.held_at is None
    held = forums.reply_create(actor=newcomer, thread_id=thread.pk, body="see https://spam.example")
    assert held.held_at is not None
    thread.refresh_from_db()
    assert thread.reply_count == 1
    assert held.pk not in [v.post.pk for v in selectors.thread_view(thread=thread, viewer=asker).replies]
    assert held.pk in [v.post.pk for v in selectors.thread_view(thread=thread, viewer=newcomer).replies]
    assert held.pk in [v.post.pk for v in selectors.thread_view(thread=thread, viewer=staff).replies]
    before = len(community_notes(asker))
    with django_capture_on_commit_callbacks(execute=True):
        forums.post_approve(actor=staff, post_id=held.pk)
    thread.refresh_from_db()
    assert thread.reply_count == 2 and Post.objects.get(pk=held.pk).held_at is None
    assert len(community_notes(asker)) == before + 1  # the follower hears of it once approved
    assert ModerationDecision.objects.filter(action="approve", object_id=held.pk).exists()
    with pytest.raises(ConflictError):
        forums.post_approve(actor=staff, post_id=held.pk)


def test_a_held_new_thread_is_hidden_from_others(board, asker, client):
    newcomer = factories.make_freelancer()
    thread = forums.thread_create(
        actor=newcomer, board_id=board.pk, title="Check my portfolio site", body="[here](https://me.example)"
    )
    assert thread.held_at is not None
    board.refresh_from_db()
    assert board.thread_count == 0
    client.force_login(asker)
    assert client.get(reverse("community:thread", args=[thread.pk])).status_code == 404
    client.force_login(newcomer)
    assert client.get(reverse("community:thread", args=[thread.pk])).status_code == 200


def test_old_accounts_are_not_held(asker, thread, answerer):
    post = forums.reply_create(actor=answerer, thread_id=thread.pk, body="see https://docs.example")
    assert post.held_at is None


# --- search and pagination ------------------------------------------------------------------------------------


def test_search_finds_titles_and_questions_not_hidden_ones(asker, board, staff):
    fees = forums.thread_create(
        actor=asker, board_id=board.pk, title="Understanding the service fee", body=BODY
    )
    escrow = forums.thread_create(
        actor=asker,
        board_id=board.pk,
        title="A question on funding",
        body="How does escrow protect freelancers?",
    )
    forums.thread_create(actor=asker, board_id=board.pk, title="Unrelated topic here", body="Nothing to see")
    assert [t.pk for t in selectors.thread_search(viewer=None, query="fee")] == [fees.pk]
    assert [t.pk for t in selectors.thread_search(viewer=None, query="escrow")] == [escrow.pk]
    forums.post_hide(actor=staff, post_id=Post.objects.get(thread=escrow, is_opening=True).pk)
    assert selectors.thread_search(viewer=None, query="escrow") == []
    assert selectors.thread_search(viewer=None, query="   ") == []


def _many_threads(board, count):
    authors = [old_member() for _ in range(3)]
    return [
        forums.thread_create(
            actor=authors[i % 3], board_id=board.pk, title=f"Question number {i:03d}", body=f"Body {i}"
        )
        for i in range(count)
    ]


def test_keyset_pages_cover_every_thread_once(board):
    made = _many_threads(board, 23)
    seen, cursor, pages = [], "", 0
    while True:
        page = selectors.thread_page(viewer=None, board=board, cursor=cursor, limit=10)
        seen += [t.pk for t in page.threads]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 3 and seen == [t.pk for t in reversed(made)]


def test_top_and_unanswered_sorts(board, asker, answerer):
    first, second, third = _many_threads(board, 3)
    forums.post_like(actor=asker, post_id=Post.objects.get(thread=second, is_opening=True).pk)
    forums.reply_create(actor=answerer, thread_id=third.pk, body="answered")
    top = selectors.thread_page(viewer=None, board=board, sort="top", limit=2)
    assert top.threads[0].pk == second.pk and top.next_cursor
    rest = selectors.thread_page(viewer=None, board=board, sort="top", limit=2, cursor=top.next_cursor)
    assert {t.pk for t in top.threads + rest.threads} == {first.pk, second.pk, third.pk}
    unanswered = selectors.thread_page(viewer=None, board=board, sort="unanswered")
    assert {t.pk for t in unanswered.threads} == {first.pk, second.pk}


def test_bad_cursors_are_refused_cleanly(board, client, api_client):
    with pytest.raises(selectors.BadCursorError):
        selectors.thread_page(viewer=None, board=board, cursor="garbage!")
    assert client.get(reverse("community:board", args=[board.slug]) + "?cursor=zzz").status_code == 200
    response = api_client.get(reverse("api_forum_threads") + "?cursor=zzz")
    assert response.status_code == 400 and response.json()["code"] == "bad_cursor"


def test_pinned_threads_come_first(board, staff):
    first, second = _many_threads(board, 2)
    forums.thread_set_pinned(actor=staff, thread_id=first.pk, pinned=True)
    page = selectors.thread_page(viewer=None, board=board)
    assert [t.pk for t in page.pinned] == [first.pk] and [t.pk for t in page.threads] == [second.pk]


# --- query counts ----------------------------------------------------------------------------------------------


def _board_queries(client, board, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit):
        assert client.get(reverse("community:board", args=[board.slug])).status_code == 200


def test_board_and_thread_pages_use_constant_queries(client, board, asker, django_assert_max_num_queries):
    client.force_login(asker)
    threads = _many_threads(board, 3)
    _board_queries(client, board, django_assert_max_num_queries, 12)
    _many_threads(board, 17)
    _board_queries(client, board, django_assert_max_num_queries, 12)

    thread = threads[0]
    for _ in range(2):
        forums.reply_create(actor=old_member(), thread_id=thread.pk, body="a reply")
    # 16: the first visit also counts a view (one UPDATE) and remembers it in the session
    with django_assert_max_num_queries(16):
        assert client.get(reverse("community:thread", args=[thread.pk])).status_code == 200
    for _ in range(15):
        forums.reply_create(
            actor=factories.make_published_freelancer(), thread_id=thread.pk, body="@MariaG hi"
        )
    with django_assert_max_num_queries(14):
        response = client.get(reverse("community:thread", args=[thread.pk]))
    assert response.content.decode().count('data-testid="reply"') == 17


def test_forum_home_and_search_pages(client, board, asker):
    _many_threads(board, 2)
    home = client.get(reverse("community:forum_home"))
    assert home.status_code == 200 and "Getting started" in home.content.decode()
    found = client.get(reverse("community:forum_search") + "?q=Question")
    assert found.status_code == 200 and found.content.decode().count('data-testid="thread-row"') == 2
    empty = client.get(reverse("community:forum_search") + "?q=zebra")
    assert 'data-testid="empty"' in empty.content.decode()


# --- access through the pages ------------------------------------------------------------------------------------


def test_anonymous_visitors_read_but_cannot_post(client, thread):
    assert client.get(reverse("community:thread", args=[thread.pk])).status_code == 200
    response = client.post(reverse("community:reply", args=[thread.pk]), {"body": "hi there"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("community:thread_new")).status_code == 302


def test_reply_through_the_page_and_its_errors(client, settings, answerer, thread):
    client.force_login(answerer)
    url = reverse("community:reply", args=[thread.pk])
    response = client.post(url, {"body": "A **helpful** answer"})
    assert response.status_code == 302
    assert Post.objects.filter(thread=thread, author=answerer).count() == 1
    assert client.post(url, {"body": ""}).status_code == 400
    settings.COMMUNITY_POST_RATE = 1
    limited = client.post(url, {"body": "again"})
    assert limited.status_code == 429 and "1 times in 10 minutes" in limited.content.decode()


def test_foreign_members_get_404_or_403(client, asker, answerer, thread, board):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="mine")
    client.force_login(asker)
    assert client.get(reverse("community:post_edit", args=[reply.pk])).status_code == 404
    assert (
        client.post(reverse("community:thread_moderate", args=[thread.pk]), {"action": "pin"}).status_code
        == 403
    )
    assert (
        client.post(reverse("community:post_moderate", args=[reply.pk]), {"action": "hide"}).status_code
        == 403
    )
    client.force_login(answerer)
    assert client.post(reverse("community:accept", args=[thread.pk]), {"post": reply.pk}).status_code == 403
    assert client.get(reverse("community:thread", args=[999999])).status_code == 404
    assert client.get(reverse("community:board", args=["nope"])).status_code == 404
    assert client.post(reverse("community:post_like", args=[999999])).status_code == 404


def test_thread_form_creates_and_refuses_announcements(client, asker, boards):
    client.force_login(asker)
    assert client.get(reverse("community:board_thread_new", args=["announcements"])).status_code == 403
    response = client.post(
        reverse("community:thread_new"),
        {"board": boards["announcements"].pk, "title": "Not allowed here", "body": BODY},
    )
    assert response.status_code == 400 and not Thread.objects.exists()
    response = client.post(
        reverse("community:thread_new"),
        {"board": boards["design"].pk, "title": "Logo feedback please", "body": BODY},
    )
    thread = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "community:thread", args=[thread.pk]
    )


def test_staff_moderate_from_the_thread_page(client, staff, thread, boards):
    client.force_login(staff)
    assert (
        client.post(reverse("community:thread_moderate", args=[thread.pk]), {"action": "lock"}).status_code
        == 302
    )
    assert Thread.objects.get(pk=thread.pk).is_locked
    client.post(
        reverse("community:thread_moderate", args=[thread.pk]),
        {"action": "move", "board": boards["writing"].pk},
    )
    assert Thread.objects.get(pk=thread.pk).board == boards["writing"]
    page = client.get(reverse("community:thread", args=[thread.pk])).content.decode()
    opening = Post.objects.get(thread=thread, is_opening=True)
    assert reverse("community:post_moderate", args=[opening.pk]) in page and 'value="hide"' in page
    assert 'value="unlock"' in page


def test_report_link_on_each_post(client, answerer, thread):
    client.force_login(answerer)
    opening = Post.objects.get(thread=thread, is_opening=True)
    page = client.get(reverse("community:thread", args=[thread.pk])).content.decode()
    assert f'href="/report/community.post/{opening.pk}/"' in page


# --- API ---------------------------------------------------------------------------------------------------------------


def test_api_reads_boards_threads_and_a_thread(api_client, thread, answerer):
    forums.reply_create(actor=answerer, thread_id=thread.pk, body="**answer**")
    boards = api_client.get(reverse("api_forum_boards")).json()
    assert [b["slug"] for b in boards][:2] == ["getting-started", "finding-work"]
    page = api_client.get(reverse("api_forum_threads") + "?board=getting-started&sort=latest").json()
    assert [t["id"] for t in page["results"]] == [thread.pk] and page["next_cursor"] is None
    detail = api_client.get(reverse("api_forum_thread", args=[thread.pk])).json()
    assert [p["is_opening"] for p in detail["posts"]] == [True, False]
    assert detail["posts"][1]["body_html"] == "<p><strong>answer</strong></p>\n"
    assert detail["posts"][1]["author"]["handle"] == "TomB"
    assert api_client.get(reverse("api_forum_thread", args=[999999])).status_code == 404
    assert (
        api_client.get(reverse("api_forum_threads") + "?q=Connects").json()["results"][0]["id"] == thread.pk
    )


def test_api_writes_for_the_logged_in_member(api_client, asker, answerer, board, settings):
    assert api_client.post(reverse("api_forum_threads"), {}).status_code in (401, 403)
    api_client.force_authenticate(asker)
    created = api_client.post(
        reverse("api_forum_threads"),
        {"board": board.slug, "title": "API question title", "body": BODY},
        format="json",
    )
    assert created.status_code == 201
    thread_id = created.json()["id"]
    api_client.force_authenticate(answerer)
    reply = api_client.post(reverse("api_forum_reply", args=[thread_id]), {"body": "answer"}, format="json")
    assert reply.status_code == 201
    reply_id = reply.json()["id"]
    assert (
        api_client.post(
            reverse("api_forum_accept", args=[thread_id]), {"post": reply_id}, format="json"
        ).status_code
        == 403
    )
    liked = api_client.post(reverse("api_forum_like", args=[reply_id]))
    assert liked.status_code == 403  # own post
    assert api_client.post(reverse("api_forum_follow", args=[thread_id])).json() == {
        "thread": thread_id,
        "following": True,
    }
    assert api_client.delete(reverse("api_forum_follow", args=[thread_id])).json()["following"] is False
    api_client.force_authenticate(asker)
    assert api_client.post(reverse("api_forum_like", args=[reply_id])).json()["like_count"] == 1
    accepted = api_client.post(
        reverse("api_forum_accept", args=[thread_id]), {"post": reply_id}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["accepted_post"] == reply_id
    bad = api_client.post(
        reverse("api_forum_threads"), {"board": "nope", "title": "x", "body": ""}, format="json"
    )
    assert bad.status_code == 400
    settings.COMMUNITY_POST_RATE = 1
    limited = api_client.post(reverse("api_forum_reply", args=[thread_id]), {"body": "more"}, format="json")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"


# --- seed ----------------------------------------------------------------------------------------------------------------


def test_seed_demo_forums_is_idempotent(boards, staff):
    freelancers = [old_member() for _ in range(4)]
    clients = [factories.make_client()]
    made = seed_demo_forums(freelancers=freelancers, clients=clients, staff=staff)
    assert made == 6 and Board.objects.count() == 8
    assert Thread.objects.filter(accepted_post__isnull=False).count() == 2
    assert seed_demo_forums(freelancers=freelancers, clients=clients, staff=staff) == 0


# --- admin ---------------------------------------------------------------------------------------------------------------


def test_admin_lists_and_actions_call_the_services(client, staff, asker, answerer, thread, boards):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="a reply")
    client.force_login(staff)
    for name in ("board", "thread", "post", "postingrestriction"):
        assert client.get(reverse(f"admin:community_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:community_thread_change", args=[thread.pk])).status_code == 200
    changelist = reverse("admin:community_thread_changelist")
    client.post(changelist, {"action": "lock", "_selected_action": [thread.pk]})
    client.post(changelist, {"action": "move", "_selected_action": [thread.pk], "board": boards["design"].pk})
    thread.refresh_from_db()
    assert thread.is_locked and thread.board == boards["design"]
    client.post(
        reverse("admin:community_post_changelist"), {"action": "hide", "_selected_action": [reply.pk]}
    )
    assert Post.objects.get(pk=reply.pk).hidden_at is not None
    added = client.post(
        reverse("admin:community_postingrestriction_add"), {"user": answerer.pk, "reason": "Repeated spam"}
    )
    assert added.status_code == 302 and PostingRestriction.objects.get(user=answerer).created_by == staff
    own = client.post(reverse("admin:community_postingrestriction_add"), {"user": staff.pk, "reason": "x"})
    assert own.status_code == 200 and not PostingRestriction.objects.filter(user=staff).exists()
    restriction = PostingRestriction.objects.get(user=answerer)
    client.post(
        reverse("admin:community_postingrestriction_changelist"),
        {"action": "restore", "_selected_action": [restriction.pk]},
    )
    assert not PostingRestriction.objects.exists()
    actions = set(ModerationDecision.objects.values_list("action", flat=True))
    assert {"lock", "move", "hide", "restrict_posting", "restore_posting"} <= actions


def test_preview_renders_a_draft_safely(client, asker):
    url = reverse("community:preview")
    assert client.post(url, {"body": "x"}).status_code == 302  # anonymous: log in first
    client.force_login(asker)
    assert client.get(url).status_code == 405
    html = client.post(url, {"body": "**bold** <script>alert(1)</script>"}).content.decode()
    assert "<strong>bold</strong>" in html and "<script>" not in html and "&lt;script&gt;" in html
    assert "Nothing to preview" in client.post(url, {"body": ""}).content.decode()


def test_a_thread_counts_one_view_per_session_and_not_its_authors(client, asker, answerer, thread):
    url = reverse("community:thread", args=[thread.pk])
    client.force_login(asker)  # the author
    client.get(url)
    assert Thread.objects.get(pk=thread.pk).view_count == 0

    client.force_login(answerer)
    client.get(url)
    client.get(url)  # a reload is the same view
    anonymous = Client()
    anonymous.get(url)

    assert Thread.objects.get(pk=thread.pk).view_count == 2
    board_page = anonymous.get(reverse("community:board", args=[thread.board.slug])).content.decode()
    assert "2 views" in board_page


@pytest.mark.django_db(transaction=True)
def test_posting_services_open_their_own_transaction():
    """As a page calls them (autocommit, no surrounding transaction): each service is atomic
    and takes its row locks inside it."""
    ensure_boards()
    board = Board.objects.get(slug="getting-started")
    asker, answerer = old_member(), old_member()

    thread = forums.thread_create(actor=asker, board_id=board.pk, title="Is escrow safe?", body=BODY)
    reply = forums.reply_create(
        actor=answerer, thread_id=thread.pk, body="Yes: funds are held until you approve."
    )

    assert Post.objects.filter(thread=thread).count() == 2
    assert reply.thread_id == thread.pk


# --- review: access, bad input and moderation gaps --------------------------------------------------------


def test_a_quote_of_a_held_post_does_not_show_its_body_to_others(client, asker, thread):
    newcomer = factories.make_freelancer()
    held = forums.reply_create(actor=newcomer, thread_id=thread.pk, body="buy at https://spam.example now")
    assert held.held_at is not None
    with pytest.raises(ApplicationError) as error:
        forums.reply_create(actor=newcomer, thread_id=thread.pk, body="as I said", quote_post_id=held.pk)
    assert error.value.code == "quote_not_found"
    # a quote of a post that was held (or hidden) later is not shown either
    visible = forums.reply_create(actor=newcomer, thread_id=thread.pk, body="plain words only")
    quoting = forums.reply_create(actor=asker, thread_id=thread.pk, body="agreed", quote_post_id=visible.pk)
    forums.post_edit(actor=newcomer, post_id=visible.pk, body="now see https://spam.example/2")
    assert Post.objects.get(pk=visible.pk).held_at is not None
    html = client.get(reverse("community:thread", args=[thread.pk])).content.decode()
    assert f'id="post-{quoting.pk}"' in html
    assert "spam.example" not in html and "This post is not shown." in html


def test_edit_page_of_a_reply_in_a_hidden_thread_is_a_404(client, asker, answerer, thread, staff):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="my reply")
    forums.post_hide(actor=staff, post_id=Post.objects.get(thread=thread, is_opening=True).pk)
    client.force_login(answerer)
    assert client.get(reverse("community:post_edit", args=[reply.pk])).status_code == 404
    assert client.post(reverse("community:post_edit", args=[reply.pk]), {"body": "x y"}).status_code == 404


def test_huge_and_malformed_ids_and_cursors_are_4xx(client, api_client, asker, answerer, thread, board):
    huge = "9" * 25
    client.force_login(asker)
    assert client.get(f"/community/posts/{huge}/edit/").status_code == 404
    assert client.get(f"/community/threads/{huge}/").status_code == 404
    assert client.post(f"/community/posts/{huge}/like/").status_code == 404
    assert client.post(f"/community/threads/{huge}/follow/").status_code == 404
    api_client.force_authenticate(asker)
    accept = api_client.post(
        reverse("api_forum_accept", args=[thread.pk]), {"post": int(huge)}, format="json"
    )
    assert accept.status_code == 400
    reply = api_client.post(
        reverse("api_forum_reply", args=[thread.pk]), {"body": "quoting", "quote": int(huge)}, format="json"
    )
    assert reply.status_code == 400
    for sort, raw in (("top", f"{huge}|{huge}"), ("latest", f"2024-01-01T00:00:00|{huge}")):
        cursor = selectors.base64.urlsafe_b64encode(raw.encode()).decode()
        response = api_client.get(
            reverse("api_forum_threads") + f"?board={board.slug}&sort={sort}&cursor={cursor}"
        )
        assert response.status_code == 400, (sort, response.status_code)
        assert response.json()["code"] == "bad_cursor"
    naive = selectors.base64.urlsafe_b64encode(b"2024-01-01T00:00:00|5").decode()
    detail = api_client.get(reverse("api_forum_thread", args=[thread.pk]) + f"?cursor={naive}")
    assert detail.status_code == 400, detail.status_code
    assert client.post(reverse("community:thread", args=[thread.pk])).status_code == 405


def test_staff_only_services_refuse_members(asker, answerer, thread, boards):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="a reply")
    for call in (
        lambda: forums.thread_move(actor=asker, thread_id=thread.pk, board_id=boards["payments"].pk),
        lambda: forums.post_hide(actor=asker, post_id=reply.pk),
        lambda: forums.post_unhide(actor=asker, post_id=reply.pk),
        lambda: forums.post_approve(actor=asker, post_id=reply.pk),
        lambda: forums.posting_restore(actor=asker, user_id=answerer.pk),
    ):
        with pytest.raises(PermissionDeniedError) as error:
            call()
        assert error.value.code == "staff_only"
    assert Post.objects.get(pk=reply.pk).hidden_at is None
    assert Thread.objects.get(pk=thread.pk).board == boards["getting-started"]
    assert not ModerationDecision.objects.exists()


def test_admin_flag_actions_pin_unpin_lock_unlock(client, staff, thread):
    client.force_login(staff)
    changelist = reverse("admin:community_thread_changelist")
    states = []
    for action in ("pin", "lock", "unpin", "unlock"):
        client.post(changelist, {"action": action, "_selected_action": [thread.pk]})
        thread.refresh_from_db()
        states.append((thread.is_pinned, thread.is_locked))
    assert states == [(True, False), (True, True), (False, True), (False, False)]
    actions = list(ModerationDecision.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["pin", "lock", "unpin", "unlock"]


def test_approving_a_hidden_held_post_tells_no_followers(
    asker, thread, staff, django_capture_on_commit_callbacks
):
    newcomer = factories.make_freelancer()
    held = forums.reply_create(actor=newcomer, thread_id=thread.pk, body="@MariaG https://spam.example")
    forums.post_hide(actor=staff, post_id=held.pk)
    before = len(community_notes(asker))
    with django_capture_on_commit_callbacks(execute=True):
        forums.post_approve(actor=staff, post_id=held.pk)
    assert len(community_notes(asker)) == before
    assert Thread.objects.get(pk=thread.pk).reply_count == 0


WRITE_SERVICES = {
    "reply_create": lambda c: forums.reply_create(
        actor=c["answerer"], thread_id=c["thread"].pk, body="a reply"
    ),
    "post_edit": lambda c: forums.post_edit(actor=c["asker"], post_id=c["opening"].pk, body="edited body"),
    "post_like": lambda c: forums.post_like(actor=c["answerer"], post_id=c["opening"].pk),
    "post_unlike": lambda c: forums.post_unlike(actor=c["answerer"], post_id=c["opening"].pk),
    "thread_accept_answer": lambda c: forums.thread_accept_answer(actor=c["asker"], thread_id=c["thread"].pk),
    "thread_follow": lambda c: forums.thread_follow(actor=c["answerer"], thread_id=c["thread"].pk),
    "thread_unfollow": lambda c: forums.thread_unfollow(actor=c["asker"], thread_id=c["thread"].pk),
    "thread_set_pinned": lambda c: forums.thread_set_pinned(
        actor=c["staff"], thread_id=c["thread"].pk, pinned=True
    ),
    "thread_set_locked": lambda c: forums.thread_set_locked(
        actor=c["staff"], thread_id=c["thread"].pk, locked=True
    ),
    "thread_move": lambda c: forums.thread_move(
        actor=c["staff"], thread_id=c["thread"].pk, board_id=c["other"].pk
    ),
    "post_hide": lambda c: forums.post_hide(actor=c["staff"], post_id=c["opening"].pk),
    "posting_restrict": lambda c: forums.posting_restrict(
        actor=c["staff"], user_id=c["answerer"].pk, reason="spam"
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(WRITE_SERVICES))
def test_every_write_service_opens_its_own_transaction(name):
    """Called as a page calls them (autocommit): a service without ``transaction.atomic``
    fails on its first ``select_for_update``."""
    ensure_boards()
    board, other = Board.objects.get(slug="getting-started"), Board.objects.get(slug="payments")
    asker, answerer, staff = old_member(), old_member(), factories.make_staff()
    thread = forums.thread_create(actor=asker, board_id=board.pk, title="Is escrow safe?", body=BODY)
    opening = Post.objects.get(thread=thread, is_opening=True)
    context = {"asker": asker, "answerer": answerer, "staff": staff, "thread": thread}
    WRITE_SERVICES[name]({**context, "opening": opening, "other": other})


def test_seeding_leaves_no_half_written_thread_when_a_post_is_refused(settings, boards, staff):
    from community.forum_seeding import THREADS

    settings.COMMUNITY_POST_RATE = 2  # too few posts each: some demo threads cannot be completed
    freelancers = [old_member() for _ in range(4)]
    made = seed_demo_forums(freelancers=freelancers, clients=[factories.make_client()], staff=staff)
    replies = {title: len(thread_replies) for _, title, _, thread_replies, _ in THREADS}
    seeded = {t.title: t.reply_count for t in Thread.objects.all()}
    assert made == len(seeded) < len(THREADS)
    assert seeded == {title: replies[title] for title in seeded}


@pytest.mark.parametrize("body", ["[me](mailto:me@spam.example)", "visit www.spam.example"])
def test_new_accounts_posts_with_any_kind_of_link_are_held(thread, body):
    newcomer = factories.make_freelancer()
    assert forums.reply_create(actor=newcomer, thread_id=thread.pk, body=body).held_at is not None


def test_start_thread_link_only_for_who_may_start_there(client, asker, staff, boards):
    announcements = reverse("community:board", args=["announcements"])
    design = reverse("community:board", args=["design"])
    assert 'data-testid="new-thread"' not in client.get(design).content.decode()
    client.force_login(asker)
    assert 'data-testid="new-thread"' in client.get(design).content.decode()
    assert 'data-testid="new-thread"' not in client.get(announcements).content.decode()
    client.force_login(staff)
    assert 'data-testid="new-thread"' in client.get(announcements).content.decode()


def test_restricted_member_cannot_edit_and_locked_thread_posts_do_not_change(asker, answerer, thread, staff):
    reply = forums.reply_create(actor=answerer, thread_id=thread.pk, body="my reply")
    forums.posting_restrict(actor=staff, user_id=answerer.pk, reason="Spam links")
    with pytest.raises(PermissionDeniedError) as restricted:
        forums.post_edit(actor=answerer, post_id=reply.pk, body="sneaky edit")
    assert restricted.value.code == "posting_restricted"
    forums.thread_set_locked(actor=staff, thread_id=thread.pk, locked=True)
    opening = Post.objects.get(thread=thread, is_opening=True)
    with pytest.raises(PermissionDeniedError) as locked:
        forums.post_edit(actor=asker, post_id=opening.pk, body="changed after lock")
    assert locked.value.code == "thread_locked"
    assert Post.objects.get(pk=opening.pk).body == BODY and Post.objects.get(pk=reply.pk).body == "my reply"
