"""Saved jobs and saved searches (HTML pages) and saved-search email alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jobs import services
from jobs.alerts import saved_search_alerts_send
from jobs.models import Job, SavedJob, SavedSearch
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- saved jobs -------------------------------------------------------------------------------------


def test_saved_pages_need_login(client, open_job):
    for name in ("jobs:saved", "jobs:saved_searches"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    response = client.post(reverse("jobs:save", args=[open_job.public_id]))
    assert response.status_code == 302
    assert SavedJob.objects.count() == 0


def test_save_job_redirects_back_with_a_message(client, freelancer, open_job):
    client.force_login(freelancer)
    search = reverse("jobs:search") + "?q=django"

    response = client.post(
        reverse("jobs:save", args=[open_job.public_id]), headers={"Referer": search}, follow=True
    )

    assert response.redirect_chain == [(search, 302)]
    assert messages_of(response) == [f"Saved “{open_job.title}”. Find it under Saved jobs."]
    assert SavedJob.objects.filter(user=freelancer, job=open_job).count() == 1


def test_save_job_with_htmx_returns_the_button_and_the_message(client, freelancer, open_job):
    client.force_login(freelancer)

    response = client.post(reverse("jobs:save", args=[open_job.public_id]), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("jobs:unsave", args=[open_job.public_id]) in html
    assert 'aria-pressed="true"' in html
    assert 'id="messages" aria-live="polite" hx-swap-oob="true"' in html
    assert f"Saved “{open_job.title}”" in html

    response = client.post(reverse("jobs:unsave", args=[open_job.public_id]), headers={"HX-Request": "true"})

    assert reverse("jobs:save", args=[open_job.public_id]) in response.content.decode()
    assert SavedJob.objects.count() == 0


def test_save_an_invisible_job_is_404(client, freelancer, draft_job):
    client.force_login(freelancer)

    assert client.post(reverse("jobs:save", args=[draft_job.public_id])).status_code == 404
    assert client.post(reverse("jobs:save", args=["~02missing"])).status_code == 404
    assert client.post(reverse("jobs:unsave", args=[draft_job.public_id])).status_code == 404


def test_save_requires_post(client, freelancer, open_job):
    client.force_login(freelancer)

    assert client.get(reverse("jobs:save", args=[open_job.public_id])).status_code == 405


def test_saved_jobs_page_marks_closed_jobs(client, freelancer, client_user):
    still_open = make_job(client_user, title="Django developer for a booking site")
    closed = make_job(client_user, title="Logo design for a bakery chain")
    services.job_save(actor=freelancer, job_id=still_open.pk)
    services.job_save(actor=freelancer, job_id=closed.pk)
    services.job_close(actor=client_user, job_id=closed.pk, reason=Job.CloseReason.HIRED_ELSEWHERE)
    client.force_login(freelancer)

    response = client.get(reverse("jobs:saved"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="unavailable-job"') == 1
    assert "No longer available" in html
    assert "Logo design for a bakery chain" in html
    assert f'href="{reverse("jobs:detail", args=[still_open.public_id])}"' in html
    assert f'href="{reverse("jobs:detail", args=[closed.public_id])}"' not in html
    assert html.count('aria-pressed="true"') == 2


def test_saved_jobs_page_empty_state(client, freelancer):
    client.force_login(freelancer)

    response = client.get(reverse("jobs:saved"))

    assert 'data-testid="empty-saved-jobs"' in response.content.decode()


# --- saved searches ---------------------------------------------------------------------------------


def test_save_search_from_the_search_page(client, freelancer):
    client.force_login(freelancer)

    response = client.post(
        reverse("jobs:saved_search_create"),
        {"name": "", "notify": "on", "query_string": "sort=&q=django&budget_type=hourly"},
        follow=True,
    )

    search = SavedSearch.objects.get(user=freelancer)
    assert (search.name, search.query_string, search.notify) == (
        "django",
        "budget_type=hourly&q=django",
        True,
    )
    assert response.redirect_chain == [(reverse("jobs:search") + "?budget_type=hourly&q=django", 302)]
    assert messages_of(response) == ["Saved the search “django”. We will email you new jobs that match."]


def test_save_search_with_bad_parameters_shows_a_message(client, freelancer):
    client.force_login(freelancer)

    response = client.post(
        reverse("jobs:saved_search_create"), {"name": "Bad", "query_string": "hourly_min=-5"}, follow=True
    )

    assert SavedSearch.objects.count() == 0
    assert messages_of(response) == [
        "This search cannot be saved: Ensure this value is greater than or equal to 0."
    ]


def test_save_search_service_error_is_a_message(client, freelancer):
    for i in range(services.MAX_SAVED_SEARCHES):
        services.saved_search_create(actor=freelancer, name=f"S{i}", query_string=f"q=word{i}")
    client.force_login(freelancer)

    response = client.post(
        reverse("jobs:saved_search_create"), {"name": "One more", "query_string": "q=x"}, follow=True
    )

    assert messages_of(response) == [f"You can keep at most {services.MAX_SAVED_SEARCHES} saved searches."]


def test_saved_searches_page_lists_and_deletes(client, freelancer):
    search = services.saved_search_create(actor=freelancer, name="Django gigs", query_string="q=django")
    client.force_login(freelancer)

    page = client.get(reverse("jobs:saved_searches"))
    assert "Django gigs" in page.content.decode()
    assert f'href="{reverse("jobs:search")}?q=django"' in page.content.decode()

    response = client.post(reverse("jobs:saved_search_delete", args=[search.pk]), follow=True)

    assert messages_of(response) == ["Deleted the saved search."]
    assert 'data-testid="empty-saved-searches"' in response.content.decode()
    assert SavedSearch.objects.count() == 0


def test_foreign_user_cannot_delete_a_saved_search(client, freelancer):
    search = services.saved_search_create(actor=freelancer, name="Mine", query_string="q=django")
    client.force_login(factories.make_freelancer())

    response = client.post(reverse("jobs:saved_search_delete", args=[search.pk]))

    assert response.status_code == 404
    assert SavedSearch.objects.filter(pk=search.pk).exists()


# --- alerts ------------------------------------------------------------------------------------------


def _search_saved_earlier(user, **kwargs) -> SavedSearch:
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        return services.saved_search_create(actor=user, **kwargs)


def test_alert_emails_new_matching_jobs_once(freelancer, client_user, settings):
    settings.SITE_URL = "https://market.example"
    search = _search_saved_earlier(freelancer, name="Django gigs", query_string="q=django")
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        make_job(client_user, title="Django job posted before the search was saved")
    new = make_job(client_user, title="Django developer for a booking site")
    make_job(client_user, title="Logo design for a bakery chain", description="A bakery needs a logo. " * 5)
    later = timezone.now() + timedelta(minutes=5)

    assert saved_search_alerts_send(now=later) == 1

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [freelancer.email]
    assert message.subject == "1 new job for “Django gigs”"
    assert "Django developer for a booking site" in message.body
    assert f"https://market.example{reverse('jobs:detail', args=[new.public_id])}" in message.body
    assert "posted before the search" not in message.body
    assert "Logo design" not in message.body
    assert "https://market.example/jobs/search/?q=django" in message.body
    search.refresh_from_db()
    assert search.last_notified_at is not None

    assert saved_search_alerts_send(now=later) == 0
    assert saved_search_alerts_send(now=later + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_alert_sends_one_email_per_search_with_at_most_ten_jobs(freelancer, client_user):
    _search_saved_earlier(freelancer, name="Everything", query_string="")
    _search_saved_earlier(freelancer, name="Hourly", query_string="budget_type=hourly")
    for i in range(12):
        make_job(client_user, title=f"Django job number {i:02}")

    assert saved_search_alerts_send(now=timezone.now() + timedelta(minutes=5)) == 1

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "12 new jobs for “Everything”"
    assert body.count("  http://127.0.0.1:8000/jobs/~02") == 10
    assert "See all 12 new jobs: http://127.0.0.1:8000/jobs/search/" in body


def test_alert_skips_muted_searches_own_jobs_and_suspended_users(freelancer, client_user, staff):
    _search_saved_earlier(freelancer, name="Muted", query_string="", notify=False)
    _search_saved_earlier(client_user, name="My own", query_string="")
    suspended = factories.make_freelancer()
    _search_saved_earlier(suspended, name="Suspended", query_string="")
    from accounts import services as account_services

    account_services.user_suspend(actor=staff, user_id=suspended.pk, reason="spam")
    make_job(client_user)

    assert saved_search_alerts_send(now=timezone.now() + timedelta(minutes=5)) == 0
    assert mail.outbox == []


def test_alert_waits_for_jobs_published_in_the_last_minute(freelancer, client_user):
    _search_saved_earlier(freelancer, name="Everything", query_string="")
    make_job(client_user)

    assert saved_search_alerts_send(now=timezone.now()) == 0
    assert saved_search_alerts_send(now=timezone.now() + timedelta(minutes=2)) == 1


def test_alert_with_a_search_that_no_longer_validates_moves_on(freelancer, client_user):
    search = _search_saved_earlier(freelancer, name="Gone", query_string="q=django")
    SavedSearch.objects.filter(pk=search.pk).update(query_string="category=999999")
    make_job(client_user)
    later = timezone.now() + timedelta(minutes=5)

    assert saved_search_alerts_send(now=later) == 0

    search.refresh_from_db()
    assert search.last_checked_at == later - timedelta(minutes=1)


def test_alert_that_fails_to_send_is_retried(freelancer, client_user, monkeypatch):
    search = _search_saved_earlier(freelancer, name="Everything", query_string="")
    make_job(client_user)
    later = timezone.now() + timedelta(minutes=5)

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("jobs.alerts.send_mail", broken)
    assert saved_search_alerts_send(now=later) == 0
    search_before = SavedSearch.objects.get(pk=search.pk)
    assert search_before.last_checked_at == search.last_checked_at
    monkeypatch.undo()

    assert saved_search_alerts_send(now=later) == 1
    assert len(mail.outbox) == 1


def test_alert_task_runs_the_alerts(freelancer, client_user):
    from jobs.tasks import send_saved_search_alerts

    _search_saved_earlier(freelancer, name="Everything", query_string="")
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        make_job(client_user)

    assert send_saved_search_alerts.delay().get() == 1
    assert send_saved_search_alerts.delay().get() == 0


def test_saved_jobs_page_queries_do_not_grow_with_the_list(client, freelancer, client_user):
    client.force_login(freelancer)
    counts = []
    for _ in range(2):
        for _ in range(3):
            services.job_save(actor=freelancer, job_id=make_job(client_user).pk)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("jobs:saved"))
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
