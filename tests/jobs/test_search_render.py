"""The search page's results rendered in Python (``jobs.views.search.render_search_body``,
``render_results``, ``render_page_list``) are the templates' markup byte for byte, over
every branch of ``_search_body.html``, ``_results.html`` and ``_page.html``."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.urls import set_script_prefix
from django.utils.safestring import mark_safe

from jobs.views.search import (
    ID_MARK,
    PAGE_TEMPLATE,
    login_invitation,
    render_page_list,
    render_search_body,
    save_buttons,
    save_search_form,
)

ODD = "<b>\"Django\" & 'React'</b>"
CHIPS = [
    {"label": f"“{ODD}”", "query": "experience_level=expert&budget_type=fixed"},
    {"label": "Expert", "query": f"q={ODD}&budget_type=fixed"},
]


def context(
    *,
    count=3,
    capped=False,
    query="",
    sort="newest",
    similar=False,
    jobs=True,
    cursor=False,
    chips=(),
    later=False,
    query_string="",
) -> dict:
    page = SimpleNamespace(
        count=count,
        count_capped=capped,
        query=query,
        sort=sort,
        is_similar=similar,
        jobs=["a card"] if jobs else [],
        next_cursor="c2V&<x>" if cursor else None,
    )
    return {
        "search_url": "/jobs/search/",
        "page": page,
        "cards_html": mark_safe('<article class="card">A & B</article>\n'),
        "filters_html": mark_safe('<form id="filters">"q" & more</form>'),
        "query_string": query_string,
        "next_query": f"{query_string}&cursor=c2V" if query_string else "cursor=c2V",
        "is_later_page": later,
        "chips": list(chips),
    }


CASES = list(
    itertools.product(
        [0, 1, 20, 12345],  # count: empty, singular, plural, thousands
        [False, True],  # capped
        ["", ODD],  # query
        ["relevance", "newest"],  # sort
        [False, True],  # similar
        [False, True],  # jobs on the page
        [False, True],  # a next cursor
        [[], CHIPS[:1], CHIPS],  # chips
        [False, True],  # a later page
        ["", f"q={ODD}&sort=newest"],  # the query string
    )
)


def test_every_branch_is_the_templates_markup():
    for count, capped, query, sort, similar, jobs, cursor, chips, later, query_string in CASES:
        ctx = context(
            count=count,
            capped=capped,
            query=query,
            sort=sort,
            similar=similar,
            jobs=jobs,
            cursor=cursor,
            chips=chips,
            later=later,
            query_string=query_string,
        )
        assert render_search_body(ctx) == render_to_string(PAGE_TEMPLATE, ctx)
        assert render_page_list(ctx) == render_to_string("jobs/search/_page.html", ctx)


@pytest.mark.parametrize(
    "count,text", [(0, "0</strong> jobs"), (1, "1</strong> job found"), (12345, "12,345")]
)
def test_counts_read_as_the_template_writes_them(count, text):
    assert text in render_search_body(context(count=count))


def test_values_are_escaped():
    html = render_search_body(
        context(capped=True, query=ODD, sort="relevance", similar=True, cursor=True, chips=CHIPS, later=True)
    )
    assert "<b>" not in html.replace('<form id="filters">', "")
    assert "&lt;b&gt;&quot;Django&quot; &amp; &#x27;React&#x27;&lt;/b&gt;" in html
    assert '"q" & more' in html and "A & B" in html  # the safe fragments as they are


# --- the visitor's log-in invitation --------------------------------------------------------------


class _Request:
    def __init__(self, path: str) -> None:
        self.path = path

    def get_full_path(self) -> str:
        return self.path


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/search/",
        "/jobs/search/?q=django&sort=newest",
        '/jobs/search/?q=<b>"caf\u00e9"</b> & co&skills=1&skills=2',
        "/jobs/search/?q=a%20b+c&location=US#frag",
        "/jobs/search/?q=JOBSSEARCHNEXTPATH",
    ],
)
def test_the_login_invitation_is_the_templates(path):
    def template() -> str:
        return render_to_string(
            "jobs/search/_save_search.html", {"user": AnonymousUser(), "request": _Request(path)}
        )

    assert login_invitation(path) == template()
    set_script_prefix("/market/")
    try:
        assert login_invitation(path) == template()
        assert 'href="/market/accounts/login/?next=' in login_invitation(path)
    finally:
        set_script_prefix("/")


# --- the signed-in viewer's parts ---------------------------------------------------------------


TOKEN = "aB3" * 21 + "z"


@pytest.mark.parametrize(
    ("query_string", "query"),
    [
        ("", ""),
        ("q=django&sort=newest", "django"),
        ('q=%3Cb%3E&x="1"&y=<i>', '<b>"caf\u00e9"</b> & co'),
        ("q=JOBSSEARCHNAME", "JOBSSEARCHQUERYSTRING JOBSSEARCHCSRFTOKEN"),
    ],
)
def test_the_save_search_form_is_the_templates(query_string, query):
    def template() -> str:
        context = {
            "user": SimpleNamespace(is_authenticated=True),
            "csrf_token": TOKEN,
            "query_string": query_string,
            "query": query,
        }
        return render_to_string("jobs/search/_save_search.html", context)

    assert save_search_form(TOKEN, query_string, query) == template()
    set_script_prefix("/market/")
    try:
        assert save_search_form(TOKEN, query_string, query) == template()
        assert 'action="/market/jobs/searches/"' in save_search_form(TOKEN, query_string, query)
    finally:
        set_script_prefix("/")


def test_the_save_buttons_are_the_templates():
    for state in (False, True):
        expected = render_to_string(
            "jobs/partials/save_button.html",
            {"csrf_token": TOKEN, "job": {"public_id": "~abc"}, "saved": state},
        )
        assert save_buttons(TOKEN)[state].replace(ID_MARK, "~abc") == expected
        assert TOKEN in expected and "/jobs/~abc/" in expected
    set_script_prefix("/market/")
    try:
        assert "/market/jobs/~abc/save/" in save_buttons(TOKEN)[False].replace(ID_MARK, "~abc")
    finally:
        set_script_prefix("/")
