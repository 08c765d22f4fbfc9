"""Help center: seeding, rendering (sanitised), search (PostgreSQL ranking and the SQLite
fallback behind the same selector), pages, "was this helpful?" once per member or
session, the help_link tag and the API."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.urls import reverse

from community import help as help_center
from community.help_content import load_articles
from community.models import Article, ArticleFeedback, HelpCategory
from marketplace.errors import ConflictError, NotFoundError, PermissionDeniedError
from tests import factories
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_help_center", stdout=io.StringIO())
    return {a.slug: a for a in Article.objects.all()}


def make_article(
    *, title: str, body: str, summary: str = "A summary.", published: bool = True, slug: str = ""
):
    category = HelpCategory.objects.get_or_create(slug="test-cat", defaults={"name": "Test category"})[0]
    article = Article(
        category=category,
        title=title,
        slug=slug or title.lower().replace(" ", "-")[:150],
        summary=summary,
        body=body,
        is_published=published,
    )
    return help_center.article_save(actor=None, article=article)


# --- seeding -----------------------------------------------------------------------------


def test_seed_loads_at_least_15_published_articles_and_is_idempotent(seeded):
    assert len(load_articles()) >= 15
    assert Article.objects.filter(is_published=True).count() >= 15
    fees = Article.objects.get(slug="fees")
    fees.helpful_yes = 7
    fees.save(update_fields=["helpful_yes"])
    call_command("seed_help_center", stdout=io.StringIO())
    assert Article.objects.filter(slug="fees").count() == 1
    fees.refresh_from_db()
    assert fees.helpful_yes == 7  # the counts survive a re-seed
    assert Article.objects.count() == len(load_articles())


def test_seeded_articles_carry_the_configured_figures(seeded, settings):
    assert "10 %" in seeded["fees"].body_html
    assert "$525.00" in seeded["fees"].body_html  # $500 + 5 % client fee
    assert "$450.00" in seeded["fees"].body_html
    assert "5 days" in seeded["escrow-and-holds"].body_html
    assert "{{" not in "".join(a.body for a in seeded.values())
    settings.FREELANCER_SERVICE_FEE_BPS = 1250
    call_command("seed_help_center", stdout=io.StringIO())
    assert "12.5 %" in Article.objects.get(slug="fees").body_html


def test_seeded_article_links_point_at_real_articles(seeded):
    for article in seeded.values():
        for slug in re.findall(r'href="/help/articles/([\w-]+)/"', article.body_html):
            assert slug in seeded, f"{article.slug} links to missing {slug}"


# --- rendering ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="javascript:alert(1)">x</a>',
        "[x](//evil.example.com/)",
        '<iframe src="https://evil.example.com"></iframe>',
        "| a |\n| - |\n| <svg onload=alert(1)> |",
        "## <style>body{display:none}</style>",
    ],
)
def test_article_markdown_is_sanitised(attack):
    html = help_center.render_article_body(attack)
    tags = re.findall(r"<[^>]*>", html)
    assert tags, html
    for tag in tags:
        name = re.match(r"</?([a-z0-9]+)", tag)
        assert name and name.group(1) in help_center.ARTICLE_TAGS, tag
        assert not re.search(r"\son\w+=|javascript:|data:|style=", tag, re.IGNORECASE), tag
    for href in re.findall(r'href="([^"]*)"', " ".join(tags)):
        assert href.startswith(("https://", "http://", "mailto:")) or (
            href.startswith("/") and not href.startswith("//")
        ), href


def test_article_markdown_keeps_headings_tables_and_site_links():
    html = help_center.render_article_body(
        "# Top\n\n## Part\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n[Fees](/help/articles/fees/) and [x](https://example.com/)"
    )
    assert "<h1>" not in html
    assert "<h2>Top</h2>" in html and "<h2>Part</h2>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert 'href="/help/articles/fees/"' in html
    assert 'href="https://example.com/"' in html


def test_admin_save_renders_body_html(client):
    staff = factories.make_staff()
    client.force_login(staff)
    category = HelpCategory.objects.create(name="Admin cat", slug="admin-cat")
    response = client.post(
        reverse("admin:community_article_add"),
        {
            "category": category.pk,
            "title": "Written in admin",
            "slug": "written-in-admin",
            "summary": "Sum",
            "body": "**Bold** <script>alert(1)</script>",
            "is_published": "on",
            "position": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    article = Article.objects.get(slug="written-in-admin")
    assert "<strong>Bold</strong>" in article.body_html
    assert "<script" not in article.body_html
    if connection.vendor == "postgresql":
        assert help_center.article_search(query="written admin")[0].article == article


# --- search ------------------------------------------------------------------------------


@requires_postgres
def test_postgres_search_ranks_title_over_summary_over_body():
    in_body = make_article(title="Alpha", summary="Nothing here.", body="Something about quokkas.")
    in_summary = make_article(title="Beta", summary="All about quokkas.", body="Text.")
    in_title = make_article(title="Quokkas explained", summary="Intro.", body="Text.")
    hits = help_center.article_search(query="quokkas")
    assert [h.article.pk for h in hits] == [in_title.pk, in_summary.pk, in_body.pk]
    assert hits[0].rank > hits[1].rank > hits[2].rank


@requires_postgres
def test_postgres_search_stems_words_and_highlights_the_snippet():
    article = make_article(title="Marsupials", body="The wallaby **hopped** away <b>quickly</b>.")
    hits = help_center.article_search(query="hopping")
    assert [h.article.pk for h in hits] == [article.pk]
    assert "<mark>hopped</mark>" in hits[0].snippet_html
    assert "<b>" not in hits[0].snippet_html  # no markup from the body reaches the page
    assert "quickly" in hits[0].snippet_html
    assert "**" not in hits[0].snippet_html


@requires_postgres
def test_postgres_search_of_the_seeded_articles_puts_the_right_one_first(seeded):
    assert help_center.article_search(query="security hold")[0].article.slug == "escrow-and-holds"
    assert help_center.article_search(query="marketplace fee")[0].article.slug == "fees"
    assert help_center.article_search(query="Job Success Score")[0].article.slug == "job-success-score"
    assert (
        help_center.article_search(query="weekly billing review period")[0].article.slug == "hourly-billing"
    )


def test_search_hides_unpublished_articles_and_handles_odd_input():
    make_article(title="Wombat published", body="wombat text")
    make_article(title="Wombat draft", body="wombat text", published=False)
    hits = help_center.article_search(query="wombat")
    assert [h.article.title for h in hits] == ["Wombat published"]
    assert help_center.article_search(query="") == []
    assert help_center.article_search(query="   ") == []
    for odd in ["'", '"', "&|!", "(", "-", "wombat:*", "\\", "a" * 500, "🙂"]:
        help_center.article_search(query=odd)  # never an error


def test_fallback_search_matches_every_word_and_ranks_title_first(monkeypatch):
    body_only = make_article(title="Alpha", summary="Nothing.", body="Platypus and <b>eggs</b> here.")
    titled = make_article(title="Platypus eggs", summary="Intro.", body="Other text.")
    make_article(title="Only platypus", summary="Intro.", body="No e-g-g-s.")
    monkeypatch.setattr(connection, "vendor", "sqlite")
    hits = help_center.article_search(query="platypus eggs")
    assert [h.article.pk for h in hits] == [titled.pk, body_only.pk]
    assert "<mark>Platypus</mark>" in hits[1].snippet_html
    assert "&lt;b&gt;<mark>eggs</mark>&lt;/b&gt;" in hits[1].snippet_html


# --- pages -------------------------------------------------------------------------------


def test_help_home_lists_categories_and_search_box(client, seeded):
    response = client.get(reverse("community:help_home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="q"' in page and "Search the help center" in page
    for name in ("Getting started", "Payments and fees", "Trust and safety"):
        assert name in page
    assert reverse("community:help_article", kwargs={"slug": "fees"}) in page


def test_help_home_empty_state(client):
    Article.objects.update(is_published=False)
    response = client.get(reverse("community:help_home"))
    assert 'data-testid="help-empty"' in response.content.decode()


def test_category_page_lists_only_published(client):
    make_article(title="Shown article", body="x")
    make_article(title="Hidden article", body="x", published=False)
    page = client.get(reverse("community:help_category", kwargs={"slug": "test-cat"})).content.decode()
    assert "Shown article" in page and "Hidden article" not in page
    assert client.get(reverse("community:help_category", kwargs={"slug": "nope"})).status_code == 404


def test_article_page_and_drafts_404_except_for_staff(client):
    published = make_article(title="Public one", body="Hello **there**")
    draft = make_article(title="Draft one", body="secret", published=False)
    response = client.get(reverse("community:help_article", kwargs={"slug": published.slug}))
    assert response.status_code == 200
    assert "<strong>there</strong>" in response.content.decode()
    assert "Was this article helpful?" in response.content.decode()
    assert client.get(reverse("community:help_article", kwargs={"slug": draft.slug})).status_code == 404
    client.force_login(factories.make_freelancer())
    assert client.get(reverse("community:help_article", kwargs={"slug": draft.slug})).status_code == 404
    client.force_login(factories.make_staff())
    response = client.get(reverse("community:help_article", kwargs={"slug": draft.slug}))
    assert response.status_code == 200 and 'data-testid="draft-badge"' in response.content.decode()
    assert client.get(reverse("community:help_article", kwargs={"slug": "missing"})).status_code == 404


def test_search_page_results_empty_state_and_bad_input(client):
    make_article(title="Numbat guide", body="All about the numbat <script>x</script>.")
    page = client.get(reverse("community:help_search"), {"q": "numbat"}).content.decode()
    assert page.count('data-testid="help-hit"') == 1
    assert "<mark>numbat</mark>" in page.lower()
    assert "<script>x" not in page
    empty = client.get(reverse("community:help_search"), {"q": "nothingmatcheszzz"})
    assert 'data-testid="help-search-empty"' in empty.content.decode()
    assert 'data-testid="help-search-prompt"' in client.get(reverse("community:help_search")).content.decode()
    too_long = client.get(reverse("community:help_search"), {"q": "x" * 500})
    assert too_long.status_code == 400
    assert client.get(reverse("community:help_search"), {"q": "'\"&|!:*()"}).status_code == 200


# --- feedback ----------------------------------------------------------------------------


def test_member_feedback_counts_once(client):
    article = make_article(title="Feedback one", body="x")
    member = factories.make_freelancer()
    client.force_login(member)
    url = reverse("community:help_feedback", kwargs={"slug": article.slug})
    response = client.post(url, {"helpful": "yes"}, follow=True)
    assert "Thank you for your feedback" in response.content.decode()
    assert 'data-testid="feedback-thanks"' in response.content.decode()
    response = client.post(url, {"helpful": "no"}, follow=True)
    assert "already told us" in response.content.decode()
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    assert ArticleFeedback.objects.filter(article=article, user=member).count() == 1


def test_anonymous_feedback_counts_once_per_session():
    article = make_article(title="Feedback anon", body="x")
    url = reverse("community:help_feedback", kwargs={"slug": article.slug})
    first, second = Client(), Client()
    assert first.post(url, {"helpful": "no"}).status_code == 302
    first.post(url, {"helpful": "no"})
    first.post(url, {"helpful": "yes"})
    second.post(url, {"helpful": "yes"})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    assert ArticleFeedback.objects.filter(article=article, user=None).count() == 2
    page = first.get(reverse("community:help_article", kwargs={"slug": article.slug})).content.decode()
    assert 'data-testid="feedback-thanks"' in page


def test_feedback_bad_input_and_drafts(client):
    article = make_article(title="Feedback bad", body="x")
    draft = make_article(title="Feedback draft", body="x", published=False)
    response = client.post(
        reverse("community:help_feedback", kwargs={"slug": article.slug}), {"helpful": "maybe"}
    )
    assert response.status_code == 302
    assert (
        client.post(
            reverse("community:help_feedback", kwargs={"slug": draft.slug}), {"helpful": "yes"}
        ).status_code
        == 404
    )
    assert client.get(reverse("community:help_feedback", kwargs={"slug": article.slug})).status_code == 405
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 0)


def test_feedback_service_refuses_a_second_answer_and_unknown_articles():
    article = make_article(title="Feedback service", body="x")
    member = factories.make_client()
    help_center.article_feedback_submit(actor=member, article_id=article.pk, helpful=True)
    with pytest.raises(ConflictError):
        help_center.article_feedback_submit(actor=member, article_id=article.pk, helpful=False)
    with pytest.raises(ConflictError):
        help_center.article_feedback_submit(actor=None, article_id=article.pk, helpful=True, session_key="")
    with pytest.raises(NotFoundError):
        help_center.article_feedback_submit(actor=member, article_id=10**9, helpful=True)


# --- help_link and the pages that link -----------------------------------------------------


def test_help_link_tag_renders_a_link_to_the_article():
    html = Template('{% load help_tags %}{% help_link "fees" %}|{% help_link "jss" "Score?" %}').render(
        Context()
    )
    assert 'href="/help/articles/fees/"' in html
    assert "How fees work" in html
    assert 'href="/help/articles/job-success-score/"' in html and "Score?" in html
    with pytest.raises(TemplateSyntaxError):
        Template('{% load help_tags %}{% help_link "nonsense" %}').render(Context())


def test_every_help_topic_points_at_a_seeded_article():
    slugs = {a.slug for a in load_articles()}
    assert set(help_center.HELP_TOPICS.values()) <= slugs


def test_footer_links_to_help_and_events(client):
    page = client.get(reverse("community:help_home")).content.decode()
    assert f'href="{reverse("community:help_home")}"' in page
    assert f'href="{reverse("community:event_list")}"' in page


# --- API ---------------------------------------------------------------------------------


def test_api_categories_articles_and_search(api_client):
    article = make_article(title="Echidna handbook", body="All about echidnas.")
    make_article(title="Echidna draft", body="echidnas", published=False)
    categories = api_client.get("/api/v1/help/categories/").json()
    assert "test-cat" in [c["slug"] for c in categories]
    listing = api_client.get("/api/v1/help/articles/", {"category": "test-cat"}).json()
    assert [a["slug"] for a in listing] == [article.slug]
    found = api_client.get("/api/v1/help/articles/", {"search": "echidna"}).json()
    assert [a["slug"] for a in found] == [article.slug]
    assert "<mark>" in found[0]["snippet_html"]
    detail = api_client.get(f"/api/v1/help/articles/{article.slug}/").json()
    assert detail["body_html"] == article.body_html
    assert api_client.get("/api/v1/help/articles/echidna-draft/").status_code == 404
    bad = api_client.get("/api/v1/help/articles/", {"search": "x" * 300})
    assert bad.status_code == 400 and bad.json()["code"] == "search_too_long"


def test_api_search_in_a_category_is_not_cut_by_better_hits_elsewhere(api_client):
    # given more better-ranked matches in another category than one page of hits holds
    other = HelpCategory.objects.create(slug="other-cat", name="Other category")
    for n in range(help_center.SEARCH_LIMIT + 1):
        help_center.article_save(
            actor=None,
            article=Article(
                category=other, title=f"Bilby facts {n}", slug=f"bilby-{n}", summary="Bilby.", body="bilby"
            ),
        )
    wanted = make_article(title="Desert animals", body="The bilby digs burrows.")
    # when searching in the category of the weaker match
    found = api_client.get("/api/v1/help/articles/", {"search": "bilby", "category": "test-cat"}).json()
    # then the category is searched, not one page of the whole help center
    assert [a["slug"] for a in found] == [wanted.slug]
    assert [h.article.pk for h in help_center.article_search(query="bilby", category_slug="test-cat")] == [
        wanted.pk
    ]
    assert api_client.get("/api/v1/help/articles/", {"category": "no\x00pe"}).json() == []


def test_anonymous_feedback_is_rate_limited_per_ip(settings):
    from django.core.cache import cache

    cache.clear()
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "help_feedback": "2/h/ip"}
    article = make_article(title="Feedback spam", body="x")
    url = reverse("community:help_feedback", kwargs={"slug": article.slug})
    # a script dropping its cookie: each request is a fresh session
    answers = [Client().post(url, {"helpful": "yes"}).status_code for _ in range(4)]
    assert answers == [302, 302, 429, 429]
    article.refresh_from_db()
    assert article.helpful_yes == 2
    assert ArticleFeedback.objects.filter(article=article).count() == 2
    # members answer once each by the unique constraint, not counted against the IP
    member_client = Client()
    member_client.force_login(factories.make_freelancer())
    assert member_client.post(url, {"helpful": "no"}).status_code == 302
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (2, 1)
    cache.clear()


def test_article_set_published_is_staff_only_and_locks_one_row():
    article = make_article(title="Toggle me", body="x")
    with pytest.raises(PermissionDeniedError):
        help_center.article_set_published(
            actor=factories.make_freelancer(), article_id=article.pk, published=False
        )
    staff = factories.make_staff()
    with pytest.raises(NotFoundError):
        help_center.article_set_published(actor=staff, article_id=10**9, published=False)
    hidden = help_center.article_set_published(actor=staff, article_id=article.pk, published=False)
    assert hidden.pk == article.pk and not Article.objects.get(pk=article.pk).is_published
    assert hidden.updated_at > article.updated_at
    with pytest.raises(NotFoundError):
        help_center.article_get_published(slug=article.slug)
