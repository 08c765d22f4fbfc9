"""HTML pages of posting: the job-post wizard, preview and publish, My jobs, the job page,
closing, reopening, attachments and flags, through Django's test client."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ClientProfile, ContentFlag, Skill, Subcategory
from jobs import services
from jobs.models import Job, JobAttachment, JobEvent
from jobs.selectors_posting import DRAFT_DESCRIPTION, proposals_range, skill_suggestions
from tests import factories
from tests.jobs.conftest import job_input, make_job

pytestmark = pytest.mark.django_db

DESCRIPTION = (
    "We run a small chain of yoga studios and need a booking site.\n\n"
    "Customers pick a class, pay by card and get a reminder email."
)


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    """The messages this request added (earlier unread ones wait in the cookie)."""
    storage = get_messages(response.wsgi_request)
    return [str(m) for m in storage._queued_messages]


def step_url(job: Job, step: str) -> str:
    return reverse("jobs:edit_step", kwargs={"public_id": job.public_id, "step": step})


def url(name: str, job: Job) -> str:
    return reverse(name, kwargs={"public_id": job.public_id})


@pytest.fixture
def client_browser(client, client_user):
    client.force_login(client_user)
    return client


@pytest.fixture
def web_dev():
    python = Skill.objects.select_related("subcategory__category").get(name="Python")
    return python.subcategory


# --- who may post --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("jobs:create"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", ["jobs:create", "jobs:mine"])
def test_a_freelancer_without_client_profile_is_told_to_switch(client, freelancer, name):
    client.force_login(freelancer)

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert "Switch to hiring to post jobs" in text(response)
    assert reverse("accounts:role_switch") in text(response)


def test_a_freelancer_cannot_create_a_job_by_posting(client, freelancer, web_dev):
    client.force_login(freelancer)

    response = client.post(
        reverse("jobs:create"), {"title": "Build a Django booking site", "category": web_dev.category_id}
    )

    assert response.status_code == 200
    assert Job.objects.count() == 0


# --- the wizard ------------------------------------------------------------------------------------


def test_the_wizard_end_to_end(client_browser, client_user, web_dev):
    django_skill, python = Skill.objects.get(name="Django"), Skill.objects.get(name="Python")

    # Step 1: the title and category create the draft.
    page = client_browser.get(reverse("jobs:create"))
    assert page.status_code == 200
    assert "Step 1 of 6" in text(page)
    response = client_browser.post(
        reverse("jobs:create"),
        {
            "title": "Build a Django booking site",
            "category": web_dev.category_id,
            "subcategory": web_dev.pk,
            "action": "continue",
        },
    )
    job = Job.objects.get()
    assert (job.status, job.title, job.category_id, job.subcategory_id) == (
        Job.Status.DRAFT,
        "Build a Django booking site",
        web_dev.category_id,
        web_dev.pk,
    )
    assert job.description == DRAFT_DESCRIPTION
    assert response["Location"] == step_url(job, "skills")
    assert messages_of(response) == ["Saved: title."]

    # Step 2: skills, Django suggested first from the title.
    page = client_browser.get(step_url(job, "skills"))
    assert page.context["options"].suggested[0] == django_skill
    assert text(page).index(">Django<") < text(page).index(">Python<")
    response = client_browser.post(
        step_url(job, "skills"), {"skills": [django_skill.pk, python.pk], "action": "continue"}
    )
    assert response["Location"] == step_url(job, "scope")

    # Step 3: scope.
    response = client_browser.post(
        step_url(job, "scope"),
        {"size": "large", "duration": "3to6", "experience_level": "expert", "action": "continue"},
    )
    assert response["Location"] == step_url(job, "budget")

    # Step 4: budget, an hourly range in dollars.
    response = client_browser.post(
        step_url(job, "budget"),
        {
            "budget_type": "hourly",
            "hourly_min": "35",
            "hourly_max": "60.50",
            "fixed_budget": "",
            "action": "continue",
        },
    )
    assert response["Location"] == step_url(job, "details")

    # Step 5: description, a file, questions, visibility, number of freelancers.
    response = client_browser.post(
        step_url(job, "details"),
        {
            "description": DESCRIPTION,
            "attachments": [SimpleUploadedFile("brief.txt", b"Three studios, 40 classes a week.\n")],
            "question_1": "Which booking sites have you built?",
            "question_2": "",
            "question_3": "How would you handle time zones?",
            "visibility": "public",
            "freelancers_needed": "2",
            "action": "continue",
        },
    )
    assert response["Location"] == url("jobs:preview", job)
    assert messages_of(response) == ["Attached 1 file.", "Saved: description and details."]

    job.refresh_from_db()
    assert job.status == Job.Status.DRAFT
    assert set(job.skills.all()) == {django_skill, python}
    assert (job.size, job.duration, job.experience_level) == ("large", "3to6", "expert")
    assert (job.budget_type, job.hourly_min_cents, job.hourly_max_cents, job.fixed_budget_cents) == (
        "hourly",
        3500,
        6050,
        None,
    )
    assert job.description == DESCRIPTION
    assert list(job.questions.values_list("text", flat=True)) == [
        "Which booking sites have you built?",
        "How would you handle time zones?",
    ]
    assert job.freelancers_needed == 2
    assert list(job.attachments.values_list("original_name", flat=True)) == ["brief.txt"]

    # Preview: the job as freelancers will see it.
    page = client_browser.get(url("jobs:preview", job))
    body = text(page)
    assert page.status_code == 200
    assert "Hourly: $35.00 \u2013 $60.50 per hour" in body
    assert "<p>We run a small chain of yoga studios and need a booking site.</p>" in body
    assert "How would you handle time zones?" in body
    assert "brief.txt" in body
    assert page.context["missing"] == []

    # Publish.
    response = client_browser.post(url("jobs:publish", job))
    assert response["Location"] == url("jobs:detail", job)
    assert messages_of(response) == ["Your job is published. Freelancers can find it and apply."]
    job.refresh_from_db()
    assert job.status == Job.Status.OPEN
    assert job.published_at is not None
    assert ClientProfile.objects.get(user=client_user).jobs_posted_count == 1


def test_save_as_draft_on_the_first_step(client_browser, web_dev):
    response = client_browser.post(
        reverse("jobs:create"),
        {"title": "Translate our app into Spanish", "category": web_dev.category_id, "action": "draft"},
    )

    job = Job.objects.get()
    assert response["Location"] == reverse("jobs:mine")
    assert messages_of(response) == [
        "Draft saved: “Translate our app into Spanish”. Continue any time from My jobs."
    ]
    mine = client_browser.get(reverse("jobs:mine"))
    assert mine.context["tab"] == "drafts"
    assert list(mine.context["page"].object_list) == [job]


def test_save_as_draft_on_a_later_step_keeps_the_data(client_browser, client_user):
    job = make_job(client_user, publish=False)

    response = client_browser.post(
        step_url(job, "scope"),
        {"size": "small", "duration": "lt1", "experience_level": "entry", "action": "draft"},
    )

    assert response["Location"] == reverse("jobs:mine")
    job.refresh_from_db()
    assert (job.size, job.duration, job.experience_level) == ("small", "lt1", "entry")


def test_edit_goes_to_the_first_step(client_browser, client_user):
    job = make_job(client_user, publish=False)

    response = client_browser.get(url("jobs:edit", job))

    assert response["Location"] == step_url(job, "title")


def test_every_step_shows_the_saved_values(client_browser, client_user):
    job = make_job(
        client_user,
        publish=False,
        budget_type="hourly",
        hourly_min_cents=2500,
        hourly_max_cents=4000,
        questions=["Have you used Stripe?"],
    )

    for step in ("title", "skills", "scope", "budget", "details"):
        assert client_browser.get(step_url(job, step)).status_code == 200
    budget = client_browser.get(step_url(job, "budget")).context["form"]
    assert (budget["hourly_min"].value(), budget["hourly_max"].value()) == ("25.00", "40.00")
    details = client_browser.get(step_url(job, "details")).context["form"]
    assert details["question_1"].value() == "Have you used Stripe?"
    assert details["description"].value() == job.description


def test_an_unknown_step_is_404(client_browser, client_user):
    job = make_job(client_user, publish=False)

    assert client_browser.get(step_url(job, "payment")).status_code == 404


def test_the_placeholders_of_a_fresh_draft_are_not_shown_as_values(client_browser, web_dev):
    client_browser.post(
        reverse("jobs:create"),
        {"title": "Build a Django booking site", "category": web_dev.category_id, "action": "continue"},
    )
    job = Job.objects.get()

    details = client_browser.get(step_url(job, "details")).context["form"]
    budget = client_browser.get(step_url(job, "budget")).context["form"]

    assert details["description"].value() == ""
    assert (budget["budget_type"].value(), budget["fixed_budget"].value()) == ("fixed", "")


# --- validation errors are shown, never a 500 ------------------------------------------------------


def test_title_step_errors(client_browser, web_dev):
    other_sub = Subcategory.objects.exclude(category_id=web_dev.category_id).first()

    response = client_browser.post(
        reverse("jobs:create"),
        {"title": "Short", "category": web_dev.category_id, "subcategory": other_sub.pk},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "title": ["Ensure this value has at least 10 characters (it has 5)."],
        "subcategory": ["This specialty belongs to another category."],
    }
    assert Job.objects.count() == 0


def test_title_step_without_a_category(client_browser):
    response = client_browser.post(reverse("jobs:create"), {"title": "Build a Django booking site"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"category": ["This field is required."]}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"budget_type": "hourly", "hourly_min": "60", "hourly_max": "30"},
            {"hourly_max": ["The highest rate cannot be below the lowest."]},
        ),
        (
            {"budget_type": "hourly", "hourly_min": "-5", "hourly_max": "30"},
            {"hourly_min": ["Enter an amount above zero."]},
        ),
        (
            {"budget_type": "hourly", "hourly_min": "", "hourly_max": "30"},
            {"hourly_min": ["Enter an amount."]},
        ),
        (
            {"budget_type": "hourly", "hourly_min": "2", "hourly_max": "1000"},
            {
                "hourly_min": ["Hourly rates must be between $3 and $999."],
                "hourly_max": ["Hourly rates must be between $3 and $999."],
            },
        ),
        ({"budget_type": "fixed", "fixed_budget": "0"}, {"fixed_budget": ["Enter an amount above zero."]}),
        (
            {"budget_type": "fixed", "fixed_budget": "2000000"},
            {"fixed_budget": ["A fixed price must be between $5 and $1,000,000."]},
        ),
        ({"budget_type": "fixed", "fixed_budget": "12.345"}, {"fixed_budget": ["Use at most two decimals."]}),
        (
            {"budget_type": "fixed", "fixed_budget": "lots"},
            {"fixed_budget": ["Enter an amount like 45 or 45.50."]},
        ),
        (
            {"budget_type": "barter"},
            {"budget_type": ["Select a valid choice. barter is not one of the available choices."]},
        ),
    ],
)
def test_budget_step_errors(client_browser, client_user, data, errors):
    job = make_job(client_user, publish=False)

    response = client_browser.post(step_url(job, "budget"), {**data, "action": "continue"})

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    job.refresh_from_db()
    assert (job.budget_type, job.fixed_budget_cents) == ("fixed", 150_000)


def test_skills_step_errors(client_browser, client_user):
    job = make_job(client_user, publish=False)
    eleven = list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:11])

    too_many = client_browser.post(step_url(job, "skills"), {"skills": eleven})
    none = client_browser.post(step_url(job, "skills"), {})

    assert too_many.status_code == 200
    assert too_many.context["form"].errors == {"skills": ["Choose at most 10 skills (you chose 11)."]}
    assert none.context["form"].errors == {
        "skills": ["Choose at least one skill, so that the right freelancers find the job."]
    }
    assert job.skills.count() == 1


def test_details_step_errors(client_browser, client_user):
    job = make_job(client_user, publish=False)

    short = client_browser.post(
        step_url(job, "details"),
        {"description": "Too short.", "visibility": "public", "freelancers_needed": "1"},
    )
    huge = client_browser.post(
        step_url(job, "details"),
        {"description": "x" * 100_000, "visibility": "public", "freelancers_needed": "0"},
    )

    assert short.status_code == 200
    assert short.context["form"].errors == {
        "description": ["Ensure this value has at least 50 characters (it has 10)."]
    }
    assert huge.status_code == 200
    assert huge.context["form"].errors == {
        "description": ["Ensure this value has at most 10000 characters (it has 100000)."],
        "freelancers_needed": ["Ensure this value is greater than or equal to 1."],
    }


def test_details_step_refuses_the_placeholder(client_browser, client_user):
    job = make_job(client_user, publish=False)

    response = client_browser.post(
        step_url(job, "details"),
        {"description": DRAFT_DESCRIPTION, "visibility": "public", "freelancers_needed": "1"},
    )

    assert response.context["form"].errors == {
        "description": ["Replace the placeholder with a description of the work."]
    }


def test_details_step_with_a_refused_file_saves_the_text_and_says_which(client_browser, client_user):
    job = make_job(client_user, publish=False)

    response = client_browser.post(
        step_url(job, "details"),
        {
            "description": DESCRIPTION,
            "attachments": [SimpleUploadedFile("tool.exe", b"MZ\x90\x00" * 20)],
            "visibility": "invite_only",
            "freelancers_needed": "1",
        },
    )

    assert response.status_code == 200
    assert (
        response.context["form"]
        .errors["attachments"][0]
        .startswith("tool.exe: This file type is not accepted.")
    )
    job.refresh_from_db()
    assert (job.description, job.visibility) == (DESCRIPTION, "invite_only")
    assert job.attachments.count() == 0


def test_details_step_refuses_more_than_five_files(client_browser, client_user):
    job = make_job(client_user, publish=False)
    for i in range(4):
        services.job_add_attachment(
            actor=client_user, job_id=job.pk, upload=SimpleUploadedFile(f"f{i}.txt", b"notes\n")
        )

    response = client_browser.post(
        step_url(job, "details"),
        {
            "description": DESCRIPTION,
            "attachments": [SimpleUploadedFile("a.txt", b"a\n"), SimpleUploadedFile("b.txt", b"b\n")],
            "visibility": "public",
            "freelancers_needed": "1",
        },
    )

    assert response.context["form"].errors == {
        "attachments": ["Attach at most 5 files; there is room for 1 more."]
    }
    assert job.attachments.count() == 4


def test_service_errors_land_on_the_form(client_browser, client_user, staff):
    from accounts import services as account_services

    job = make_job(client_user, publish=False)
    account_services.user_suspend(actor=staff, user_id=client_user.pk, reason="spam", note="")
    client_user.refresh_from_db()

    response = client_browser.post(
        step_url(job, "scope"), {"size": "small", "duration": "lt1", "experience_level": "entry"}
    )

    # The accounts middleware refuses a suspended user's writes before any view runs.
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.size == "medium"


# --- publishing ------------------------------------------------------------------------------------


def test_a_draft_without_description_cannot_be_published(client_browser, web_dev):
    client_browser.post(
        reverse("jobs:create"),
        {"title": "Build a Django booking site", "category": web_dev.category_id, "action": "continue"},
    )
    job = Job.objects.get()

    preview = client_browser.get(url("jobs:preview", job))
    response = client_browser.post(url("jobs:publish", job))

    assert [part.step for part in preview.context["missing"]] == ["skills", "details"]
    assert response["Location"] == step_url(job, "skills")
    assert messages_of(response) == ["Before publishing: choose at least one skill; write the description."]
    job.refresh_from_db()
    assert job.status == Job.Status.DRAFT


def test_publishing_an_open_or_closed_job_is_refused(client_browser, client_user):
    job = make_job(client_user)
    services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.HIRED)

    response = client_browser.post(url("jobs:publish", job))

    assert messages_of(response) == ["This job is closed; only a draft can be published."]
    job.refresh_from_db()
    assert job.status == Job.Status.CLOSED


def test_publish_needs_post(client_browser, client_user):
    job = make_job(client_user, publish=False)

    assert client_browser.get(url("jobs:publish", job)).status_code == 405


# --- editing an open job ----------------------------------------------------------------------------


def test_editing_an_open_job_logs_the_change_and_shows_it(client_browser, client_user):
    job = make_job(client_user)

    response = client_browser.post(
        step_url(job, "budget"), {"budget_type": "fixed", "fixed_budget": "2,000", "action": "draft"}
    )

    assert response["Location"] == url("jobs:detail", job)
    assert messages_of(response) == ["Changes saved. Freelancers see them now."]
    event = job.events.get(kind=JobEvent.Kind.EDITED)
    assert event.changes == {"fixed_budget_cents": ["150000", "200000"]}
    page = client_browser.get(url("jobs:detail", job))
    assert "Fixed price: <del>$1,500.00</del> → $2,000.00" in text(page)


def test_a_closed_job_cannot_be_edited(client_browser, client_user):
    job = make_job(client_user)
    services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.HIRED)

    response = client_browser.get(step_url(job, "title"))

    assert response["Location"] == url("jobs:detail", job)
    assert messages_of(response) == ["A closed job cannot be edited."]


# --- not a party: 404 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "kwargs"),
    [
        ("get", "jobs:edit", {}),
        ("get", "jobs:edit_step", {"step": "title"}),
        ("post", "jobs:edit_step", {"step": "title"}),
        ("get", "jobs:preview", {}),
        ("post", "jobs:publish", {}),
        ("post", "jobs:close", {}),
        ("post", "jobs:reopen", {}),
    ],
)
def test_a_client_cannot_touch_another_clients_job(client, client_user, method, name, kwargs):
    job = make_job(client_user)
    client.force_login(factories.make_client())

    response = getattr(client, method)(
        reverse(name, kwargs={"public_id": job.public_id, **kwargs}),
        {"title": "Taken over the job", "reason": "hired"},
    )

    assert response.status_code == 404
    job.refresh_from_db()
    assert (job.status, job.title) == (Job.Status.OPEN, "Build a Django booking site")


def test_a_client_cannot_delete_another_clients_attachment(client, client_user):
    job = make_job(client_user, publish=False)
    attachment = services.job_add_attachment(
        actor=client_user, job_id=job.pk, upload=SimpleUploadedFile("brief.txt", b"notes\n")
    )
    client.force_login(factories.make_client())

    response = client.post(
        reverse("jobs:attachment_delete", kwargs={"public_id": job.public_id, "attachment_id": attachment.pk})
    )

    assert response.status_code == 404
    assert JobAttachment.objects.count() == 1


def test_drafts_are_404_for_everyone_but_the_owner(client, client_user, freelancer):
    job = make_job(client_user, publish=False)

    anonymous = client.get(url("jobs:detail", job))
    client.force_login(freelancer)
    other = client.get(url("jobs:detail", job))
    client.force_login(client_user)
    owner = client.get(url("jobs:detail", job))

    assert (anonymous.status_code, other.status_code, owner.status_code) == (404, 404, 200)


def test_invite_only_jobs_are_404_for_the_uninvited(client, client_user, freelancer, published_freelancer):
    job = make_job(client_user, visibility=Job.Visibility.INVITE_ONLY)
    services.invitation_send(
        actor=client_user, job_id=job.pk, freelancer_id=published_freelancer.pk, message="Would you?"
    )

    anonymous = client.get(url("jobs:detail", job))
    client.force_login(freelancer)
    uninvited = client.get(url("jobs:detail", job))
    client.force_login(published_freelancer)
    invited = client.get(url("jobs:detail", job))

    assert (anonymous.status_code, uninvited.status_code, invited.status_code) == (404, 404, 200)
    assert "The client invited you to this job (pending)." in text(invited)


# --- My jobs -------------------------------------------------------------------------------------------


def test_my_jobs_empty_state(client_browser):
    response = client_browser.get(reverse("jobs:mine"))

    assert response.status_code == 200
    assert "Post your first job" in text(response)
    assert response.context["total"] == 0


def test_my_jobs_tabs_and_counts(client_browser, client_user, published_freelancer):
    draft = make_job(client_user, publish=False, title="Draft job about Django")
    live = make_job(client_user, title="Open job about Django")
    closed = make_job(client_user, title="Closed job about Django")
    services.job_close(actor=client_user, job_id=closed.pk, reason=Job.CloseReason.HIRED_ELSEWHERE)
    services.invitation_send(
        actor=client_user, job_id=live.pk, freelancer_id=published_freelancer.pk, message="Interested?"
    )
    make_job(factories.make_client(), title="Somebody else's job")

    open_tab = client_browser.get(reverse("jobs:mine"))
    drafts_tab = client_browser.get(reverse("jobs:mine"), {"tab": "drafts"})
    closed_tab = client_browser.get(reverse("jobs:mine"), {"tab": "closed"})

    assert [(t["key"], t["count"]) for t in open_tab.context["tabs"]] == [
        ("drafts", 1),
        ("open", 1),
        ("closed", 1),
    ]
    assert list(open_tab.context["page"].object_list) == [live]
    assert list(drafts_tab.context["page"].object_list) == [draft]
    assert list(closed_tab.context["page"].object_list) == [closed]
    body = text(open_tab)
    assert '<dt class="fw-normal text-secondary">Invites</dt><dd class="fw-semibold mb-0">1</dd>' in body
    assert (
        '<dt class="fw-normal text-secondary">Proposals</dt><dd class="fw-semibold mb-0">'
        f'<a href="/jobs/{live.public_id}/proposals/" data-testid="review-proposals">0</a></dd>'
    ) in body
    assert "No proposals yet: freelancers who fit will find the job; inviting them helps." in body
    assert "Close job" in body
    closed_body = text(closed_tab)
    assert "Reopen job" in closed_body
    assert (
        timezone.localtime(closed_tab.context["page"].object_list[0].reopen_deadline).strftime("%b")
        in closed_body
    )


def closed_long_ago(client_user) -> Job:
    """A job closed 31 days ago (the session is made afterwards, so it has not expired)."""
    with time_machine.travel(timezone.now() - timedelta(days=31), tick=False):
        job = make_job(client_user)
        services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.HIRED)
    return job


def test_my_jobs_after_the_reopen_window(client_browser, client_user):
    closed_long_ago(client_user)

    response = client_browser.get(reverse("jobs:mine"), {"tab": "closed"})

    assert response.context["reopenable"] == set()
    assert "Reopen window ended" in text(response)


# --- close, reopen, attachments -------------------------------------------------------------------------


def test_close_with_a_reason_then_reopen(client_browser, client_user):
    job = make_job(client_user)

    closed = client_browser.post(
        url("jobs:close", job), {"reason": "no_good_proposals", "next": reverse("jobs:mine")}
    )
    job.refresh_from_db()
    assert closed["Location"] == reverse("jobs:mine")
    assert job.status == Job.Status.CLOSED
    assert messages_of(closed)[0].startswith("Closed “Build a Django booking site”. You can reopen it until ")

    reopened = client_browser.post(url("jobs:reopen", job))
    job.refresh_from_db()
    assert reopened["Location"] == url("jobs:detail", job)
    assert messages_of(reopened) == ["Reopened “Build a Django booking site”. Freelancers can apply again."]
    assert job.status == Job.Status.OPEN


def test_close_needs_a_reason(client_browser, client_user):
    job = make_job(client_user)

    response = client_browser.post(url("jobs:close", job), {"reason": "removed_by_staff"})

    assert messages_of(response) == ["Choose why you are closing the job."]
    job.refresh_from_db()
    assert job.status == Job.Status.OPEN


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "-1", "home", "javascript:alert(1)"]
)
def test_close_ignores_a_next_that_is_not_a_url_of_the_site(client_browser, client_user, target):
    """Another site's address, or a bare word ("-1" was a server error: ``redirect`` took it
    for a view name), sends the client to the job's page; the job is closed all the same."""
    job = make_job(client_user)

    response = client_browser.post(url("jobs:close", job), {"reason": "hired", "next": target})

    assert response.status_code == 302 and response["Location"] == url("jobs:detail", job)
    job.refresh_from_db()
    assert job.status == Job.Status.CLOSED


def test_reopen_a_draft_or_an_open_job_is_refused(client_browser, client_user):
    draft, live = make_job(client_user, publish=False), make_job(client_user)

    for job in (draft, live):
        response = client_browser.post(url("jobs:reopen", job))
        assert messages_of(response) == ["Only a closed job can be reopened."]
    draft.refresh_from_db()
    assert draft.status == Job.Status.DRAFT


def test_reopen_after_the_window_shows_the_error(client_browser, client_user):
    job = closed_long_ago(client_user)

    response = client_browser.post(url("jobs:reopen", job))

    assert messages_of(response) == ["Jobs can be reopened within 30 days of closing; post it again instead."]


def test_delete_an_attachment(client_browser, client_user):
    job = make_job(client_user, publish=False)
    attachment = services.job_add_attachment(
        actor=client_user, job_id=job.pk, upload=SimpleUploadedFile("brief.txt", b"notes\n")
    )

    response = client_browser.post(
        reverse("jobs:attachment_delete", kwargs={"public_id": job.public_id, "attachment_id": attachment.pk})
    )

    assert response["Location"] == step_url(job, "details")
    assert messages_of(response) == ["Removed brief.txt."]
    assert JobAttachment.objects.count() == 0


# --- the job page -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "label"),
    [
        (0, "Less than 5"),
        (4, "Less than 5"),
        (5, "5 to 10"),
        (9, "5 to 10"),
        (10, "10 to 15"),
        (15, "15 to 20"),
        (20, "20 to 50"),
        (49, "20 to 50"),
        (50, "50+"),
        (1000, "50+"),
    ],
)
def test_proposals_range(count, label):
    assert proposals_range(count) == label


def test_the_job_page_as_a_freelancer_sees_it(client, client_user, freelancer):
    job = make_job(client_user, description=DESCRIPTION, questions=["Which booking sites have you built?"])
    services.job_add_attachment(
        actor=client_user, job_id=job.pk, upload=SimpleUploadedFile("brief.txt", b"hi\n")
    )
    Job.objects.filter(pk=job.pk).update(proposals_count=12)  # proposals arrive in a later release
    client.force_login(freelancer)

    response = client.get(url("jobs:detail", job))

    body = text(response)
    assert response.status_code == 200
    assert '<h1 class="h3 mb-1">Build a Django booking site</h1>' in body
    assert "<p>We run a small chain of yoga studios and need a booking site.</p>" in body
    assert "Fixed price: $1,500.00" in body
    assert '<span class="skill-chip">Python</span>' in body
    assert "Which booking sites have you built?" in body
    assert JobAttachment.objects.get().file.url in body
    assert '<dd class="col-5" data-testid="proposals-range">10 to 15</dd>' in body
    assert 'Last viewed by client</dt><dd class="col-5">Not yet</dd>' in body
    assert "Complete and publish your profile to send proposals." in body
    assert "Flag as inappropriate" in body
    # About the client: one job posted, no hires, no reviews, honestly.
    assert '<dt class="col-6">Hire rate</dt><dd class="col-6">0% hire rate</dd>' in body
    assert '<dt class="col-6">Rating</dt>\n    <dd class="col-6">No reviews yet</dd>' in body
    assert "Payment method not verified" in body
    assert "Change history" not in body
    job.refresh_from_db()
    assert job.last_viewed_by_client_at is None


def test_the_job_page_client_stats(client, client_user):
    ClientProfile.objects.filter(user=client_user).update(
        jobs_posted_count=3,
        hires_count=2,
        total_spent_cents=1_234_500,
        rating_avg="4.80",
        reviews_count=2,
        payment_method_verified=True,
        country="DE",
    )
    job = make_job(client_user)

    response = client.get(url("jobs:detail", job))

    stats = response.context["page"].client
    assert (stats.jobs_posted, stats.hire_rate_percent, stats.rating, stats.reviews_count) == (
        4,
        50,
        "4.80",
        2,
    )
    body = text(response)
    assert "50% hire rate" in body
    assert "4.80 of 5 (2 reviews)" in body
    assert "$12,345.00" in body
    assert "Germany" in body
    assert "Payment method verified" in body


def test_a_client_who_never_posted_shows_no_hires_yet():
    from jobs.selectors_posting import ClientStats

    stats = ClientStats("", timezone.now(), False, 0, 0, None, 0, 0, None, 0)

    assert (stats.hire_rate_text, stats.total_spent_text) == ("No hires yet", "Nothing spent yet")


def test_the_owner_sees_actions_history_and_marks_the_view(client_browser, client_user):
    job = make_job(client_user)
    services.job_update(
        actor=client_user, job_id=job.pk, data=job_input(title="Build a Django booking website")
    )
    now = timezone.now()

    with time_machine.travel(now, tick=False):
        response = client_browser.get(url("jobs:detail", job))

    body = text(response)
    assert 'data-testid="owner-actions"' in body
    assert "Edit job" in body
    assert "Close job" in body
    assert "Change history" in body
    assert "Title: <del>Build a Django booking site</del> → Build a Django booking website" in body
    assert [row.event.kind for row in response.context["page"].history] == ["created", "published", "edited"]
    assert "Submit a proposal" not in body
    job.refresh_from_db()
    assert job.last_viewed_by_client_at == now


def test_the_owner_sees_the_reopen_deadline_of_a_closed_job(client_browser, client_user):
    job = make_job(client_user)
    closed = services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.HIRED)

    response = client_browser.get(url("jobs:detail", job))

    assert "Reopen job" in text(response)
    assert f"until {timezone.localtime(closed.reopen_deadline):%b} " in text(response)


def test_similar_jobs(client, client_user, web_dev):
    job = make_job(client_user)
    same_sub = make_job(factories.make_client(), title="Another Django booking site")
    other_sub = Subcategory.objects.filter(category_id=web_dev.category_id).exclude(pk=web_dev.pk).first()
    same_cat = make_job(
        factories.make_client(), title="Mobile app for our studio", subcategory_id=other_sub.pk, skill_ids=[]
    )
    make_job(factories.make_client(), title="A Django draft job here", publish=False)
    make_job(factories.make_client(), title="Invite only Django job", visibility=Job.Visibility.INVITE_ONLY)

    response = client.get(url("jobs:detail", job))

    assert response.context["page"].similar == [same_sub, same_cat]


def test_the_job_page_runs_a_constant_number_of_queries(client, client_user, freelancer):
    job = make_job(client_user)
    client.force_login(freelancer)
    client.get(url("jobs:detail", job))  # warm caches (sessions, content types)

    with CaptureQueriesContext(connection) as few:
        client.get(url("jobs:detail", job))
    for i in range(5):
        make_job(factories.make_client(), title=f"Similar Django job number {i}")
        services.job_add_attachment(
            actor=client_user, job_id=job.pk, upload=SimpleUploadedFile(f"f{i}.txt", b"notes\n")
        )
    with CaptureQueriesContext(connection) as many:
        client.get(url("jobs:detail", job))

    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_save_button_appears_only_when_saving_exists(client, client_user, freelancer):
    from django.urls import NoReverseMatch

    job = make_job(client_user)
    client.force_login(freelancer)

    body = text(client.get(url("jobs:detail", job)))

    try:
        reverse("jobs:save", kwargs={"public_id": job.public_id})
    except NoReverseMatch:
        assert 'data-testid="save-job"' not in body
    else:
        assert 'data-testid="save-job"' in body


# --- flags --------------------------------------------------------------------------------------------------


def test_flag_a_job(client, client_user, freelancer):
    job = make_job(client_user)
    client.force_login(freelancer)

    response = client.post(url("jobs:flag", job), {"reason": "scam", "note": "Asks to pay by wire."})

    assert response["Location"] == url("jobs:detail", job)
    assert messages_of(response) == [
        "Thank you. Staff will review this job; the client is not told who flagged it."
    ]
    assert list(ContentFlag.objects.values_list("reporter_id", "reason", "note")) == [
        (freelancer.pk, "scam", "Asks to pay by wire.")
    ]
    page = client.get(url("jobs:detail", job))
    assert "You flagged this job; change your report" in text(page)


def test_flag_without_a_reason(client, client_user, freelancer):
    job = make_job(client_user)
    client.force_login(freelancer)

    response = client.post(url("jobs:flag", job), {"reason": ""})

    assert messages_of(response) == ["Choose why you are flagging this job."]
    assert ContentFlag.objects.count() == 0


def test_flag_own_job_shows_the_error(client_browser, client_user):
    job = make_job(client_user)

    response = client_browser.post(url("jobs:flag", job), {"reason": "spam"})

    assert messages_of(response) == ["You cannot flag your own job."]
    assert ContentFlag.objects.count() == 0


def test_flag_a_draft_is_404(client, client_user, freelancer):
    job = make_job(client_user, publish=False)
    client.force_login(freelancer)

    assert client.post(url("jobs:flag", job), {"reason": "spam"}).status_code == 404


def test_flag_needs_login(client, client_user):
    job = make_job(client_user)

    response = client.post(url("jobs:flag", job), {"reason": "spam"})

    assert response.status_code == 302
    assert ContentFlag.objects.count() == 0


# --- skill suggestions -------------------------------------------------------------------------------------


def test_skill_suggestions_rank_the_title_words(web_dev):
    options = skill_suggestions(
        title="React and Node.js developer for a REST API",
        category_id=web_dev.category_id,
        subcategory_id=web_dev.pk,
    )

    names = [s.name for s in options.suggested]
    # two rare shared words beat one; "js" is shared by four skill names, so it counts little
    assert names[:3] == ["REST API Development", "Node.js", "React"]
    assert "React Native" in names  # shares "react", ranked after the exact match
    assert names.index("React") < names.index("React Native")
    assert not set(names) & {s.name for s in options.others}
    assert len(options.all) == Skill.objects.filter(subcategory__category_id=web_dev.category_id).count()


def test_skill_suggestions_without_a_category():
    options = skill_suggestions(title="Build a Django booking site", category_id=None)

    assert (options.suggested, options.others) == ([], [])


def test_skill_suggestions_partial(client_browser, web_dev):
    preview = client_browser.get(
        reverse("jobs:skill_suggestions"),
        {"title": "Django developer", "category": web_dev.category_id, "mode": "preview"},
    )
    boxes = client_browser.get(
        reverse("jobs:skill_suggestions"),
        {"title": "Django developer", "category": str(web_dev.category_id), "skills": ["1", "x"]},
    )
    nothing = client_browser.get(reverse("jobs:skill_suggestions"), {"title": "Django", "category": "abc"})

    assert preview.status_code == 200
    assert '<span class="skill-chip">Django</span>' in text(preview)
    assert 'data-testid="suggested-skills"' in text(boxes)
    assert boxes.context["options"].selected == {1}
    assert "Choose a category to see the skills we suggest." in text(
        client_browser.get(reverse("jobs:skill_suggestions"), {"mode": "preview"})
    )
    assert nothing.status_code == 200


def test_draft_edits_are_folded_in_the_history(client_browser, client_user):
    job = make_job(client_user, publish=False)
    services.job_update(actor=client_user, job_id=job.pk, data=job_input(size="large"))
    services.job_update(actor=client_user, job_id=job.pk, data=job_input(size="large", freelancers_needed=2))
    services.job_publish(actor=client_user, job_id=job.pk)
    services.job_update(actor=client_user, job_id=job.pk, data=job_input(size="small", freelancers_needed=2))

    response = client_browser.get(url("jobs:detail", job))

    rows = response.context["page"].history
    assert [(row.event.kind, len(row.draft_edits)) for row in rows] == [
        ("created", 0),
        ("edited", 2),
        ("published", 0),
        ("edited", 0),
    ]
    assert [c.label for edit in rows[1].draft_edits for c in edit.changes] == [
        "Project size",
        "Freelancers to hire",
    ]
    body = text(response)
    assert "Edited while a draft" in body
    assert "2 saves, last" in body
    assert "Project size: <del>Large: larger or more complex</del> → Small: quick and straightforward" in body
