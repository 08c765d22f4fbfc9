"""The staff dashboard: staff only, weekly figures that match the data, bounded queries."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts import staff_stats
from accounts.models import ContentFlag, FlagReason, IdentityVerification, User
from contracts import disputes
from contracts import services as contract_services
from contracts.models import Contract, Dispute
from jobs.models import Job
from payments.models import AccountKind, Charge, Posting
from tests import factories
from tests.contracts.conftest import Hire, save_card
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

URL = "/staff/"


@pytest.fixture(autouse=True)
def _clean(settings, tmp_path):
    from payments.gateways import local

    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    cache.clear()
    yield
    local.reset()
    cache.clear()


def seed() -> Hire:
    """A funded, disputed contract (one charge, client fee, one dispute), two extra jobs
    published three weeks ago, and sign-ups spread over several weeks."""
    hire = Hire()
    contract = hire.contract()
    save_card(hire.client)
    first = contract.milestones.order_by("pk").first()
    contract_services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[first.pk])
    disputes.dispute_open(
        actor=hire.client,
        milestone_id=first.pk,
        reason="quality",
        statement="The pages do not match the design we agreed.",
    )
    three_weeks_ago = timezone.now() - timedelta(weeks=3)
    for job in (make_job(hire.client), make_job(hire.client)):
        Job.objects.filter(pk=job.pk).update(published_at=three_weeks_ago)
    early = factories.UserFactory()
    User.objects.filter(pk=early.pk).update(date_joined=timezone.now() - timedelta(weeks=5))
    ancient = factories.UserFactory()
    User.objects.filter(pk=ancient.pk).update(date_joined=timezone.now() - timedelta(weeks=30))
    return hire


def series(dashboard: staff_stats.StaffDashboard, key: str) -> staff_stats.WeeklySeries:
    return next(s for s in dashboard.series if s.key == key)


def week_of(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def test_week_starts_are_twelve_mondays_ending_this_week():
    now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # a Thursday
    weeks = staff_stats.week_starts(now)
    assert len(weeks) == 12
    assert weeks[-1] == datetime(2026, 11, 23).date()
    assert weeks[0] == datetime(2026, 9, 7).date()
    assert all(w.weekday() == 0 for w in weeks)


def test_figures_match_the_seeded_data():
    seed()
    dashboard = staff_stats.staff_dashboard()
    start = datetime.combine(staff_stats.week_starts()[0], datetime.min.time(), tzinfo=UTC)

    signups = series(dashboard, "signups")
    assert signups.total == User.objects.filter(date_joined__gte=start).count()
    assert signups.total == User.objects.count() - 1  # all but the account from 30 weeks ago
    expected = Counter(week_of(u.date_joined) for u in User.objects.filter(date_joined__gte=start))
    assert {b.week: b.value for b in signups.bars if b.value} == dict(expected)
    assert len(expected) == 2  # this week and five weeks ago

    jobs = series(dashboard, "jobs")
    assert jobs.total == 3
    by_week = {b.week: b.value for b in jobs.bars}
    assert by_week[week_of(timezone.now() - timedelta(weeks=3))] == 2
    assert by_week[week_of(Job.objects.order_by("-published_at").first().published_at)] == 1

    assert series(dashboard, "contracts").total == Contract.objects.count() == 1

    charged = Charge.objects.filter(status="succeeded").aggregate(total=Sum("amount_cents"))["total"]
    assert charged > 0
    assert series(dashboard, "gross").total == charged
    assert series(dashboard, "gross").bars[-1].value == charged
    assert series(dashboard, "gross").money

    fees = Posting.objects.filter(account__kind=AccountKind.PLATFORM_FEES).aggregate(
        total=Sum("amount_cents")
    )["total"]
    assert fees > 0
    assert series(dashboard, "fees").total == fees

    assert series(dashboard, "disputes").total == Dispute.objects.count() == 1
    assert dashboard.open_disputes == 1


def test_queue_counts(freelancer, client_user, staff):
    from accounts import trust
    from tests.accounts.test_identity import png_upload

    trust.identity_submit(
        actor=freelancer, document_type="passport", legal_name="Jane Doe", country="PL", upload=png_upload()
    )
    job = make_job(client_user)
    from django.contrib.contenttypes.models import ContentType

    ContentFlag.objects.create(
        content_type=ContentType.objects.get_for_model(Job),
        object_id=job.pk,
        reporter=freelancer,
        content_owner=client_user,
        reason=FlagReason.OFF_PLATFORM,
    )
    ContentFlag.objects.create(
        content_type=ContentType.objects.get_for_model(Job),
        object_id=job.pk,
        reporter=staff,
        content_owner=client_user,
        reason=FlagReason.OTHER,
        status=ContentFlag.Status.DISMISSED,
    )
    dashboard = staff_stats.staff_dashboard()
    assert dashboard.pending_identity == IdentityVerification.objects.count() == 1
    assert dashboard.open_reports == 1
    assert dashboard.pending_services == 0


def test_query_count_is_bounded(client, staff, django_assert_max_num_queries):
    seed()
    seed()
    with django_assert_max_num_queries(10):
        dashboard = staff_stats.staff_dashboard()
    assert series(dashboard, "contracts").total == 2
    client.force_login(staff)
    with django_assert_max_num_queries(30):
        response = client.get(URL)
    assert response.status_code == 200


def test_page_for_staff_shows_charts_signals_and_links(client, staff, settings):
    settings.FRAUD_SIGNUPS_PER_IP = 2
    suspects = [factories.UserFactory(signup_ip="203.0.113.9") for _ in range(2)]
    seed()
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("signups", "jobs", "contracts", "gross", "fees", "disputes"):
        assert f'data-testid="chart-{key}"' in html
    assert "<svg" in html
    assert "<script>" not in html and "onclick" not in html
    assert 'data-testid="signal-signups_per_ip"' in html
    for user in suspects:
        assert reverse("admin:accounts_user_change", args=[user.pk]) in html
    assert reverse("admin:index") in html


def test_empty_dashboard_renders(client, staff):
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Nothing in the last 12 weeks." in response.content
    assert b"No user reached" in response.content


def test_non_staff_are_refused(client, freelancer):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response["Location"]
    client.force_login(freelancer)
    assert client.get(URL).status_code == 403


def test_admin_links_to_the_dashboard(client, staff):
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("accounts:staff_dashboard").encode() in response.content
