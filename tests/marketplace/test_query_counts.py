"""Every list page costs a fixed number of SQL queries, whatever the amount of data.

For each list page (HTML and the main API list endpoints) the test builds ``N`` rows that
the page lists, counts the queries of one request, builds ``3 * N`` more and counts again:
the count must not grow (a query per row is an N+1), and it must stay under the page's
ceiling (a page that gains a query per widget is caught too). The rows are built through
the real services (leaf data such as help articles and events, which staff write in
admin, directly); each one carries a marker so the test also checks that the second
response lists more of them than the first (a page that stopped listing would pass the
count trivially).

Caches are emptied before each counted request, so the figures are the uncached path
(the search pages and the job API are cached for a minute per URL: see jobs/cache.py).
A first request before the counting fills what a process keeps for its lifetime (the
taxonomy of the search filters, the URL resolver).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from jobs import cache as jobs_cache
from tests import factories

pytestmark = pytest.mark.django_db

N = 3  # rows before the first count; 3 * N more before the second
_serial = count(1)


@dataclass
class Case:
    """One list page: who asks, at which URL, how to add rows it lists, and the text each
    added row shows (its marker)."""

    url: str
    viewer: User | None
    grow: Callable[[int], None]
    marker: str
    api: bool = False


@dataclass(frozen=True)
class ListPage:
    build: Callable[[], Case]
    # queries of one request: HTML with the session, the user and the navigation's badges;
    # the API authenticated without a session (force_authenticate)
    ceiling: int


PAGES: dict[str, ListPage] = {}


def list_page(name: str, *, ceiling: int) -> Callable[[Callable[[], Case]], Callable[[], Case]]:
    def register(build: Callable[[], Case]) -> Callable[[], Case]:
        PAGES[name] = ListPage(build=build, ceiling=ceiling)
        return build

    return register


def _png() -> bytes:
    from tests.conftest import image_bytes

    return image_bytes("PNG", size=(40, 30))


def _old_member() -> User:
    """A freelancer who joined months ago (new accounts' forum posts with links are held)."""
    user = factories.make_freelancer()
    user.date_joined = timezone.now() - timedelta(days=90)
    user.save(update_fields=["date_joined"])
    return user


def _apply(job, freelancer=None):
    """An invited freelancer's proposal (invited freelancers spend no Connects)."""
    from tests.contracts.conftest import invite, make_proposal

    freelancer = freelancer or factories.make_published_freelancer(first_name="Quincy")
    invite(job, freelancer)
    return make_proposal(job, freelancer)


# --- jobs ------------------------------------------------------------------------------------------


def _search_case(*, api: bool) -> Case:
    from tests.jobs.conftest import make_job

    freelancer = factories.make_published_freelancer()
    poster = factories.make_client()

    def grow(n: int) -> None:
        for _ in range(n):
            make_job(poster, title=f"Qcmarker booking site {next(_serial)}")

    url = reverse("api_jobs_search") if api else reverse("jobs:search")
    return Case(url=f"{url}?sort=newest", viewer=freelancer, grow=grow, marker="Qcmarker", api=api)


@list_page("job search", ceiling=10)
def _job_search() -> Case:
    return _search_case(api=False)


@list_page("job search API", ceiling=4)
def _job_search_api() -> Case:
    return _search_case(api=True)


def _my_jobs_case(*, api: bool) -> Case:
    from tests.jobs.conftest import make_job

    client = factories.make_client()

    def grow(n: int) -> None:
        for _ in range(n):
            job = make_job(client, title=f"Qcmarker booking site {next(_serial)}")
            _apply(job)

    url = reverse("api_jobs_mine") if api else reverse("jobs:mine")
    return Case(url=url, viewer=client, grow=grow, marker="Qcmarker", api=api)


@list_page("my jobs (client)", ceiling=11)
def _my_jobs() -> Case:
    return _my_jobs_case(api=False)


@list_page("my jobs API", ceiling=4)
def _my_jobs_api() -> Case:
    return _my_jobs_case(api=True)


def _saved_case(*, api: bool) -> Case:
    from jobs import services as job_services
    from tests.jobs.conftest import make_job

    freelancer = factories.make_published_freelancer()
    poster = factories.make_client()

    def grow(n: int) -> None:
        for _ in range(n):
            job = make_job(poster, title=f"Qcmarker booking site {next(_serial)}")
            job_services.job_save(actor=freelancer, job_id=job.pk)

    url = reverse("api_jobs_saved") if api else reverse("jobs:saved")
    return Case(url=url, viewer=freelancer, grow=grow, marker="Qcmarker", api=api)


@list_page("saved jobs", ceiling=11)
def _saved_jobs() -> Case:
    return _saved_case(api=False)


@list_page("saved jobs API", ceiling=4)
def _saved_jobs_api() -> Case:
    return _saved_case(api=True)


def _talent_case(*, api: bool) -> Case:
    client = factories.make_client()

    def grow(n: int) -> None:
        for _ in range(n):
            factories.make_published_freelancer(first_name="Qcmarker", last_name=f"Person{next(_serial)}")

    url = reverse("api_talent") if api else reverse("jobs:talent")
    return Case(url=url, viewer=client, grow=grow, marker="Qcmarker", api=api)


@list_page("talent search", ceiling=14)
def _talent() -> Case:
    return _talent_case(api=False)


@list_page("talent search API", ceiling=6)
def _talent_api() -> Case:
    return _talent_case(api=True)


def _services_case(*, api: bool) -> Case:
    from tests.jobs.catalog_helpers import make_listing

    staff = factories.make_staff()

    def grow(n: int) -> None:
        for _ in range(n):
            make_listing(staff=staff, title=f"I will build your Qcmarker site {next(_serial)}")

    url = reverse("api_services") if api else reverse("jobs:services")
    return Case(url=url, viewer=None, grow=grow, marker="Qcmarker", api=api)


@list_page("service catalog", ceiling=7)
def _services() -> Case:
    return _services_case(api=False)


@list_page("service catalog API", ceiling=5)
def _services_api() -> Case:
    return _services_case(api=True)


# --- proposals and contracts -----------------------------------------------------------------------


def _proposals_case(*, api: bool) -> Case:
    from tests.jobs.conftest import make_job

    client = factories.make_client()
    job = make_job(client)

    def grow(n: int) -> None:
        for _ in range(n):
            _apply(job, factories.make_published_freelancer(first_name="Qcmarker"))

    if api:
        url = reverse("api_job_proposals", kwargs={"public_id": job.public_id})
    else:
        url = reverse("proposals:job_proposals", kwargs={"public_id": job.public_id})
    return Case(url=url, viewer=client, grow=grow, marker="Qcmarker", api=api)


@list_page("proposals for a job (client)", ceiling=14)
def _job_proposals() -> Case:
    return _proposals_case(api=False)


@list_page("proposals for a job API", ceiling=12)
def _job_proposals_api() -> Case:
    return _proposals_case(api=True)


def _contracts_case(*, api: bool) -> Case:
    from contracts import services as contract_services
    from tests.contracts.conftest import offer_from_proposal
    from tests.jobs.conftest import make_job

    client = factories.make_client()
    freelancer = factories.make_published_freelancer()

    def grow(n: int) -> None:
        for _ in range(n):
            proposal = _apply(make_job(client), freelancer)
            offer = offer_from_proposal(proposal, title=f"Qcmarker contract {next(_serial)}")
            contract_services.offer_accept(actor=freelancer, offer_id=offer.pk)

    url = reverse("api_contracts") if api else reverse("contracts:list")
    return Case(url=url, viewer=freelancer, grow=grow, marker="Qcmarker", api=api)


@list_page("contracts list (freelancer)", ceiling=12)
def _contracts() -> Case:
    return _contracts_case(api=False)


@list_page("contracts list API", ceiling=4)
def _contracts_api() -> Case:
    return _contracts_case(api=True)


def _contract_page_case(*, api: bool) -> Case:
    """One contract whose history grows: milestones (each with its events), files, and
    messages in its conversation."""
    from contracts import services as contract_services
    from messaging import services as messaging_services
    from tests.contracts.conftest import Hire

    hire = Hire()
    contract = hire.contract()
    conversation = messaging_services.conversation_get_or_create_for_subject(
        subject=contract, participants=[hire.client, hire.freelancer], title=contract.title
    )

    def grow(n: int) -> None:
        for _ in range(n):
            serial = next(_serial)
            contract_services.milestone_add(
                actor=hire.client,
                contract_id=contract.pk,
                data=contract_services.MilestoneInput(
                    description=f"Qcmarker part {serial}", amount_cents=10_000
                ),
            )
            contract_services.contract_file_add(
                actor=hire.freelancer,
                contract_id=contract.pk,
                upload=SimpleUploadedFile(f"draft{serial}.png", _png(), content_type="image/png"),
            )
            messaging_services.message_send(
                actor=hire.freelancer,
                conversation_id=conversation.pk,
                body=f"Part {serial} is on its way",
                client_msg_id=f"qc-{serial}",
            )

    if api:
        url = reverse("api_contract_detail", kwargs={"contract_id": contract.pk})
    else:
        url = reverse("contracts:detail", kwargs={"contract_id": contract.pk})
    return Case(url=url, viewer=hire.client, grow=grow, marker="Qcmarker", api=api)


@list_page("contract page", ceiling=14)
def _contract_page() -> Case:
    return _contract_page_case(api=False)


@list_page("contract page API", ceiling=5)
def _contract_page_api() -> Case:
    return _contract_page_case(api=True)


def _my_proposals_case(*, api: bool) -> Case:
    from tests.jobs.conftest import make_job

    freelancer = factories.make_published_freelancer()
    client = factories.make_client()

    def grow(n: int) -> None:
        for _ in range(n):
            _apply(make_job(client, title=f"Qcmarker booking site {next(_serial)}"), freelancer)

    url = reverse("api_proposals") if api else reverse("proposals:mine")
    return Case(url=url, viewer=freelancer, grow=grow, marker="Qcmarker", api=api)


@list_page("my proposals (freelancer)", ceiling=13)
def _my_proposals() -> Case:
    return _my_proposals_case(api=False)


@list_page("my proposals API", ceiling=7)
def _my_proposals_api() -> Case:
    return _my_proposals_case(api=True)


def _offers_case(*, api: bool) -> Case:
    from tests.contracts.conftest import offer_from_proposal
    from tests.jobs.conftest import make_job

    freelancer = factories.make_published_freelancer()
    client = factories.make_client()

    def grow(n: int) -> None:
        for _ in range(n):
            offer_from_proposal(_apply(make_job(client), freelancer), title=f"Qcmarker offer {next(_serial)}")

    url = reverse("api_offers") if api else reverse("contracts:offer_list")
    return Case(url=url, viewer=freelancer, grow=grow, marker="Qcmarker", api=api)


@list_page("offers list (freelancer)", ceiling=11)
def _offers() -> Case:
    return _offers_case(api=False)


@list_page("offers list API", ceiling=4)
def _offers_api() -> Case:
    return _offers_case(api=True)


def _invitations_case(*, api: bool) -> Case:
    from tests.contracts.conftest import invite
    from tests.jobs.conftest import make_job

    freelancer = factories.make_published_freelancer()

    def grow(n: int) -> None:
        for _ in range(n):
            client = factories.make_client()
            invite(make_job(client, title=f"Qcmarker booking site {next(_serial)}"), freelancer)

    url = reverse("api_invitations") if api else reverse("jobs:invitations")
    return Case(url=url, viewer=freelancer, grow=grow, marker="Qcmarker", api=api)


@list_page("invitations (freelancer)", ceiling=10)
def _invitations() -> Case:
    return _invitations_case(api=False)


@list_page("invitations API", ceiling=3)
def _invitations_api() -> Case:
    return _invitations_case(api=True)


def _directory_case(*, api: bool) -> Case:
    client = factories.make_client()

    def grow(n: int) -> None:
        for _ in range(n):
            factories.make_published_freelancer(first_name="Qcmarker", last_name=f"Person{next(_serial)}")

    url = reverse("api_freelancer_list") if api else reverse("accounts:freelancer_list")
    return Case(url=url, viewer=client, grow=grow, marker="Qcmarker", api=api)


@list_page("freelancer directory", ceiling=11)
def _directory() -> Case:
    return _directory_case(api=False)


@list_page("freelancer directory API", ceiling=5)
def _directory_api() -> Case:
    return _directory_case(api=True)


# --- messaging -------------------------------------------------------------------------------------


def _notifications_case(*, api: bool) -> Case:
    from messaging import services as messaging_services

    freelancer = factories.make_freelancer()

    def grow(n: int) -> None:
        for _ in range(n):
            messaging_services.notify(
                recipient=freelancer, kind="message", text=f"Qcmarker note {next(_serial)}", url="/messages/"
            )

    url = reverse("api_notifications") if api else reverse("messaging:notifications")
    return Case(url=url, viewer=freelancer, grow=grow, marker="Qcmarker", api=api)


@list_page("notifications", ceiling=11)
def _notifications() -> Case:
    return _notifications_case(api=False)


@list_page("notifications API", ceiling=3)
def _notifications_api() -> Case:
    return _notifications_case(api=True)


def _inbox_case(*, api: bool) -> Case:
    from messaging import services as messaging_services

    freelancer = factories.make_freelancer()

    def grow(n: int) -> None:
        for _ in range(n):
            serial = next(_serial)
            other = factories.make_client(first_name="Qcmarker")
            conversation = messaging_services.conversation_get_or_create_for_subject(
                participants=[other, freelancer], title=f"Qcmarker talk {serial}"
            )
            messaging_services.message_send(
                actor=other, conversation_id=conversation.pk, body="Hello there", client_msg_id=f"qc-{serial}"
            )

    url = reverse("api_conversations") if api else reverse("messaging:inbox")
    return Case(url=url, viewer=freelancer, grow=grow, marker="Qcmarker", api=api)


@list_page("conversations (inbox)", ceiling=10)
def _inbox() -> Case:
    return _inbox_case(api=False)


@list_page("conversations API", ceiling=4)
def _inbox_api() -> Case:
    return _inbox_case(api=True)


# --- community -------------------------------------------------------------------------------------


def _forum_case(*, api: bool) -> Case:
    from community import forums
    from community.forum_seeding import ensure_boards
    from community.models import Board

    ensure_boards()
    board = Board.objects.filter(staff_only_threads=False).order_by("position", "pk").first()
    assert board is not None
    reader = _old_member()

    def grow(n: int) -> None:
        for _ in range(n):
            author, answerer = _old_member(), _old_member()
            thread = forums.thread_create(
                actor=author,
                board_id=board.pk,
                title=f"Qcmarker: how do you price fixed jobs {next(_serial)}?",
                body="Per milestone or for the whole job? " * 3,
            )
            forums.reply_create(actor=answerer, thread_id=thread.pk, body="Per milestone, always. " * 2)

    if api:
        url = f"{reverse('api_forum_threads')}?board={board.slug}"
    else:
        url = reverse("community:board", kwargs={"slug": board.slug})
    return Case(url=url, viewer=reader, grow=grow, marker="Qcmarker", api=api)


@list_page("forum thread list", ceiling=11)
def _forum() -> Case:
    return _forum_case(api=False)


@list_page("forum thread list API", ceiling=5)
def _forum_api() -> Case:
    return _forum_case(api=True)


def _help_case(*, api: bool) -> Case:
    from community import help as help_center
    from community.models import Article, HelpCategory

    category = HelpCategory.objects.create(name="Qc category", slug="qc-category", position=99)

    def grow(n: int) -> None:
        for _ in range(n):
            serial = next(_serial)
            help_center.article_save(
                actor=None,
                article=Article(
                    category=category,
                    title=f"Qcmarker article {serial}",
                    slug=f"qc-article-{serial}",
                    summary="How money reaches you.",
                    body="Escrow first, then the release.",
                    is_published=True,
                ),
            )

    if api:
        url = f"{reverse('api_help_articles')}?category={category.slug}"
    else:
        url = reverse("community:help_category", kwargs={"slug": category.slug})
    return Case(url=url, viewer=None, grow=grow, marker="Qcmarker", api=api)


@list_page("help article list", ceiling=6)
def _help() -> Case:
    return _help_case(api=False)


@list_page("help article list API", ceiling=3)
def _help_api() -> Case:
    return _help_case(api=True)


def _events_case(*, api: bool) -> Case:
    from community import events
    from community.models import Event

    staff = factories.make_staff()
    member = factories.make_freelancer()

    def grow(n: int) -> None:
        for _ in range(n):
            serial = next(_serial)
            event = Event.objects.create(
                slug=f"qc-office-hours-{serial}",
                title=f"Qcmarker office hours {serial}",
                description="Questions about contracts.",
                speaker_name="Sam Staff",
                starts_at=timezone.now() + timedelta(days=3, hours=serial),
                capacity=50,
                join_url="https://meet.example.com/qc",
                is_published=True,
                created_by=staff,
            )
            if serial % 2:
                events.event_register(actor=member, event_id=event.pk)

    url = reverse("api_events") if api else reverse("community:event_list")
    return Case(url=url, viewer=member, grow=grow, marker="Qcmarker", api=api)


@list_page("events list", ceiling=12)
def _events() -> Case:
    return _events_case(api=False)


@list_page("events list API", ceiling=4)
def _events_api() -> Case:
    return _events_case(api=True)


# --- the test --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _quiet(settings):
    """No limits on posting in the forum during the set-up; every request a cache miss."""
    settings.COMMUNITY_POST_RATE = 1000
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()
    cache.clear()
    jobs_cache.local.clear()


def _browser(case: Case) -> Client | APIClient:
    if case.api:
        api = APIClient()
        if case.viewer is not None:
            api.force_authenticate(case.viewer)
        return api
    browser = Client()
    if case.viewer is not None:
        browser.force_login(case.viewer)
    return browser


def _measure(browser: Client | APIClient, url: str, marker: str) -> tuple[int, int, list[str]]:
    """(queries, markers shown, the SQL) of one uncached request."""
    cache.clear()
    jobs_cache.local.clear()
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    shown = response.content.decode().count(marker)
    return len(queries), shown, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_list_page_costs_the_same_queries_for_more_rows(name):
    page = PAGES[name]
    case = page.build()
    case.grow(N)
    browser = _browser(case)
    browser.get(case.url)  # what the process keeps for its lifetime (the taxonomy, the resolver)

    few, few_shown, few_sql = _measure(browser, case.url, case.marker)
    case.grow(3 * N)
    many, many_shown, many_sql = _measure(browser, case.url, case.marker)

    assert many_shown > few_shown > 0, f"{name}: the page lists {few_shown}, then {many_shown} rows"
    extra = "\n".join(many_sql[len(few_sql) :]) if many > few else ""
    assert many == few, f"{name}: {few} queries with {N} rows, {many} with {4 * N}\n{extra}"
    assert many <= page.ceiling, f"{name}: {many} queries, more than its ceiling of {page.ceiling}"
