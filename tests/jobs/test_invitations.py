"""Invitations: a client invites a freelancer to an open job, the freelancer accepts or
declines, unanswered invitations expire after 14 days. Through the HTML views, the API,
the selectors of ``jobs.talent`` and the beat task. State is built with the real services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts.models import User, Visibility
from jobs import services, talent, tasks
from jobs.models import Invitation, Job
from tests import factories
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
MESSAGE = "Hi, your profile fits my job well. Would you send a proposal?"


def authed(user: User) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def invite(job: Job, freelancer: User, message: str = MESSAGE) -> Invitation:
    return services.invitation_send(
        actor=job.client, job_id=job.pk, freelancer_id=freelancer.pk, message=message
    )


def status_of(invitation: Invitation) -> str:
    invitation.refresh_from_db()
    return invitation.status


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.fixture
def talent_user(db) -> User:
    return factories.make_published_freelancer(first_name="Ada", last_name="Lovelace")


# --- invite page (client) -------------------------------------------------------------------------


def test_invite_page_shows_the_freelancer_and_a_default_message(client, client_user, open_job, talent_user):
    client.force_login(client_user)

    response = client.get(f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk})

    html = text(response)
    assert response.status_code == 200
    assert "Invite Ada L. to your job" in html
    assert talent_user.freelancer_profile.public_id in html
    assert (
        "Hi Ada, I&#x27;d like to invite you to submit a proposal for my job Build a Django booking site."
        in html
    )
    assert f'action="/jobs/{open_job.public_id}/invite/?freelancer={talent_user.pk}"' in html
    assert 'data-testid="invite-button"' not in html


def test_sending_an_invitation_from_the_page(client, client_user, open_job, talent_user):
    client.force_login(client_user)

    response = client.post(
        f"/jobs/{open_job.public_id}/invite/?freelancer={talent_user.pk}",
        {"freelancer": talent_user.pk, "message": MESSAGE},
    )

    invitation = Invitation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{open_job.public_id}/"
    assert messages_of(response) == ["Invitation sent to Ada L.: they have 14 days to answer."]
    assert (invitation.job_id, invitation.freelancer_id, invitation.client_id) == (
        open_job.pk,
        talent_user.pk,
        client_user.pk,
    )
    assert invitation.message == MESSAGE
    assert invitation.status == Invitation.Status.PENDING


def test_inviting_twice_shows_a_clear_error_on_the_form(client, client_user, open_job, talent_user):
    invite(open_job, talent_user)
    client.force_login(client_user)

    page = client.get(f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk})
    response = client.post(
        f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk, "message": MESSAGE}
    )

    assert 'data-testid="already-invited"' in text(page)
    assert response.status_code == 400
    assert "Ada L. is already invited to this job." in text(response)
    assert Invitation.objects.count() == 1


def test_a_blank_message_is_a_form_error(client, client_user, open_job, talent_user):
    client.force_login(client_user)

    response = client.post(
        f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk, "message": " "}
    )

    assert response.status_code == 400
    assert "This field is required." in text(response)
    assert not Invitation.objects.exists()


def test_inviting_to_a_closed_job_shows_the_services_error(client, client_user, open_job, talent_user):
    services.job_close(actor=client_user, job_id=open_job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    client.force_login(client_user)

    page = client.get(f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk})
    response = client.post(
        f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk, "message": MESSAGE}
    )

    assert "This job is closed: only open jobs can invite freelancers." in text(page)
    assert response.status_code == 400
    assert "Publish the job before inviting freelancers." in text(response)
    assert not Invitation.objects.exists()


def test_invite_page_is_404_for_anyone_but_the_jobs_owner(client, open_job, talent_user):
    other_client = factories.make_client()

    for viewer in (other_client, talent_user):
        client.force_login(viewer)
        get = client.get(f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk})
        post = client.post(
            f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk, "message": MESSAGE}
        )
        assert (get.status_code, post.status_code) == (404, 404)
    assert not Invitation.objects.exists()


def test_invite_page_needs_a_login(client, open_job, talent_user):
    response = client.get(f"/jobs/{open_job.public_id}/invite/", {"freelancer": talent_user.pk})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_invite_page_is_404_for_an_unknown_hidden_or_own_freelancer(client, client_user, open_job):
    hidden = factories.make_published_freelancer()
    accounts_services.freelancer_profile_update(actor=hidden, visibility=Visibility.PRIVATE)
    client.force_login(client_user)

    for user_id in (999999, hidden.pk, client_user.pk):
        response = client.get(f"/jobs/{open_job.public_id}/invite/", {"freelancer": user_id})
        assert response.status_code == 404


def test_invite_page_without_a_freelancer_sends_the_client_to_talent_search(client, client_user, open_job):
    client.force_login(client_user)

    response = client.get(f"/jobs/{open_job.public_id}/invite/")

    assert response.status_code == 302
    assert response["Location"] == f"/talent/?job={open_job.public_id}"
    assert messages_of(response) == ["Choose a freelancer to invite to your job."]


# --- picking the job ------------------------------------------------------------------------------


def test_pick_page_lists_open_jobs_and_leaves_out_the_ones_already_invited_to(
    client, client_user, talent_user
):
    first = make_job(client_user, title="First open job here")
    second = make_job(client_user, title="Second open job here")
    make_job(client_user, publish=False, title="A draft job not listed")
    invite(first, talent_user)
    client.force_login(client_user)

    response = client.get(f"/talent/invite/{talent_user.pk}/")

    html = text(response)
    assert response.status_code == 200
    assert f'value="{second.public_id}"' in html
    assert f'value="{first.public_id}"' not in html
    assert "Already invited to" in html
    assert "A draft job not listed" not in html


def test_picking_a_job_leads_to_its_invite_page(client, client_user, talent_user):
    job = make_job(client_user)
    make_job(client_user, title="Another open job")
    client.force_login(client_user)

    response = client.get(f"/talent/invite/{talent_user.pk}/", {"job": job.public_id})

    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.public_id}/invite/?freelancer={talent_user.pk}"


def test_picking_someone_elses_job_is_a_form_error(client, client_user, talent_user):
    make_job(client_user)
    foreign = make_job(factories.make_client(), title="Somebody else's job")
    client.force_login(client_user)

    response = client.get(f"/talent/invite/{talent_user.pk}/", {"job": foreign.public_id})

    assert response.status_code == 400
    assert "Choose one of your open jobs." in text(response)


def test_pick_page_without_open_jobs_shows_an_empty_state(client, talent_user):
    client.force_login(factories.make_client())

    response = client.get(f"/talent/invite/{talent_user.pk}/")

    assert 'data-testid="no-open-jobs"' in text(response)
    assert 'href="/jobs/new/"' in text(response)


# --- the freelancer's invitations -----------------------------------------------------------------


def test_invitations_page_groups_pending_accepted_and_closed(client, talent_user):
    with time_machine.travel(NOW, tick=False) as traveller:
        pending = invite(make_job(title="Pending invitation job"), talent_user)
        accepted = invite(make_job(title="Accepted invitation job"), talent_user)
        services.invitation_accept(actor=talent_user, invitation_id=accepted.pk)
        declined = invite(make_job(title="Declined invitation job"), talent_user)
        services.invitation_decline(actor=talent_user, invitation_id=declined.pk, reason="too_busy")
        traveller.shift(timedelta(days=3, hours=1))
        client.force_login(talent_user)

        response = client.get("/invitations/")

    html = text(response)
    assert response.status_code == 200
    assert html.count('data-testid="pending-invitation"') == 1
    assert html.count('data-testid="accepted-invitation"') == 1
    assert html.count('data-testid="closed-invitation"') == 1
    assert "Expires in 11 days" in html
    assert f'href="/invitations/{pending.pk}/"' in html
    assert "Declined: Too busy right now" in html


def test_invitations_page_shows_past_due_invitations_as_expired(client, talent_user):
    with time_machine.travel(NOW, tick=False) as traveller:
        invite(make_job(), talent_user)
        traveller.shift(timedelta(days=14, minutes=1))
        client.force_login(talent_user)

        html = text(client.get("/invitations/"))

    assert 'data-testid="pending-invitation"' not in html
    assert "Expired" in html
    assert html.count('data-testid="closed-invitation"') == 1


def test_invitations_page_empty_state(client, talent_user):
    client.force_login(talent_user)

    html = text(client.get("/invitations/"))

    assert 'data-testid="no-pending"' in html
    assert "None yet." in html


def test_inbox_selector_counts_days_left_rounded_up():
    freelancer = factories.make_published_freelancer()
    with time_machine.travel(NOW, tick=False) as traveller:
        invite(make_job(), freelancer)
        traveller.shift(timedelta(days=13, hours=23))
        last_hour = talent.invitation_inbox(user=freelancer)
        traveller.move_to(NOW)
        fresh = talent.invitation_inbox(user=freelancer)

    assert [row.days_left for row in fresh.pending] == [14]
    assert [row.days_left for row in last_hour.pending] == [1]


def test_invitation_detail_shows_the_job_the_message_and_both_answers(client, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    client.force_login(talent_user)

    response = client.get(f"/invitations/{invitation.pk}/")

    html = text(response)
    assert response.status_code == 200
    assert "Build a Django booking site" in html
    assert "Would you send a proposal?" in html
    assert "Fixed price: $1,500.00" in html
    assert f'action="/invitations/{invitation.pk}/accept/"' in html
    assert f'action="/invitations/{invitation.pk}/decline/"' in html
    assert '<label class="form-label" for="id_reason">Reason' in html


def test_the_client_sees_the_invitation_read_only(client, client_user, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    client.force_login(client_user)

    html = text(client.get(f"/invitations/{invitation.pk}/"))

    assert "You sent this invitation to Ada L.; they answer here." in html
    assert 'data-testid="accept"' not in html


def test_someone_elses_invitation_is_404_everywhere(client, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    other = factories.make_published_freelancer()
    client.force_login(other)

    responses = [
        client.get(f"/invitations/{invitation.pk}/"),
        client.post(f"/invitations/{invitation.pk}/accept/"),
        client.post(f"/invitations/{invitation.pk}/decline/", {"reason": "too_busy"}),
        client.post(f"/invitations/{invitation.pk}/decline/", {"reason": ""}),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert status_of(invitation) == Invitation.Status.PENDING


def test_the_client_cannot_answer_their_own_invitation(client, client_user, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    client.force_login(client_user)

    accept = client.post(f"/invitations/{invitation.pk}/accept/")
    decline = client.post(f"/invitations/{invitation.pk}/decline/", {"reason": "too_busy"})

    assert (accept.status_code, decline.status_code) == (404, 404)
    assert status_of(invitation) == Invitation.Status.PENDING


def test_accepting_goes_to_the_job_page_with_a_message(client, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    client.force_login(talent_user)

    response = client.post(f"/invitations/{invitation.pk}/accept/")

    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{open_job.public_id}/apply/"
    assert messages_of(response) == ["Invitation accepted. Send your proposal: it costs no Connects."]
    assert status_of(invitation) == Invitation.Status.ACCEPTED


def test_accepting_twice_says_it_is_already_accepted(client, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    services.invitation_accept(actor=talent_user, invitation_id=invitation.pk)
    client.force_login(talent_user)

    response = client.post(f"/invitations/{invitation.pk}/accept/")

    assert response["Location"] == f"/invitations/{invitation.pk}/"
    assert messages_of(response) == ["This invitation is already accepted."]


def test_accepting_an_expired_invitation_is_refused_clearly(client, open_job, talent_user):
    with time_machine.travel(NOW, tick=False) as traveller:
        invitation = invite(open_job, talent_user)
        traveller.shift(timedelta(days=15))
        client.force_login(talent_user)

        detail = client.get(f"/invitations/{invitation.pk}/")
        response = client.post(f"/invitations/{invitation.pk}/accept/")

    assert 'data-testid="invitation-expired"' in text(detail)
    assert 'data-testid="accept"' not in text(detail)
    assert response.status_code == 302
    assert response["Location"] == f"/invitations/{invitation.pk}/"
    assert messages_of(response) == ["This invitation has expired."]
    assert status_of(invitation) != Invitation.Status.ACCEPTED


def test_declining_with_a_reason_and_a_note(client, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    client.force_login(talent_user)

    response = client.post(
        f"/invitations/{invitation.pk}/decline/", {"reason": "budget_too_low", "note": "  Maybe next time. "}
    )

    invitation.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == "/invitations/"
    assert messages_of(response) == ["Invitation declined. The client sees your reason."]
    assert (invitation.status, invitation.decline_reason, invitation.decline_note) == (
        Invitation.Status.DECLINED,
        "budget_too_low",
        "Maybe next time.",
    )


def test_declining_without_a_reason_is_a_form_error(client, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    client.force_login(talent_user)

    response = client.post(f"/invitations/{invitation.pk}/decline/", {"reason": "", "note": "no"})

    assert response.status_code == 400
    assert "This field is required." in text(response)
    assert status_of(invitation) == Invitation.Status.PENDING


def test_a_suspended_freelancer_is_refused(client, staff, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    client.force_login(talent_user)
    accounts_services.user_suspend(actor=staff, user_id=talent_user.pk, reason="spam")

    response = client.post(f"/invitations/{invitation.pk}/accept/")

    assert response.status_code == 403
    assert status_of(invitation) == Invitation.Status.PENDING


# --- selectors for the job page -------------------------------------------------------------------


def test_invitations_for_job_lists_them_for_the_owner_only(client_user, open_job, talent_user):
    second = factories.make_published_freelancer()
    first_invitation = invite(open_job, talent_user)
    second_invitation = invite(open_job, second)

    owner_view = talent.invitations_for_job(job=open_job, viewer=client_user)

    assert [i.pk for i in owner_view] == [second_invitation.pk, first_invitation.pk]
    assert talent.invitations_for_job(job=open_job, viewer=talent_user) == []
    assert talent.invitations_for_job(job=open_job, viewer=factories.make_client()) == []
    assert talent.invitations_for_job(job=open_job, viewer=AnonymousUser()) == []
    assert talent.invitations_for_job(job=open_job, viewer=None) == []


def test_invitations_for_job_costs_one_query(client_user, open_job, django_assert_num_queries):
    for _ in range(3):
        invite(open_job, factories.make_published_freelancer())

    with django_assert_num_queries(1):
        rows = talent.invitations_for_job(job=open_job, viewer=client_user)
        names = [(i.freelancer.display_name, i.freelancer.freelancer_profile.public_id) for i in rows]

    assert len(names) == 3


# --- the API ----------------------------------------------------------------------------------------


def test_api_send_by_public_id(client_user, open_job, talent_user):
    response = authed(client_user).post(
        f"/api/v1/jobs/{open_job.public_id}/invitations/",
        {"freelancer_public_id": talent_user.freelancer_profile.public_id, "message": MESSAGE},
        format="json",
    )

    invitation = Invitation.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": invitation.pk,
        "status": "pending",
        "job": {"public_id": open_job.public_id, "title": open_job.title, "status": "open"},
        "client_name": client_user.display_name,
        "freelancer_public_id": talent_user.freelancer_profile.public_id,
        "freelancer_name": "Ada L.",
        "message": MESSAGE,
        "created_at": invitation.created_at.isoformat().replace("+00:00", "Z"),
        "expires_at": invitation.expires_at.isoformat().replace("+00:00", "Z"),
        "responded_at": None,
        "decline_reason": "",
        "decline_note": "",
    }
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)


def test_api_send_by_user_id_and_a_duplicate_is_a_clear_400(client_user, open_job, talent_user):
    api = authed(client_user)
    url = f"/api/v1/jobs/{open_job.public_id}/invitations/"

    first = api.post(url, {"freelancer_id": talent_user.pk, "message": MESSAGE}, format="json")
    again = api.post(url, {"freelancer_id": talent_user.pk, "message": MESSAGE}, format="json")

    assert first.status_code == 201
    assert again.status_code == 400
    assert again.json() == {
        "message": "Ada L. is already invited to this job.",
        "code": "already_invited",
        "extra": {},
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"message": MESSAGE},
        {"freelancer_id": 1, "freelancer_public_id": "~abc", "message": MESSAGE},
        {"freelancer_id": 1, "message": ""},
        {"freelancer_id": "one", "message": MESSAGE},
    ],
)
def test_api_send_with_bad_input_is_400(client_user, open_job, payload):
    response = authed(client_user).post(
        f"/api/v1/jobs/{open_job.public_id}/invitations/", payload, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert not Invitation.objects.exists()


def test_api_send_to_someone_elses_or_an_unknown_job_is_404(open_job, talent_user):
    api = authed(factories.make_client())
    payload = {"freelancer_id": talent_user.pk, "message": MESSAGE}

    foreign = api.post(f"/api/v1/jobs/{open_job.public_id}/invitations/", payload, format="json")
    unknown = api.post("/api/v1/jobs/~02nothere/invitations/", payload, format="json")
    no_such_freelancer = authed(open_job.client).post(
        f"/api/v1/jobs/{open_job.public_id}/invitations/",
        {"freelancer_id": 999999, "message": MESSAGE},
        format="json",
    )

    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert no_such_freelancer.status_code == 404
    assert not Invitation.objects.exists()


def test_a_freelancer_cannot_send_invitations(open_job, talent_user):
    other = factories.make_published_freelancer()

    response = authed(talent_user).post(
        f"/api/v1/jobs/{open_job.public_id}/invitations/",
        {"freelancer_id": other.pk, "message": MESSAGE},
        format="json",
    )

    assert response.status_code == 403
    assert response.json() == {"message": "Switch to hiring to post jobs.", "code": "not_client", "extra": {}}


def test_api_needs_authentication():
    anonymous = APIClient()

    responses = [
        anonymous.get("/api/v1/invitations/"),
        anonymous.post("/api/v1/invitations/1/accept/"),
        anonymous.post("/api/v1/invitations/1/decline/", {"reason": "too_busy"}),
        anonymous.post("/api/v1/jobs/~02x/invitations/", {"freelancer_id": 1, "message": "hi"}),
    ]

    # session authentication comes first, so DRF answers 403 rather than 401
    assert [(r.status_code, r.json()["code"]) for r in responses] == [(403, "not_authenticated")] * 4


def test_api_lists_received_and_sent_invitations(client_user, talent_user):
    with time_machine.travel(NOW, tick=False) as traveller:
        older = invite(make_job(client_user, title="The older job posted"), talent_user)
        traveller.shift(timedelta(minutes=5))
        newer = invite(make_job(client_user, title="The newer job posted"), talent_user)
        services.invitation_decline(actor=talent_user, invitation_id=newer.pk, reason="not_my_skills")
    invite(make_job(), factories.make_published_freelancer())  # someone else's

    received = authed(talent_user).get("/api/v1/invitations/").json()
    sent = authed(client_user).get("/api/v1/invitations/", {"sent": "1"}).json()
    client_received = authed(client_user).get("/api/v1/invitations/").json()
    pending = authed(talent_user).get("/api/v1/invitations/", {"status": "pending"}).json()
    bad = authed(talent_user).get("/api/v1/invitations/", {"status": "maybe"})

    assert [i["id"] for i in received["results"]] == [newer.pk, older.pk]
    assert [i["id"] for i in sent["results"]] == [newer.pk, older.pk]
    assert client_received["results"] == []
    assert [i["id"] for i in pending["results"]] == [older.pk]
    assert received["results"][0]["decline_reason"] == "not_my_skills"
    assert bad.status_code == 400


def test_api_accept_and_decline(open_job, talent_user):
    first = invite(open_job, talent_user)
    second = invite(make_job(title="Another job to decline"), talent_user)
    api = authed(talent_user)

    accepted = api.post(f"/api/v1/invitations/{first.pk}/accept/")
    declined = api.post(
        f"/api/v1/invitations/{second.pk}/decline/", {"reason": "too_busy", "note": "Booked"}, format="json"
    )
    again = api.post(f"/api/v1/invitations/{first.pk}/accept/")

    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    assert declined.status_code == 200
    assert (
        declined.json()["status"],
        declined.json()["decline_reason"],
        declined.json()["decline_note"],
    ) == (
        "declined",
        "too_busy",
        "Booked",
    )
    assert again.status_code == 400
    assert again.json()["code"] == "illegal_transition"


def test_api_decline_with_a_bad_reason_is_400(open_job, talent_user):
    invitation = invite(open_job, talent_user)

    response = authed(talent_user).post(
        f"/api/v1/invitations/{invitation.pk}/decline/", {"reason": "meh"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert status_of(invitation) == Invitation.Status.PENDING


def test_api_expired_invitation_cannot_be_accepted(open_job, talent_user):
    with time_machine.travel(NOW, tick=False) as traveller:
        invitation = invite(open_job, talent_user)
        traveller.shift(timedelta(days=14))

        response = authed(talent_user).post(f"/api/v1/invitations/{invitation.pk}/accept/")

    assert response.status_code == 400
    assert response.json() == {
        "message": "This invitation has expired.",
        "code": "invitation_expired",
        "extra": {},
    }


def test_api_someone_elses_invitation_is_404(open_job, talent_user):
    invitation = invite(open_job, talent_user)
    other = authed(factories.make_published_freelancer())

    accept = other.post(f"/api/v1/invitations/{invitation.pk}/accept/")
    decline = other.post(
        f"/api/v1/invitations/{invitation.pk}/decline/", {"reason": "too_busy"}, format="json"
    )
    by_client = authed(open_job.client).post(f"/api/v1/invitations/{invitation.pk}/accept/")

    assert [accept.status_code, decline.status_code, by_client.status_code] == [404, 404, 404]
    assert status_of(invitation) == Invitation.Status.PENDING


def test_api_refuses_a_suspended_user(staff, open_job, talent_user):
    invitation = invite(open_job, talent_user)
    api = authed(talent_user)
    client_api = authed(open_job.client)
    accounts_services.user_suspend(actor=staff, user_id=talent_user.pk, reason="spam")
    accounts_services.user_suspend(actor=staff, user_id=open_job.client_id, reason="spam")

    accept = api.post(f"/api/v1/invitations/{invitation.pk}/accept/")
    send = client_api.post(
        f"/api/v1/jobs/{open_job.public_id}/invitations/",
        {"freelancer_id": factories.make_published_freelancer().pk, "message": MESSAGE},
        format="json",
    )

    assert (accept.status_code, accept.json()["code"]) == (403, "account_suspended")
    assert (send.status_code, send.json()["code"]) == (403, "account_suspended")
    assert status_of(invitation) == Invitation.Status.PENDING
    assert Invitation.objects.count() == 1


# --- expiry -------------------------------------------------------------------------------------------


def test_expire_task_expires_invitations_pending_for_14_days_and_is_safe_to_run_twice(open_job, talent_user):
    other = factories.make_published_freelancer()
    with time_machine.travel(NOW, tick=False) as traveller:
        due = invite(open_job, talent_user)
        traveller.shift(timedelta(days=1))
        not_yet = invite(open_job, other)
        answered = invite(make_job(title="Answered before expiry"), talent_user)
        services.invitation_accept(actor=talent_user, invitation_id=answered.pk)

        traveller.move_to(NOW + timedelta(days=14))
        first_run = tasks.expire_invitations.delay().get()
        second_run = tasks.expire_invitations.delay().get()

    due.refresh_from_db()
    assert (first_run, second_run) == (1, 0)
    assert due.status == Invitation.Status.EXPIRED
    assert due.responded_at == NOW + timedelta(days=14)
    assert status_of(not_yet) == Invitation.Status.PENDING
    assert status_of(answered) == Invitation.Status.ACCEPTED


def test_expire_task_before_14_days_changes_nothing(open_job, talent_user):
    with time_machine.travel(NOW, tick=False) as traveller:
        invitation = invite(open_job, talent_user)
        traveller.shift(timedelta(days=13, hours=23, minutes=59))

        expired = tasks.expire_invitations()

    assert expired == 0
    assert status_of(invitation) == Invitation.Status.PENDING
