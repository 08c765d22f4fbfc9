"""Staff admin of jobs: changelists, search and filters, the read-only job page with its
history and flags, the "Remove selected jobs" action and flag review.

The admin login is wrapped by allauth's ``secure_admin_login``, so staff sign in with force_login.
"""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.urls import reverse

from accounts.models import ContentFlag, FlagReason
from jobs import services
from jobs.models import Invitation, Job, JobMatch, SavedSearch
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

JOBS = "/admin/jobs/job/"
FLAGS = "/admin/accounts/contentflag/"  # job reports live in the moderation queue


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    "path",
    [JOBS, FLAGS, "/admin/jobs/invitation/", "/admin/jobs/savedsearch/", "/admin/jobs/jobmatch/"],
)
def test_changelists_open(staff_client, path):
    assert staff_client.get(path).status_code == 200


def test_changelists_with_rows(staff_client, client_user, freelancer, published_freelancer):
    job = make_job(client_user)
    services.job_flag(actor=freelancer, job_id=job.pk, reason=FlagReason.SPAM, note="Ads everywhere")
    services.invitation_send(
        actor=client_user, job_id=job.pk, freelancer_id=published_freelancer.pk, message="Interested?"
    )
    services.saved_search_create(actor=freelancer, name="Django", query_string="q=django")
    JobMatch.objects.create(freelancer=published_freelancer.freelancer_profile, job=job, score=700)

    for path, model in [
        (JOBS, Job),
        (FLAGS, ContentFlag),
        ("/admin/jobs/invitation/", Invitation),
        ("/admin/jobs/savedsearch/", SavedSearch),
        ("/admin/jobs/jobmatch/", JobMatch),
    ]:
        response = staff_client.get(path)
        assert response.status_code == 200
        assert listed(response) == list(model.objects.all())
    flags = staff_client.get(FLAGS).content.decode()
    assert reverse("jobs:detail", kwargs={"public_id": job.public_id}) in flags
    assert "Ads everywhere" in flags


def test_the_job_page_is_read_only_with_history_and_flags(staff_client, client_user, freelancer):
    job = make_job(client_user)
    services.job_flag(actor=freelancer, job_id=job.pk, reason=FlagReason.SCAM, note="Wire transfer")

    response = staff_client.get(reverse("admin:jobs_job_change", args=[job.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Wire transfer" in body
    assert "Published" in body
    assert 'name="_save"' not in body  # nothing to save: jobs change through the services
    assert staff_client.get(reverse("admin:jobs_job_add")).status_code == 403


def test_search_by_title_public_id_and_client_email(staff_client, client_user):
    job = make_job(client_user)
    other = make_job(factories.make_client(), title="Write our company blog")

    for query in ("booking", job.public_id, client_user.email):
        assert listed(staff_client.get(JOBS, {"q": query})) == [job]
    assert listed(staff_client.get(JOBS, {"q": "blog"})) == [other]


def test_filters(staff_client, client_user):
    live = make_job(client_user)
    draft = make_job(
        client_user, publish=False, budget_type="hourly", hourly_min_cents=2000, hourly_max_cents=3000
    )

    assert listed(staff_client.get(JOBS, {"status__exact": "draft"})) == [draft]
    assert listed(staff_client.get(JOBS, {"budget_type__exact": "fixed"})) == [live]
    assert listed(staff_client.get(JOBS, {"visibility__exact": "invite_only"})) == []
    assert set(listed(staff_client.get(JOBS, {"category__id__exact": live.category_id}))) == {live, draft}


def test_remove_selected_jobs_calls_the_service(staff_client, staff, client_user, freelancer):
    live, draft = make_job(client_user), make_job(client_user, publish=False)
    closed = make_job(client_user)
    services.job_close(actor=client_user, job_id=closed.pk, reason=Job.CloseReason.HIRED)
    flag = services.job_flag(actor=freelancer, job_id=live.pk, reason=FlagReason.SCAM)

    response = staff_client.post(
        JOBS, {"action": "remove_selected", "_selected_action": [live.pk, draft.pk, closed.pk]}, follow=True
    )

    assert response.status_code == 200
    for job in (live, draft, closed):
        job.refresh_from_db()
    assert (live.status, draft.status, closed.status) == ("cancelled", "cancelled", "closed")
    assert live.close_reason == Job.CloseReason.REMOVED_BY_STAFF
    assert live.events.order_by("id").last().actor == staff
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_at is not None) == ("actioned", True)
    assert messages_of(response) == [
        "Removed 2 jobs.",
        "Not removed: “Build a Django booking site”: A closed job cannot become cancelled.",
    ]
    assert LogEntry.objects.filter(user=staff).count() == 2


def test_non_staff_cannot_open_the_admin(client, client_user):
    client.force_login(client_user)

    response = client.get(JOBS)

    assert response.status_code == 302


def test_flags_filter_and_dismiss(staff_client, client_user, freelancer):
    job = make_job(client_user)
    first = services.job_flag(actor=freelancer, job_id=job.pk, reason=FlagReason.SPAM)
    second = services.job_flag(actor=factories.make_freelancer(), job_id=job.pk, reason=FlagReason.OTHER)

    assert set(listed(staff_client.get(FLAGS, {"status__exact": "open"}))) == {first, second}
    response = staff_client.post(
        FLAGS,
        {"action": "dismiss_reports", "_selected_action": [first.pk], "apply": "1", "reason": "", "note": ""},
        follow=True,
    )

    assert messages_of(response) == ["Dismissed the reports: 1 piece of content."]
    # one action per piece of content: both reports of the job are closed
    assert listed(staff_client.get(FLAGS, {"status__exact": "open"})) == []
    assert set(listed(staff_client.get(FLAGS, {"status__exact": "dismissed"}))) == {first, second}
    job.refresh_from_db()
    assert job.status == Job.Status.OPEN  # dismissing reports changes no job
