"""The help center: rendering and saving articles, "was this helpful?" feedback (services),
and the reads behind the pages and the API (selectors).

Rendering: article bodies are Markdown written by staff. They go through the same
parser family and sanitiser as members' posts (``community.markdown``), widened for
articles only to headings (``##`` to ``####``), tables and links to pages of this site
(``/help/articles/fees/``). The HTML is rendered once on save into ``body_html``.

Search: on PostgreSQL, ``search_vector`` holds the title (weight A), the summary (B) and
the body (C), refreshed by ``refresh_search_vectors`` whenever an article is saved through
``article_save`` (admin) or the seed; the query is ``websearch_to_tsquery('english')``,
ranked by ``ts_rank`` with the snippet from ``ts_headline``. On SQLite the same selector
matches every word of the query as a substring of the title, summary or body and ranks
title matches first.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import nh3
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from markdown_it import MarkdownIt

from marketplace.errors import ConflictError, NotFoundError
from marketplace.money import format_cents
from payments import fees

from . import markdown as community_markdown
from .models import Article, ArticleFeedback, HelpCategory
from .publishing import published_set

if TYPE_CHECKING:
    from accounts.models import User

SEARCH_MAX_QUERY_CHARS = 200
SEARCH_LIMIT = 30
SNIPPET_WORDS = 30
# ts_headline marks matches with these control characters; the text around them is escaped
# before they become <mark> tags, so nothing from an article body reaches the page unescaped.
_START_SEL = "\ue000"  # private-use characters: never in real text
_STOP_SEL = "\ue001"

# {% help_link "fees" %}: topic -> article slug (community/help_content/<slug>.md)
HELP_TOPICS = {
    "fees": "fees",
    "escrow": "escrow-and-holds",
    "holds": "escrow-and-holds",
    "billing": "hourly-billing",
    "disputes": "disputes",
    "jss": "job-success-score",
    "reviews": "reviews",
    "connects": "connects",
    "proposals": "proposals",
    "payouts": "payouts",
    "safety": "safety-and-scams",
    "milestones": "fixed-price-milestones",
    "time-tracking": "time-tracking",
    "catalog": "service-catalog",
    "events": "events-and-community",
}


# --- rendering ---------------------------------------------------------------------------


def _percent(bps: int) -> str:
    whole, rest = divmod(bps, 100)
    return str(whole) if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")


def settings_tokens() -> dict[str, str]:
    """The ``{{ token }}`` values article bodies may use, read from the live settings."""
    example = 50_000
    earnings = fees.freelancer_earnings(example)
    client_fee = fees.client_marketplace_fee(example)
    costs = settings.CONNECTS_COST_BY_SIZE
    return {
        "freelancer_fee_percent": _percent(settings.FREELANCER_SERVICE_FEE_BPS),
        "client_fee_percent": _percent(settings.CLIENT_MARKETPLACE_FEE_BPS),
        "security_hold_days": str(settings.SECURITY_HOLD_DAYS),
        "auto_approve_days": str(settings.AUTO_APPROVE_DAYS),
        "payment_grace_days": str(settings.HOURLY_PAYMENT_GRACE_DAYS),
        "review_window_days": str(settings.REVIEW_WINDOW_DAYS),
        "review_reply_days": str(settings.REVIEW_REPLY_DAYS),
        "payout_min": format_cents(settings.PAYOUT_MIN_CENTS),
        "new_payout_method_delay_days": str(settings.NEW_PAYOUT_METHOD_DELAY_DAYS),
        "connects_monthly_grant": str(settings.CONNECTS_MONTHLY_GRANT),
        "connects_rollover_cap": str(settings.CONNECTS_ROLLOVER_CAP),
        "connects_price": format_cents(settings.CONNECTS_PRICE_CENTS),
        "connects_cost_small": str(costs["small"]),
        "connects_cost_medium": str(costs["medium"]),
        "connects_cost_large": str(costs["large"]),
        "example_amount": format_cents(example),
        "example_client_fee": format_cents(client_fee),
        "example_client_total": format_cents(example + client_fee),
        "example_freelancer_fee": format_cents(earnings.fee_cents),
        "example_freelancer_net": format_cents(earnings.net_cents),
    }


_TOKEN_RE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def fill_tokens(text: str) -> str:
    """Replace known ``{{ token }}`` placeholders; unknown ones stay as written."""
    values = settings_tokens()
    return _TOKEN_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _article_link_allowed(url: str) -> bool:
    text = url.strip()
    if text.startswith("/") and not text.startswith("//") and "\\" not in text:
        return True
    return community_markdown._link_is_allowed(text)


@lru_cache(maxsize=1)
def _article_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["strikethrough", "table"])
    md.disable(["image", "html_block", "html_inline"])
    md.validateLink = _article_link_allowed  # type: ignore[method-assign]
    return md


ARTICLE_TAGS = set(community_markdown.ALLOWED_TAGS) | {
    "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def render_article_body(text: str) -> str:
    """Staff Markdown (with ``{{ token }}`` figures filled in) to sanitised HTML. Level-1
    headings become level 2: the page's own title is the only ``h1``."""
    source = re.sub(r"(?m)^# ", "## ", fill_tokens(text or ""))
    md = _article_parser()
    rendered = md.render(source)
    attributes = {tag: set(names) for tag, names in community_markdown.ALLOWED_ATTRIBUTES.items()}
    attributes.update({"th": {"style"}, "td": {"style"}})
    return nh3.clean(
        rendered,
        tags=ARTICLE_TAGS,
        attributes=attributes,
        url_schemes=set(community_markdown.ALLOWED_SCHEMES),
        link_rel=community_markdown.LINK_REL,
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


def refresh_search_vectors(article_model: Any, ids: list[int]) -> None:
    """Recompute ``search_vector`` (title A, summary B, body C) of the given articles on
    PostgreSQL; nothing to do elsewhere. Works with historical models too."""
    if not ids or connections[article_model.objects.db].vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector

    vector = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("body", weight="C", config="english")
    )
    article_model.objects.filter(pk__in=ids).update(search_vector=vector)


# --- services ----------------------------------------------------------------------------


@transaction.atomic
def article_save(*, actor: User | None, article: Article) -> Article:
    """Save an article written in admin: render ``body_html`` from ``body`` and refresh its
    search vector in the same transaction. ``actor`` is the staff member (None for seeds)."""
    article.body_html = render_article_body(article.body)
    if article.pk is None:
        article.save()
    else:
        # never the "was this helpful?" counters: they move under F() meanwhile
        article.save(update_fields=[*_ARTICLE_EDITABLE, "body_html", "updated_at"])
    refresh_search_vectors(Article, [article.pk])
    return article


_ARTICLE_EDITABLE = ["category", "title", "slug", "summary", "body", "is_published", "position"]


@dataclass(frozen=True)
class FeedbackResult:
    article: Article
    helpful: bool


def feedback_given(*, article: Article, user: User | None, session_key: str) -> ArticleFeedback | None:
    """The visitor's answer on this article, if they gave one."""
    if user is not None:
        return ArticleFeedback.objects.filter(article=article, user=user).first()
    if session_key:
        return ArticleFeedback.objects.filter(article=article, user=None, session_key=session_key).first()
    return None


@transaction.atomic
def article_feedback_submit(
    *, actor: User | None, article_id: int, helpful: bool, session_key: str = "", comment: str = ""
) -> FeedbackResult:
    """Record one "was this helpful?" answer per member (``actor``) or, for an anonymous
    visitor, per session. The unique constraints decide "once" (a double submit or a race
    inserts one row); the counter moves with ``F()`` in the same transaction."""
    article = article_get_published(article_id=article_id)
    if actor is None and not session_key:
        raise ConflictError("Your session has expired. Reload the page and try again.", code="no_session")
    try:
        with transaction.atomic():
            ArticleFeedback.objects.create(
                article=article,
                user=actor,
                session_key="" if actor is not None else session_key[:64],
                helpful=helpful,
                comment=comment.strip()[:500],
            )
    except IntegrityError:
        raise ConflictError(
            "You have already told us whether this article helped. Thank you!", code="feedback_already_given"
        ) from None
    counter = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    article.refresh_from_db(fields=["helpful_yes", "helpful_no"])
    return FeedbackResult(article=article, helpful=helpful)


# --- selectors ---------------------------------------------------------------------------


def published_articles() -> QuerySet[Article]:
    return Article.objects.filter(is_published=True).select_related("category").defer("search_vector")


def category_list() -> list[HelpCategory]:
    """Categories with at least one published article, each with ``published_count`` and up
    to five ``top_articles`` (two queries)."""
    categories: list[HelpCategory] = list(
        HelpCategory.objects.annotate(
            published_count=Count("articles", filter=Q(articles__is_published=True))
        )
        .filter(published_count__gt=0)
        .order_by("position", "name")
    )
    by_category: dict[int, list[Article]] = {c.pk: [] for c in categories}
    for article in (
        published_articles()
        .filter(category__in=categories)
        .only("id", "slug", "title", "summary", "category_id", "position")
        .order_by("position", "title")
    ):
        by_category[article.category_id].append(article)
    for category in categories:
        category.top_articles = by_category[category.pk][:5]  # type: ignore[attr-defined]
    return categories


def category_get(*, slug: str) -> HelpCategory:
    category = HelpCategory.objects.filter(slug=slug).first()
    if category is None or not category.articles.filter(is_published=True).exists():
        raise NotFoundError("No such help category.", code="help_category_not_found")
    return category


def category_articles(*, category: HelpCategory) -> list[Article]:
    return list(published_articles().filter(category=category).order_by("position", "title"))


def article_get_published(*, article_id: int | None = None, slug: str | None = None) -> Article:
    articles = published_articles()
    article = (
        articles.filter(pk=article_id).first()
        if article_id is not None
        else articles.filter(slug=slug).first()
    )
    if article is None:
        raise NotFoundError("No such help article.", code="help_article_not_found")
    return article


def article_get_for_viewer(*, slug: str, viewer: Any) -> Article:
    """A published article; staff may also preview drafts. Anyone else gets a 404."""
    article = Article.objects.select_related("category").defer("search_vector").filter(slug=slug).first()
    if article is None or not (article.is_published or getattr(viewer, "is_staff", False)):
        raise NotFoundError("No such help article.", code="help_article_not_found")
    return article


def related_articles(*, article: Article, limit: int = 4) -> list[Article]:
    return list(
        published_articles()
        .filter(category_id=article.category_id)
        .exclude(pk=article.pk)
        .only("id", "slug", "title", "category_id")
        .order_by("position", "title")[:limit]
    )


@dataclass(frozen=True)
class SearchHit:
    article: Article
    snippet_html: str  # escaped text with <mark> around the matches
    rank: float


def _clean_query(query: str) -> str:
    # NUL is not whitespace to split() and PostgreSQL refuses it in a query (a 500)
    return " ".join(str(query or "").replace("\x00", " ").split())[:SEARCH_MAX_QUERY_CHARS]


def _marked(text: str) -> str:
    return html.escape(text).replace(_START_SEL, "<mark>").replace(_STOP_SEL, "</mark>")


def _plain(markdown_text: str) -> str:
    """Markdown reduced to words for snippets (no markup characters, no placeholders)."""
    text = fill_tokens(markdown_text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(?m)^[ \t]*(#{1,6}|>+)[ \t]*", "", text)
    text = re.sub(r"[*_`]+", "", text).replace("|", " ")
    return " ".join(text.split())


def _published_in(category_slug: str) -> QuerySet[Article]:
    articles = published_articles()
    if category_slug:
        articles = articles.filter(category__slug=category_slug.replace("\x00", ""))  # PostgreSQL refuses NUL
    return articles


def article_list(*, category_slug: str = "") -> QuerySet[Article]:
    """Published articles (of one category, by slug, when given) in reading order."""
    return _published_in(category_slug).order_by("category__position", "position", "title")


def article_search(*, query: str, category_slug: str = "", limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Published articles (of one category, by slug, when given) matching ``query``, best
    first, each with a highlighted snippet. An empty query finds nothing."""
    query = _clean_query(query)
    if not query:
        return []
    articles = _published_in(category_slug)
    if connection.vendor == "postgresql":
        return _search_postgres(articles, query, limit)
    return _search_fallback(articles, query, limit)


def _search_postgres(articles: QuerySet[Article], query: str, limit: int) -> list[SearchHit]:
    from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank

    ts_query = SearchQuery(query, search_type="websearch", config="english")
    rows = (
        articles.filter(search_vector=ts_query)
        .annotate(
            rank=SearchRank(F("search_vector"), ts_query),
            snippet=SearchHeadline(
                "body",
                ts_query,
                config="english",
                start_sel=_START_SEL,
                stop_sel=_STOP_SEL,
                max_words=SNIPPET_WORDS,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .order_by("-rank", "position", "title")[:limit]
    )
    hits = []
    for article in rows:
        snippet = _plain(article.snippet)  # type: ignore[attr-defined]
        hits.append(SearchHit(article=article, snippet_html=_marked(snippet), rank=float(article.rank)))  # type: ignore[attr-defined]
    return hits


def _search_fallback(articles: QuerySet[Article], query: str, limit: int) -> list[SearchHit]:
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1][:8]
    if not words:
        return []
    matches = articles
    for word in words:
        matches = matches.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word)
        )
    hits = []
    for article in matches[:200]:
        title = article.title.lower()
        summary = article.summary.lower()
        rank = sum(3 if w in title else 2 if w in summary else 1 for w in words) / (3 * len(words))
        hits.append(
            SearchHit(article=article, snippet_html=_fallback_snippet(article.body, words), rank=rank)
        )
    hits.sort(key=lambda h: (-h.rank, h.article.position, h.article.title))
    return hits[:limit]


def _fallback_snippet(body: str, words: list[str]) -> str:
    text = _plain(body)
    lowered = text.lower()
    first = min((i for i in (lowered.find(w) for w in words) if i >= 0), default=0)
    start = max(0, first - 80)
    piece = text[start : start + 240]
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    marked = pattern.sub(lambda m: f"{_START_SEL}{m.group(0)}{_STOP_SEL}", piece)
    return ("…" if start else "") + _marked(marked) + ("…" if start + 240 < len(text) else "")


def help_topic_url(topic: str) -> str:
    """The page of the article that explains ``topic`` (a key of ``HELP_TOPICS`` or a slug)."""
    slug = HELP_TOPICS.get(topic, topic)
    return reverse("community:help_article", kwargs={"slug": slug})


def article_set_published(*, actor: User, article_id: int, published: bool) -> Article:
    """Publish or unpublish an article (staff). Locks the article row."""
    return published_set(
        actor=actor,
        model=Article,
        object_id=article_id,
        published=published,
        noun="help article",
        not_found_code="help_article_not_found",
        also_save=("updated_at",),
    )
