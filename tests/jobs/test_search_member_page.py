"""The search page for a signed-in viewer is base.html rendered once per process and kind of
viewer around stand-ins (jobs.views.search.member_page): it must be, byte for byte, what
rendering jobs/search/search.html gives, for every kind of viewer and odd values, and leave
to that rendering the cases it does not cover (a suspension banner, messages waiting)."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.middleware.csrf import _does_token_match
from django.shortcuts import render
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from jobs.views import search as search_views
from messaging import services as messaging_services
from proposals.models import ConnectsWallet
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

BODY = '<div id="search-body"><p>results &amp; more</p></div>'
# the three places a token goes in base.html and search.html: the htmx header, two forms
TOKEN = re.compile(
    r'(?<="X-CSRFToken": ")[A-Za-z0-9]{64}|(?<=name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{64}'
)


def _request(user):
    request = RequestFactory().get("/jobs/search/?q=x")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _tokens_out(request, html: str) -> str:
    """The page with each CSRF token checked against the request's secret and taken out
    (two renderings mask the same secret differently)."""
    secret = request.META["CSRF_COOKIE"]
    tokens = TOKEN.findall(html)
    assert tokens, "no CSRF token on the page"
    assert all(_does_token_match(token, secret) for token in tokens)
    return TOKEN.sub("TOKEN", html)


def _both(user, query: str = "") -> tuple[str, str]:
    request = _request(user)
    framed = search_views.member_page(request, BODY, query)
    assert framed is not None
    rendered = render(request, "jobs/search/search.html", {"body": mark_safe(BODY), "query": query})
    return _tokens_out(request, framed.content.decode()), _tokens_out(request, rendered.content.decode())


def _unread_for(user, other, count: int) -> None:
    conversation = messaging_services.conversation_get_or_create_for_subject(participants=[other, user])
    for n in range(count):
        messaging_services.message_post_system(conversation=conversation, text=f"message {n}")


@pytest.fixture(autouse=True)
def _fresh_frames():
    search_views._member_frame.cache_clear()
    yield
    search_views._member_frame.cache_clear()


def test_a_freelancer_without_figures_gets_the_rendered_page():
    user = factories.make_freelancer(first_name="Ann", last_name="Lee")
    framed, rendered = _both(user)
    assert framed == rendered
    assert "Ann L." in framed and "Switch to hiring" in framed
    assert 'id="nav-messages-count"' in framed and "d-none" in framed


def test_badges_connects_and_odd_names_are_put_in_as_the_template_would():
    client = factories.make_client()
    user = factories.make_freelancer(first_name='<b>O"Neil & JOBSNAVMESSAGES', last_name="Z")
    ConnectsWallet.objects.create(user=user, balance=0)
    _unread_for(user, client, 3)
    messaging_services.notify(recipient=user, kind="offer", text="An offer")
    framed, rendered = _both(user, query="<script>JOBSNAVCONNECTS JOBSSEARCHNAME</script>")
    assert framed == rendered
    # the name is escaped once and a stand-in typed into it stays as typed
    assert "&lt;b&gt;O&quot;Neil &amp; JOBSNAVMESSAGES Z." in framed
    assert "&lt;script&gt;JOBSNAVCONNECTS JOBSSEARCHNAME&lt;/script&gt; · Find work" in framed
    assert (
        'data-testid="nav-connects"><i class="bi bi-lightning-charge" aria-hidden="true"></i> 0 Connects'
        in framed
    )


def test_each_kind_of_viewer_gets_its_own_frame_and_figures():
    """One frame is reused for viewers of a kind with other figures and names; each kind
    (role, staff, badges shown, balance) has its own."""
    client = factories.make_client(first_name="Cleo")
    staff = factories.make_staff(first_name="Stan")
    rich, poor = factories.make_freelancer(first_name="Rich"), factories.make_freelancer(first_name="Poor")
    ConnectsWallet.objects.create(user=rich, balance=140)
    ConnectsWallet.objects.create(user=poor, balance=3)
    _unread_for(rich, client, 2)
    _unread_for(poor, client, 11)
    _unread_for(client, staff, 1)
    messaging_services.notify(recipient=staff, kind="offer", text="x")
    pages = {}
    for user in (client, staff, rich, poor, client):
        framed, rendered = _both(user, query="python")
        assert framed == rendered, user
        pages[user.pk] = framed
    assert "140 Connects" in pages[rich.pk] and "3 Connects" in pages[poor.pk]
    assert '<span data-role="count">11</span>' in pages[poor.pk]
    assert "Connects" not in pages[client.pk].split("<main")[0]
    assert "Staff admin" in pages[staff.pk] and "Staff admin" not in pages[rich.pk]
    assert "Switch to freelancing" in pages[client.pk]
    # rich and poor are one kind of viewer (freelancer, badge shown, a balance): one frame
    assert search_views._member_frame.cache_info().currsize == 3


def test_a_suspended_account_and_waiting_messages_are_left_to_the_template():
    suspended = factories.make_freelancer(suspended_at=timezone.now())
    assert search_views.member_page(_request(suspended), BODY, "") is None

    user = factories.make_freelancer()
    request = _request(user)
    messages.success(request, "Search saved.")
    assert search_views.member_page(request, BODY, "") is None
    # nothing was taken from the waiting messages: the template shows them
    rendered = render(request, "jobs/search/search.html", {"body": mark_safe(BODY), "query": ""})
    assert "Search saved." in rendered.content.decode()


def test_a_visitor_is_left_to_the_template():
    from django.contrib.auth.models import AnonymousUser

    assert search_views.member_page(_request(AnonymousUser()), BODY, "") is None


def test_the_search_page_over_http_for_a_member(client):
    other = factories.make_client()
    user = factories.make_freelancer(first_name="Maya", last_name="Ng")
    ConnectsWallet.objects.create(user=user, balance=12)
    _unread_for(user, other, 2)
    make_job(title="Design a logo for a bakery")
    client.force_login(user)
    response = client.get(reverse("jobs:search"), {"q": "logo"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Maya N." in page and "12 Connects" in page and "logo · Find work" in page
    assert '<span data-role="count">2</span>' in page
    assert response.cookies["csrftoken"].value  # a token was given, as the template does
    # the next page for a viewer of this kind renders no base.html: the frame is reused
    again = client.get(reverse("jobs:search"), {"q": "bakery"})
    assert "bakery · Find work" in again.content.decode()
    assert "base.html" not in [t.name for t in again.templates]
    # a message after an action still shows on the next page (left to the template)
    saved = client.post(reverse("jobs:saved_search_create"), {"query_string": "q=logo", "name": "Logos"})
    assert saved.status_code == 302
    assert "Logos" in client.get(saved["Location"]).content.decode()


def test_a_frame_follows_the_settings_it_shows(settings):
    """The site's name, the fee and the static files' address are in the frame: changing
    one (a test's override, a deploy) gives a new frame, not the old text."""
    user = factories.make_freelancer()
    first, _ = _both(user)
    settings.STATIC_URL = "/assets-v2/"
    framed, rendered = _both(user)
    assert framed == rendered and "/assets-v2/" in framed and "/assets-v2/" not in first
    settings.SITE_NAME = "Elsewhere"
    framed, rendered = _both(user)
    assert framed == rendered and "Elsewhere" in framed


def test_navigation_and_saved_flags_agree_with_their_own_selectors():
    """``selectors.navigation_and_saved`` (one query on PostgreSQL) gives what the two
    selectors it stands for give: the figures, and which of the jobs this user saved."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs import selectors
    from jobs import services as job_services
    from marketplace.navigation import navigation_figures

    other = factories.make_client()
    user = factories.make_freelancer()
    someone = factories.make_freelancer()
    ConnectsWallet.objects.create(user=user, balance=7)
    _unread_for(user, other, 2)
    jobs = [make_job(other, title=f"Bakery website number {n}") for n in range(4)]
    job_services.job_save(actor=user, job_id=jobs[0].pk)
    job_services.job_save(actor=user, job_id=jobs[2].pk)
    job_services.job_save(actor=someone, job_id=jobs[1].pk)  # another user's save counts not
    ids = [job.pk for job in jobs]

    with CaptureQueriesContext(connection) as queries:
        figures, saved = selectors.navigation_and_saved(user=user, job_ids=ids)

    assert saved == {jobs[0].pk, jobs[2].pk} == selectors.saved_job_ids(user=user, job_ids=ids)
    assert figures == navigation_figures(user=user)
    assert (figures.messages, figures.connects) == (2, 7)
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    # none saved among the jobs asked about, and no jobs at all
    assert selectors.navigation_and_saved(user=user, job_ids=[jobs[1].pk, jobs[3].pk])[1] == set()
    assert selectors.navigation_and_saved(user=user, job_ids=[]) == (figures, set())


def test_a_cached_search_page_reads_the_saved_flags_with_the_navigation(client):
    """A signed-in viewer's search page served from the cache shows their saved flags and
    badges as the uncached one did; on PostgreSQL both come from one query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs import services as job_services

    other = factories.make_client()
    user = factories.make_freelancer()
    _unread_for(user, other, 3)
    saved_job = make_job(other, title="Logo for a bakery")
    make_job(other, title="Logo for a florist")
    job_services.job_save(actor=user, job_id=saved_job.pk)
    client.force_login(user)
    url = reverse("jobs:search")

    first = client.get(url, {"q": "logo"}).content.decode()  # computed (and kept)
    client.get(url, {"q": "logo"})  # kept from its second computation
    with CaptureQueriesContext(connection) as queries:
        cached = client.get(url, {"q": "logo"}).content.decode()

    saved_queries = [q["sql"] for q in queries if "jobs_savedjob" in q["sql"]]
    assert len(saved_queries) == 1
    together = "messaging_participant" in saved_queries[0]
    assert together == (connection.vendor == "postgresql")
    for page in (first, cached):
        assert page.count('action="/jobs/' + saved_job.public_id + '/unsave/"') == 1
        assert '<span data-role="count">3</span>' in page
