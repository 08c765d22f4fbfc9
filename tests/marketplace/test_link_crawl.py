"""Every link a page shows leads somewhere for the one who sees it, and every form it
shows answers odd input without a server error.

Each kind of visitor of the shared world (tests/marketplace/world.py) walks the site from
its start pages, following the links and htmx GETs of every page it gets, a few of each
URL pattern, and no followed link may answer 403, 404 or a server error. The access matrix
checks what each route answers each visitor; this checks the other side: that pages do not
offer a visitor a way they may not take (a "Report" link to a review's own author, a
contract link to staff, who read contracts in the admin, were found this way).

The forms the walk met (one of each action's URL pattern) are then sent, each in a
transaction rolled back afterwards, as shown and with every field empty, very long,
negative, huge, full of markup or holding a null character: none may end in a server error
("next=-1" on the job's close form once did, and a null character in the service
catalog's order forms).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from reviews import reputation
from tests.marketplace.world import World, rolled_back, world_in_rollback

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


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, type, value)
    shown_on: str = ""


class _Forms(HTMLParser):
    """The POST forms of a page: their action and the fields a browser would send."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: list[str] | None = None  # [name, first option's value]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            post = a.get("method", "").lower() == "post" or "hx-post" in a
            action = a.get("hx-post") or a.get("action") or self.page
            self._form = Form(action.replace("&amp;", "&"), shown_on=self.page) if post else None
        elif tag == "option" and self._select is not None and not self._select[1]:
            self._select[1] = a.get("value", "")  # a browser sends the first option
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if (kind in ("checkbox", "radio") and "checked" not in a) or kind == "file":
                return
            self._form.fields.append((a["name"], kind, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._form.fields.append((a["name"], "textarea", ""))
        elif tag == "select":
            self._select = [a["name"], ""]
        elif tag == "button" and a.get("value"):
            self._form.fields.append((a["name"], "button", a["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form.fields.append((self._select[0], "select", self._select[1]))
            self._select = None


@dataclass
class Walk:
    visited: int = 0
    broken: list[str] = field(default_factory=list)
    forms: dict[str, Form] = field(default_factory=dict)  # one per action's URL pattern


def crawl(client: Client, start: list[str]) -> Walk:
    """Walk from ``start``: the pages visited, the links that led to an error (with the page
    that showed them) and the POST forms met. Links into the admin are checked but the
    admin's own pages are not walked (Django's admin links to itself, hundreds of pages,
    and the walk would end there)."""
    seen: set[str] = set()
    queue: deque[tuple[str, str]] = deque((url, "(start)") for url in start)
    per_pattern: Counter[str] = Counter()
    walk = Walk()
    while queue and walk.visited < PAGES:
        url, shown_on = queue.popleft()
        if url in seen or any(url.startswith(prefix) for prefix in NOT_FOLLOWED):
            continue
        seen.add(url)
        per_pattern[_pattern(url)] += 1
        if per_pattern[_pattern(url)] > PER_PATTERN:
            continue
        walk.visited += 1
        response = client.get(url, follow=True)
        if response.status_code >= 400 and shown_on != "(start)":
            walk.broken.append(f"{url} -> {response.status_code} (a link on {shown_on})")
        if response.status_code >= 500:
            walk.broken.append(f"{url} -> {response.status_code}")
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        if url.startswith("/admin/"):
            continue
        page = response.redirect_chain[-1][0] if response.redirect_chain else url
        body = response.content.decode()
        for link in LINK.findall(body):
            queue.append((link.replace("&amp;", "&"), page))
        parser = _Forms(page)
        parser.feed(body)
        for form in parser.forms:
            if form.action.startswith("/") and not any(form.action.startswith(p) for p in NOT_FOLLOWED):
                walk.forms.setdefault(_pattern(form.action), form)
    return walk


def start_pages(world: World) -> list[str]:
    # the world's people's public pages too: where reviews, scores and reports show
    public_id = world.freelancer.freelancer_profile.public_id
    return [
        *START,
        reverse("accounts:freelancer_detail", args=[public_id]),
        reverse("reviews:score", args=[public_id]),
    ]


def _client_of(who: str, world: World) -> Client:
    client = Client()
    user = world.actor(who)
    if user is not None:
        client.force_login(user)
    return client


VISITORS = ["anonymous", "owner_client", "owner_freelancer", "other_client", "other_freelancer", "staff"]
# what each field is set to, by variant: as the page shows it, then odd values (a hidden
# field keeps its value in the variants a browser could not produce from the page alone
# but for empty, negative and huge, which a tampered form sends)
ODD: list[Callable[[str, str], str]] = [
    lambda kind, value: value,
    lambda kind, value: "",
    lambda kind, value: "-1",
    lambda kind, value: value if kind == "hidden" else "<b>'\"&</b>" * 500,  # long, with markup
    lambda kind, value: "99999999999999999999",
    lambda kind, value: f"{value}\x00",  # a null character, which PostgreSQL cannot store
]


@pytest.mark.parametrize("who", VISITORS)
def test_every_link_leads_somewhere_and_every_form_takes_odd_input(who: str, world: World) -> None:
    client = _client_of(who, world)
    walk = crawl(client, start_pages(world))
    assert walk.visited >= 20, f"the walk stopped early ({walk.visited} pages)"
    assert walk.broken == [], "\n".join(walk.broken)

    if who != "anonymous":
        assert len(walk.forms) >= 5, f"only {len(walk.forms)} forms met"
    failures = []
    for form in walk.forms.values():
        for variant, odd in enumerate(ODD):
            data = {name: odd(kind, value) for name, kind, value in form.fields}
            with rolled_back():
                response = client.post(form.action, data)
            if response.status_code >= 500:
                failures.append(
                    f"{form.action} (on {form.shown_on}), variant {variant}: {response.status_code}"
                )
        # sent twice as shown (a double click, or Back and send again): the second answers
        # what was done already, not a server error
        data = {name: value for name, _kind, value in form.fields}
        with rolled_back():
            client.post(form.action, data)
            response = client.post(form.action, data)
        if response.status_code >= 500:
            failures.append(f"{form.action} (on {form.shown_on}), sent twice: {response.status_code}")
    assert failures == [], "\n".join(failures)
