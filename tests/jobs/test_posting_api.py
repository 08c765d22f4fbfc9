"""The posting API under /api/v1/jobs/: create, read, edit, publish, close, reopen, flag,
and the client's own jobs. Errors answer the {"message", "code", "extra"} envelope."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import ContentFlag, Skill, Subcategory, User
from jobs import services
from jobs.models import Job, JobEvent
from jobs.selectors_posting import DRAFT_DESCRIPTION, DRAFT_FIXED_BUDGET_CENTS
from jobs.services import JobInput
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {"message", "code", "extra"}
DESCRIPTION = "We need a small booking website built with Django and PostgreSQL, with card payments."


def authed(user: User) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)
    return body


def api_url(name: str, job: Job | None = None) -> str:
    return reverse(name, kwargs={"public_id": job.public_id} if job else None)


def document(**overrides) -> dict:
    python = Skill.objects.get(name="Python")
    data = {
        "title": "Build a Django booking site",
        "description": DESCRIPTION,
        "category_id": python.subcategory.category_id,
        "subcategory_id": python.subcategory_id,
        "skill_ids": [python.pk],
        "budget_type": "hourly",
        "hourly_min_cents": 3000,
        "hourly_max_cents": 6000,
        "questions": ["Which booking sites have you built?"],
    }
    data.update(overrides)
    return data


# --- create -------------------------------------------------------------------------------------


def test_create_a_draft(client_user):
    response = authed(client_user).post(api_url("api_job_create"), document(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    job = Job.objects.get()
    assert body["public_id"] == job.public_id
    assert body["url"] == f"/jobs/{job.public_id}/"
    assert (body["status"], body["title"], body["budget_type"]) == (
        "draft",
        "Build a Django booking site",
        "hourly",
    )
    assert (body["hourly_min_cents"], body["hourly_max_cents"], body["fixed_budget_cents"]) == (
        3000,
        6000,
        None,
    )
    assert body["currency"] == "USD"
    assert [s["name"] for s in body["skills"]] == ["Python"]
    assert body["questions"] == ["Which booking sites have you built?"]
    assert body["subcategory"]["name"] == "Web Development"
    assert body["proposals"] == "Less than 5"
    assert body["is_owner"] is True
    assert body["owner"] == {
        "counts": {
            "proposals": 0,
            "shortlisted": 0,
            "messaged": 0,
            "hired": 0,
            "invites": 0,
            "interviewing": 0,
        },
        "close_reason": "",
        "closed_at": None,
        "reopen_deadline": None,
        "can_reopen": False,
        "missing": [],
    }
    assert job.client == client_user


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"title": ""}, "title_too_short", "title"),
        ({"description": "x" * 100_000}, "description_too_long", "description"),
        ({"hourly_min_cents": 7000, "hourly_max_cents": 3000}, "budget_min_above_max", "hourly_min"),
        ({"hourly_min_cents": -1}, "budget_out_of_range", "hourly_min"),
        ({"budget_type": "fixed", "fixed_budget_cents": 0}, "budget_out_of_range", "fixed_budget"),
        ({"questions": [f"Q{i}?" for i in range(6)]}, "too_many_questions", "questions"),
        ({"freelancers_needed": 0}, "invalid_freelancers_needed", "freelancers_needed"),
    ],
)
def test_create_refuses_bad_documents_with_the_service_code(client_user, overrides, code, field):
    response = authed(client_user).post(api_url("api_job_create"), document(**overrides), format="json")

    body = assert_envelope(response, 400, code)
    assert body["extra"]["field"] == field
    assert Job.objects.count() == 0


def test_create_refuses_eleven_skills(client_user):
    eleven = list(Skill.objects.order_by("pk").values_list("pk", flat=True)[:11])

    response = authed(client_user).post(api_url("api_job_create"), document(skill_ids=eleven), format="json")

    assert_envelope(response, 400, "too_many_skills")


def test_create_refuses_a_subcategory_of_another_category(client_user):
    python = Skill.objects.get(name="Python")
    other = Subcategory.objects.exclude(category_id=python.subcategory.category_id).first()

    response = authed(client_user).post(
        api_url("api_job_create"), document(subcategory_id=other.pk), format="json"
    )

    assert_envelope(response, 400, "category_mismatch")


def test_create_checks_the_shape_first(client_user):
    response = authed(client_user).post(
        api_url("api_job_create"), {"title": "Build a Django booking site", "size": "huge"}, format="json"
    )

    body = assert_envelope(response, 400, "validation_error")
    assert set(body["extra"]["fields"]) == {"description", "category_id", "size"}


def test_create_needs_a_client_profile(freelancer):
    response = authed(freelancer).post(api_url("api_job_create"), document(), format="json")

    assert_envelope(response, 403, "not_client")


def test_create_needs_authentication():
    # Session authentication comes first in the settings, so DRF answers 403 (no challenge).
    response = APIClient().post(api_url("api_job_create"), document(), format="json")

    assert_envelope(response, 403, "not_authenticated")


def test_a_suspended_client_is_refused(client_user, staff):
    api = authed(client_user)
    account_services.user_suspend(actor=staff, user_id=client_user.pk, reason="spam", note="")

    response = api.post(api_url("api_job_create"), document(), format="json")

    assert_envelope(response, 403, "account_suspended")


# --- read ----------------------------------------------------------------------------------------


def test_anyone_reads_an_open_public_job(client_user):
    job = make_job(client_user)
    Job.objects.filter(pk=job.pk).update(proposals_count=23, invites_count=2)

    response = APIClient().get(api_url("api_job_detail", job))

    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["status"], body["proposals"], body["invites_sent"]) == (
        "Build a Django booking site",
        "open",
        "20 to 50",
        2,
    )
    assert body["is_owner"] is False
    assert body["owner"] is None
    assert body["client"]["jobs_posted"] == 1
    assert body["client"]["hire_rate_percent"] == 0
    assert body["client"]["rating"] is None


def test_attachments_have_their_url(client_user):
    job = make_job(client_user)
    services.job_add_attachment(
        actor=client_user, job_id=job.pk, upload=SimpleUploadedFile("brief.txt", b"hi\n")
    )

    body = APIClient().get(api_url("api_job_detail", job)).json()

    [attachment] = body["attachments"]
    assert attachment["name"] == "brief.txt"
    assert attachment["size_bytes"] == 3
    assert attachment["url"].startswith("http://testserver/media/jobs/")


@pytest.mark.parametrize("visibility", ["draft", "invite_only"])
def test_drafts_and_invite_only_jobs_are_404_for_others(client_user, freelancer, visibility):
    if visibility == "draft":
        job = make_job(client_user, publish=False)
    else:
        job = make_job(client_user, visibility=Job.Visibility.INVITE_ONLY)

    assert_envelope(APIClient().get(api_url("api_job_detail", job)), 404, "not_found")
    assert_envelope(authed(freelancer).get(api_url("api_job_detail", job)), 404, "not_found")
    assert authed(client_user).get(api_url("api_job_detail", job)).status_code == 200


def test_an_unknown_job_is_404():
    assert_envelope(APIClient().get("/api/v1/jobs/~02nothinghere/"), 404, "not_found")


# --- edit ---------------------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_logs_them(client_user):
    job = make_job(client_user, questions=["Which booking sites have you built?"])

    response = authed(client_user).patch(
        api_url("api_job_detail", job),
        {"title": "Build a Django booking website", "freelancers_needed": 2},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["freelancers_needed"], body["questions"]) == (
        "Build a Django booking website",
        2,
        ["Which booking sites have you built?"],
    )
    assert job.events.get(kind=JobEvent.Kind.EDITED).changes == {
        "title": ["Build a Django booking site", "Build a Django booking website"],
        "freelancers_needed": ["1", "2"],
    }


def test_patch_switches_the_budget_type(client_user):
    job = make_job(client_user)

    response = authed(client_user).patch(
        api_url("api_job_detail", job),
        {"budget_type": "hourly", "hourly_min_cents": 2000, "hourly_max_cents": 4000},
        format="json",
    )

    body = response.json()
    assert (
        body["budget_type"],
        body["hourly_min_cents"],
        body["hourly_max_cents"],
        body["fixed_budget_cents"],
    ) == (
        "hourly",
        2000,
        4000,
        None,
    )


def test_patch_errors(client_user):
    job = make_job(client_user)
    api = authed(client_user)

    assert_envelope(
        api.patch(
            api_url("api_job_detail", job),
            {"hourly_min_cents": 9000, "budget_type": "hourly", "hourly_max_cents": 3000},
            format="json",
        ),
        400,
        "budget_min_above_max",
    )
    assert_envelope(
        api.patch(api_url("api_job_detail", job), {"skill_ids": "all"}, format="json"),
        400,
        "validation_error",
    )
    job.refresh_from_db()
    assert job.budget_type == "fixed"


def test_patch_by_another_client_is_404(client_user):
    job = make_job(client_user)

    response = authed(factories.make_client()).patch(
        api_url("api_job_detail", job), {"title": "Mine now, thank you"}, format="json"
    )

    assert_envelope(response, 404, "not_found")
    job.refresh_from_db()
    assert job.title == "Build a Django booking site"


def test_patch_needs_authentication(client_user):
    job = make_job(client_user)

    assert_envelope(
        APIClient().patch(api_url("api_job_detail", job), {"title": "Anonymous edit"}, format="json"),
        403,
        "not_authenticated",
    )


def test_patch_a_closed_job_is_refused(client_user):
    job = make_job(client_user)
    services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.HIRED)

    response = authed(client_user).patch(
        api_url("api_job_detail", job), {"title": "Closed but edited"}, format="json"
    )

    assert_envelope(response, 400, "not_editable")


# --- lifecycle ---------------------------------------------------------------------------------------


def test_publish_close_reopen(client_user):
    job = make_job(client_user, publish=False)
    api = authed(client_user)

    published = api.post(api_url("api_job_publish", job))
    closed = api.post(api_url("api_job_close", job), {"reason": "no_good_proposals"}, format="json")
    reopened = api.post(api_url("api_job_reopen", job))

    assert published.status_code == 200 and published.json()["status"] == "open"
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["owner"]["close_reason"] == "no_good_proposals"
    assert closed.json()["owner"]["can_reopen"] is True
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert list(job.events.order_by("id").values_list("kind", flat=True)) == [
        "created",
        "published",
        "closed",
        "reopened",
    ]


def test_publish_twice_is_refused(client_user):
    job = make_job(client_user)

    body = assert_envelope(
        authed(client_user).post(api_url("api_job_publish", job)), 400, "illegal_transition"
    )

    assert body["extra"] == {"from": "open", "to": "open"}


def test_publish_a_closed_job_is_refused(client_user):
    job = make_job(client_user)
    services.job_close(actor=client_user, job_id=job.pk, reason=Job.CloseReason.HIRED)

    assert_envelope(authed(client_user).post(api_url("api_job_publish", job)), 400, "illegal_transition")
    job.refresh_from_db()
    assert job.status == Job.Status.CLOSED


def test_publish_an_unfinished_wizard_draft_is_refused(client_user):
    python = Skill.objects.get(name="Python")
    job = services.job_create(
        actor=client_user,
        data=JobInput(
            title="Build a Django booking site",
            description=DRAFT_DESCRIPTION,
            category_id=python.subcategory.category_id,
            fixed_budget_cents=DRAFT_FIXED_BUDGET_CENTS,
        ),
    )

    body = assert_envelope(authed(client_user).post(api_url("api_job_publish", job)), 400, "job_incomplete")

    assert body["extra"] == {"missing": ["skills", "details"]}


def test_close_needs_a_valid_reason(client_user):
    job = make_job(client_user)
    api = authed(client_user)

    assert_envelope(api.post(api_url("api_job_close", job), {}, format="json"), 400, "validation_error")
    assert_envelope(
        api.post(api_url("api_job_close", job), {"reason": "removed_by_staff"}, format="json"),
        400,
        "validation_error",
    )
    job.refresh_from_db()
    assert job.status == Job.Status.OPEN


def test_close_a_draft_is_refused(client_user):
    job = make_job(client_user, publish=False)

    response = authed(client_user).post(api_url("api_job_close", job), {"reason": "hired"}, format="json")

    assert_envelope(response, 400, "illegal_transition")


@pytest.mark.parametrize("publish", [True, False])
def test_reopen_a_job_that_is_not_closed_is_refused(client_user, publish):
    job = make_job(client_user, publish=publish)

    assert_envelope(authed(client_user).post(api_url("api_job_reopen", job)), 400, "illegal_transition")


@pytest.mark.parametrize("name", ["api_job_publish", "api_job_close", "api_job_reopen"])
def test_lifecycle_of_another_clients_job_is_404(client_user, name):
    job = make_job(client_user, publish=name != "api_job_publish")

    response = authed(factories.make_client()).post(api_url(name, job), {"reason": "hired"}, format="json")

    assert_envelope(response, 404, "not_found")


# --- flags ----------------------------------------------------------------------------------------------


def test_flag(client_user, freelancer):
    job = make_job(client_user)

    response = authed(freelancer).post(
        api_url("api_job_flag", job), {"reason": "spam", "note": "Ads"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["reason"] == "spam"
    assert list(ContentFlag.objects.values_list("reporter_id", "reason", "note")) == [
        (freelancer.pk, "spam", "Ads")
    ]


def test_flag_errors(client_user, freelancer):
    job = make_job(client_user)
    draft = make_job(client_user, publish=False)

    assert_envelope(
        authed(client_user).post(api_url("api_job_flag", job), {"reason": "spam"}, format="json"),
        400,
        "own_job",
    )
    assert_envelope(
        authed(freelancer).post(api_url("api_job_flag", job), {"reason": "boring"}, format="json"),
        400,
        "validation_error",
    )
    assert_envelope(
        authed(freelancer).post(api_url("api_job_flag", draft), {"reason": "spam"}, format="json"),
        404,
        "not_found",
    )
    assert_envelope(
        APIClient().post(api_url("api_job_flag", job), {"reason": "spam"}, format="json"),
        403,
        "not_authenticated",
    )
    assert ContentFlag.objects.count() == 0


# --- my jobs ------------------------------------------------------------------------------------------------


def test_my_jobs_with_counts_and_tabs(client_user, published_freelancer):
    draft = make_job(client_user, publish=False, title="A draft about Django")
    live = make_job(client_user, title="An open job about Django")
    services.invitation_send(
        actor=client_user, job_id=live.pk, freelancer_id=published_freelancer.pk, message="Hi!"
    )
    make_job(factories.make_client(), title="Somebody else's job")
    api = authed(client_user)

    everything = api.get(api_url("api_jobs_mine")).json()
    drafts = api.get(api_url("api_jobs_mine"), {"tab": "drafts"}).json()

    assert [row["public_id"] for row in everything["results"]] == [live.public_id, draft.public_id]
    assert everything["results"][0]["counts"] == {
        "proposals": 0,
        "shortlisted": 0,
        "messaged": 0,
        "hired": 0,
        "invites": 1,
        "interviewing": 0,
    }
    assert everything["results"][0]["category"] == "Web, Mobile & Software Dev"
    assert [row["public_id"] for row in drafts["results"]] == [draft.public_id]


def test_my_jobs_errors(freelancer, client_user):
    assert_envelope(authed(freelancer).get(api_url("api_jobs_mine")), 403, "not_client")
    assert_envelope(authed(client_user).get(api_url("api_jobs_mine"), {"tab": "all"}), 400, "invalid_choice")
    assert_envelope(APIClient().get(api_url("api_jobs_mine")), 403, "not_authenticated")


def test_the_schema_documents_the_posting_endpoints(client):
    response = client.get(reverse("schema"), {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/jobs/create/",
        "/api/v1/jobs/mine/",
        "/api/v1/jobs/{public_id}/",
        "/api/v1/jobs/{public_id}/publish/",
        "/api/v1/jobs/{public_id}/close/",
        "/api/v1/jobs/{public_id}/reopen/",
        "/api/v1/jobs/{public_id}/flag/",
    ):
        assert path in paths
    assert "400" in paths["/api/v1/jobs/create/"]["post"]["responses"]
