"""Every link a page shows leads somewhere for the one who sees it.

Each kind of visitor of the shared world (tests/marketplace/world.py) walks the site from
its start pages, following the links and htmx GETs of every page it gets, a few of each
URL pattern, and no followed link may answer 403, 404 or a server error. The access matrix
checks what each route answers each visitor; this checks the other side: that pages do not
offer a visitor a way they may not take (a "Report" link to a review's own author, a
contract link to staff, who read contracts in the admin, were found this way).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from reviews import reputation
from tests.marketplace.world import World, world_in_rollback

pytestmark = pytest.mark.django_db

LINK = re.compile(r"""(?:href|hx-get)="(/[^"#]*)""")
NOT_FOLLOWED = (
    "/static/",
    "/media/",
    "/api/schema/",
    "/api/docs/",
    "/accounts/logout/",
    "/role/",  # switches the role (a POST form's action; a link would only show it)
)
PER_PATTERN = 3  # links of one URL pattern followed (the ids of a list's rows differ)
PAGES = 400  # at most, per visitor
START = ["/", "/dashboard/", "/jobs/search/", "/jobs/feed/", "/messages/", "/contracts/", "/notifications/"]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with world_in_rollback(django_db_blocker) as built:
        with django_db_blocker.unblock():
            # the freelancer's Job Success breakdown lists their contracts (staff read it too)
            reputation.refresh_for_user(user_id=built.freelancer.pk)
        yield built


def _pattern(url: str) -> str:
    path = url.split("?", 1)[0]
    return re.sub(r"~?[0-9a-f]{12,}|[0-9a-f-]{32,36}|\d+", "N", path)


def crawl(client: Client, start: list[str]) -> tuple[int, list[str]]:
    """Pages visited, and the links that led to an error (with the page that showed them).
    Links into the admin are checked but the admin's own pages are not walked (Django's
    admin links to itself, hundreds of pages, and the walk would end there)."""
    seen: set[str] = set()
    queue: deque[tuple[str, str]] = deque((url, "(start)") for url in start)
    per_pattern: Counter[str] = Counter()
    broken: list[str] = []
    visited = 0
    while queue and visited < PAGES:
        url, shown_on = queue.popleft()
        if url in seen or any(url.startswith(prefix) for prefix in NOT_FOLLOWED):
            continue
        seen.add(url)
        per_pattern[_pattern(url)] += 1
        if per_pattern[_pattern(url)] > PER_PATTERN:
            continue
        visited += 1
        response = client.get(url, follow=True)
        if response.status_code >= 400 and shown_on != "(start)":
            broken.append(f"{url} -> {response.status_code} (a link on {shown_on})")
        if response.status_code >= 500:
            broken.append(f"{url} -> {response.status_code}")
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        if url.startswith("/admin/"):
            continue
        page = response.redirect_chain[-1][0] if response.redirect_chain else url
        for link in LINK.findall(response.content.decode()):
            queue.append((link.replace("&amp;", "&"), page))
    return visited, broken


@pytest.mark.parametrize(
    "who", ["anonymous", "owner_client", "owner_freelancer", "other_client", "other_freelancer", "staff"]
)
def test_every_link_shown_leads_somewhere(who: str, world: World) -> None:
    client = Client()
    user = world.actor(who)
    if user is not None:
        client.force_login(user)
    # the world's people's public pages too: where reviews, scores and reports show
    public_id = world.freelancer.freelancer_profile.public_id
    people = [
        reverse("accounts:freelancer_detail", args=[public_id]),
        reverse("reviews:score", args=[public_id]),
    ]
    visited, broken = crawl(client, [*START, *people])
    assert visited >= 20, f"the walk stopped early ({visited} pages)"
    assert broken == [], "\n".join(broken)
