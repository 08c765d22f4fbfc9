"""The help center's seeded articles: one Markdown file per article in this folder, with a
small front matter block (``title``, ``category``, ``summary``, ``position``), and the
categories below.

``sync_help_content`` writes them into the database by slug (the file name): it creates
what is missing and updates what exists, keeping the "was this helpful?" counts. It takes
the model classes as arguments so that the data migration (historical models) and the
``seed_help_center`` command (real models) share it. Bodies may use ``{{ token }}``
placeholders for the marketplace's configured numbers (``community.help.settings_tokens``);
they are filled in when the articles are loaded, so the stored Markdown, the search index and
the page all carry the figures configured at that time (run the command again after changing
a fee or a delay in settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CategorySource:
    slug: str
    name: str
    description: str
    audience: str  # "freelancers", "clients" or "" (everyone)


@dataclass(frozen=True)
class ArticleSource:
    slug: str
    category: str
    title: str
    summary: str
    position: int
    body: str


CATEGORIES = [
    CategorySource(
        "getting-started",
        "Getting started",
        "New here? Start with these guides for freelancers and clients.",
        "",
    ),
    CategorySource(
        "finding-work",
        "Finding work",
        "Connects, proposals and selling services in the catalog.",
        "freelancers",
    ),
    CategorySource(
        "contracts",
        "Contracts and hiring",
        "Offers, fixed-price milestones, hourly contracts and the work diary.",
        "",
    ),
    CategorySource(
        "payments",
        "Payments and fees",
        "Fees, escrow and the security hold, weekly billing and withdrawals.",
        "",
    ),
    CategorySource(
        "trust-safety",
        "Trust and safety",
        "Feedback, the Job Success Score, disputes and avoiding scams.",
        "",
    ),
]


class HelpContentError(ValueError):
    pass


def _parse(path: Path) -> ArticleSource:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise HelpContentError(f"{path.name}: missing front matter")
    header, separator, body = text[4:].partition("\n---\n")
    if not separator:
        raise HelpContentError(f"{path.name}: unterminated front matter")
    meta: dict[str, str] = {}
    for line in header.splitlines():
        key, colon, value = line.partition(":")
        if colon:
            meta[key.strip()] = value.strip()
    try:
        return ArticleSource(
            slug=path.stem,
            category=meta["category"],
            title=meta["title"],
            summary=meta["summary"],
            position=int(meta.get("position", "0")),
            body=body.strip() + "\n",
        )
    except (KeyError, ValueError) as error:
        raise HelpContentError(f"{path.name}: bad front matter ({error})") from error


def load_articles() -> list[ArticleSource]:
    """Every article file of this folder, by category order, position and slug."""
    order = {category.slug: index for index, category in enumerate(CATEGORIES)}
    articles = [_parse(path) for path in sorted(FOLDER.glob("*.md"))]
    for article in articles:
        if article.category not in order:
            raise HelpContentError(f"{article.slug}: unknown category {article.category!r}")
    return sorted(articles, key=lambda a: (order[a.category], a.position, a.slug))


def sync_help_content(category_model: Any, article_model: Any) -> dict[str, int]:
    """Create or update the seeded categories and articles by slug (published), render their
    bodies and refresh their search vectors. Idempotent. Returns counts."""
    from community.help import fill_tokens, refresh_search_vectors, render_article_body

    categories: dict[str, Any] = {}
    created = updated = 0
    for position, source in enumerate(CATEGORIES):
        category, _ = category_model.objects.update_or_create(
            slug=source.slug,
            defaults={
                "name": source.name,
                "description": source.description,
                "audience": source.audience,
                "position": position,
            },
        )
        categories[source.slug] = category
    ids = []
    for article in load_articles():
        body = fill_tokens(article.body)  # the figures as configured now, searchable as written
        saved, was_created = article_model.objects.update_or_create(
            slug=article.slug,
            defaults={
                "category": categories[article.category],
                "title": article.title,
                "summary": article.summary,
                "body": body,
                "body_html": render_article_body(body),
                "position": article.position,
                "is_published": True,
            },
        )
        ids.append(saved.pk)
        created += int(was_created)
        updated += int(not was_created)
    refresh_search_vectors(article_model, ids)
    return {"categories": len(categories), "created": created, "updated": updated}
