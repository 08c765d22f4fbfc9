"""Client teams: the invitation lifecycle, roles, and what each role may do on the team's
jobs, proposals, offers and contracts (HTML and API). Outsiders get 404, viewers 403 on
every change; money stays the owner's (an offer a hiring manager sends is the owner's)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import teams
from accounts.models import ClientProfile, InvitationStatus, TeamInvitation, TeamMembership, TeamRole, User
from contracts import services as contract_services
from contracts.models import Offer
from jobs import services as job_services
from jobs.models import Job, JobEvent
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from messaging.models import Participant
from proposals.models import Proposal
from tests import factories
from tests.contracts.conftest import fixed_input, make_proposal
from tests.jobs.conftest import job_input

pytestmark = pytest.mark.django_db


def browser(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def api(user: User) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def invite_and_join(owner: User, team_id: int, user: User, role: str) -> TeamMembership:
    _invitation, token = teams.member_invite(actor=owner, team_id=team_id, email=user.email, role=role)
    return teams.invitation_accept(actor=user, token=token)


@pytest.fixture
def owner(db) -> User:
    return factories.make_client(first_name="Olga", last_name="Owner")


@pytest.fixture
def team(owner):
    return teams.team_create(actor=owner, name="Acme hiring")


@pytest.fixture
def manager(team, owner) -> User:
    user = factories.make_client(first_name="Hana", last_name="Manager")
    invite_and_join(owner, team.pk, user, TeamRole.HIRING_MANAGER)
    return user


@pytest.fixture
def viewer(team, owner) -> User:
    user = factories.make_client(first_name="Vic", last_name="Viewer")
    invite_and_join(owner, team.pk, user, TeamRole.VIEWER)
    return user


@pytest.fixture
def outsider(db) -> User:
    return factories.make_client(first_name="Otto", last_name="Outsider")


@pytest.fixture
def team_job(team, manager) -> Job:
    """An open job a hiring manager posted for the team."""
    job = job_services.job_create(actor=manager, data=job_input(), team_id=team.pk)
    job_services.job_publish(actor=manager, job_id=job.pk)
    job.refresh_from_db()
    return job


@pytest.fixture
def proposal(team_job) -> Proposal:
    return make_proposal(team_job)


# --- the team and its invitations ---------------------------------------------------------------


def test_creating_a_team_makes_the_creator_its_owner(owner, team):
    membership = TeamMembership.objects.get(team=team)

    assert (team.owner, team.name) == (owner, "Acme hiring")
    assert (membership.user, membership.role) == (owner, TeamRole.OWNER)


def test_only_a_client_creates_a_team_and_the_name_is_checked(owner):
    freelancer = factories.make_freelancer()

    with pytest.raises(PermissionDeniedError):
        teams.team_create(actor=freelancer, name="Solo team")
    with pytest.raises(ApplicationError) as error:
        teams.team_create(actor=owner, name=" x ")
    assert error.value.code == "name_required"
    with pytest.raises(ApplicationError) as error:
        teams.team_create(actor=owner, name="n" * 101)
    assert error.value.code == "name_too_long"


def test_an_invitation_stores_only_the_token_hash_and_emails_the_link(
    owner, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = teams.member_invite(
            actor=owner, team_id=team.pk, email=" New.Person@Example.com ", role=TeamRole.HIRING_MANAGER
        )

    assert invitation.email == "new.person@example.com"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not TeamInvitation.objects.filter(token_hash=token).exists()
    assert timedelta(days=13, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=14)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert reverse("accounts:team_invitation", kwargs={"token": token}) in mail.outbox[0].body


def test_invitations_refuse_bad_input_and_duplicates(owner, team, manager):
    cases = [
        ({"email": "not-an-email", "role": TeamRole.VIEWER}, "invalid_email"),
        ({"email": "a@example.com", "role": TeamRole.OWNER}, "invalid_role"),
        ({"email": "a@example.com", "role": "boss"}, "invalid_role"),
        ({"email": manager.email, "role": TeamRole.VIEWER}, "already_member"),
    ]
    for values, code in cases:
        with pytest.raises(ApplicationError) as error:
            teams.member_invite(actor=owner, team_id=team.pk, **values)
        assert error.value.code == code
    teams.member_invite(actor=owner, team_id=team.pk, email="b@example.com", role=TeamRole.VIEWER)
    with pytest.raises(ApplicationError) as error:
        teams.member_invite(actor=owner, team_id=team.pk, email="B@example.com", role=TeamRole.VIEWER)
    assert error.value.code == "already_invited"


def test_only_the_owner_invites(team, manager, outsider):
    with pytest.raises(PermissionDeniedError):
        teams.member_invite(actor=manager, team_id=team.pk, email="x@example.com", role=TeamRole.VIEWER)
    with pytest.raises(NotFoundError):
        teams.member_invite(actor=outsider, team_id=team.pk, email="x@example.com", role=TeamRole.VIEWER)


def test_accepting_needs_the_invited_email_and_gives_a_client_profile(owner, team):
    freelancer = factories.make_freelancer()
    _invitation, token = teams.member_invite(
        actor=owner, team_id=team.pk, email=freelancer.email, role=TeamRole.VIEWER
    )
    with pytest.raises(NotFoundError):
        teams.invitation_accept(actor=factories.make_client(), token=token)
    assert not ClientProfile.objects.filter(user=freelancer).exists()

    membership = teams.invitation_accept(actor=freelancer, token=token)

    assert (membership.team, membership.role) == (team, TeamRole.VIEWER)
    assert ClientProfile.objects.filter(user=freelancer).exists()
    invitation = TeamInvitation.objects.get(team=team, email=freelancer.email)
    assert (invitation.status, invitation.accepted_by) == (InvitationStatus.ACCEPTED, freelancer)
    with pytest.raises(ApplicationError) as error:
        teams.invitation_accept(actor=freelancer, token=token)
    assert error.value.code == "illegal_transition"


def test_an_expired_invitation_is_marked_and_refused(owner, team):
    user = factories.make_client()
    invitation, token = teams.member_invite(
        actor=owner, team_id=team.pk, email=user.email, role=TeamRole.VIEWER
    )
    TeamInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(ApplicationError) as error:
        teams.invitation_accept(actor=user, token=token)

    assert error.value.code == "invitation_expired"
    assert TeamInvitation.objects.get(pk=invitation.pk).status == InvitationStatus.EXPIRED
    assert not TeamMembership.objects.filter(team=team, user=user).exists()
    # an expired invitation no longer blocks a new one
    teams.member_invite(actor=owner, team_id=team.pk, email=user.email, role=TeamRole.VIEWER)


def test_a_revoked_invitation_cannot_be_accepted_and_a_declined_one_is_closed(owner, team, manager):
    user = factories.make_client()
    invitation, token = teams.member_invite(
        actor=owner, team_id=team.pk, email=user.email, role=TeamRole.VIEWER
    )
    with pytest.raises(PermissionDeniedError):
        teams.invitation_revoke(actor=manager, invitation_id=invitation.pk)
    teams.invitation_revoke(actor=owner, invitation_id=invitation.pk)
    with pytest.raises(ApplicationError) as error:
        teams.invitation_accept(actor=user, token=token)
    assert error.value.code == "illegal_transition"

    again, _ = teams.member_invite(actor=owner, team_id=team.pk, email=user.email, role=TeamRole.VIEWER)
    teams.invitation_decline(actor=user, invitation_id=again.pk)
    assert TeamInvitation.objects.get(pk=again.pk).status == InvitationStatus.DECLINED
    assert not TeamMembership.objects.filter(team=team, user=user).exists()


def test_roles_change_members_leave_and_the_owner_stays(owner, team, manager, viewer):
    teams.member_role_change(actor=owner, team_id=team.pk, user_id=viewer.pk, role=TeamRole.HIRING_MANAGER)
    assert TeamMembership.objects.get(team=team, user=viewer).role == TeamRole.HIRING_MANAGER
    with pytest.raises(ApplicationError) as error:
        teams.member_role_change(actor=owner, team_id=team.pk, user_id=owner.pk, role=TeamRole.VIEWER)
    assert error.value.code == "owner_role"
    with pytest.raises(PermissionDeniedError):
        teams.member_role_change(actor=manager, team_id=team.pk, user_id=viewer.pk, role=TeamRole.VIEWER)
    with pytest.raises(ApplicationError) as error:
        teams.member_remove(actor=owner, team_id=team.pk, user_id=owner.pk)
    assert error.value.code == "owner_role"
    with pytest.raises(ApplicationError):
        teams.team_leave(actor=owner, team_id=team.pk)

    teams.team_leave(actor=viewer, team_id=team.pk)
    teams.member_remove(actor=owner, team_id=team.pk, user_id=manager.pk)

    assert list(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True)) == [owner.pk]


# --- posting and the permission table ---------------------------------------------------------


def test_a_hiring_manager_posts_for_the_team_and_the_owner_is_the_client(team, owner, manager, team_job):
    assert (team_job.client, team_job.team, team_job.status) == (owner, team, Job.Status.OPEN)
    created = JobEvent.objects.get(job=team_job, kind=JobEvent.Kind.CREATED)
    assert created.actor == manager
    assert ClientProfile.objects.get(user=owner).jobs_posted_count == 1
    assert ClientProfile.objects.get(user=manager).jobs_posted_count == 0


def test_a_viewer_or_an_outsider_cannot_post_for_the_team(team, viewer, outsider):
    with pytest.raises(PermissionDeniedError):
        job_services.job_create(actor=viewer, data=job_input(), team_id=team.pk)
    with pytest.raises(NotFoundError):
        job_services.job_create(actor=outsider, data=job_input(), team_id=team.pk)


def test_the_permission_table(owner, manager, viewer, outsider, team_job):
    for action in teams.ACTIONS:
        assert teams.can(owner, team_job, action)
        assert teams.can(manager, team_job, action)
        assert teams.can(viewer, team_job, action) == (action == teams.VIEW)
        assert not teams.can(outsider, team_job, action)
    with pytest.raises(ValueError):
        teams.roles_allowing("fly")


def test_a_viewer_cannot_edit_the_job_but_a_hiring_manager_can(viewer, manager, team_job):
    with pytest.raises(PermissionDeniedError):
        job_services.job_close(actor=viewer, job_id=team_job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    assert (
        browser(viewer).get(reverse("jobs:edit", kwargs={"public_id": team_job.public_id})).status_code == 403
    )

    job_services.job_close(actor=manager, job_id=team_job.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)
    assert Job.objects.get(pk=team_job.pk).status == Job.Status.CLOSED


# --- HTML: what each role sees and may do -------------------------------------------------------------


def test_the_team_job_is_in_my_jobs_of_every_teammate(manager, viewer, outsider, team_job):
    for user in (manager, viewer):
        assert team_job.title in browser(user).get(reverse("jobs:mine") + "?tab=open").content.decode()
    assert team_job.title not in browser(outsider).get(reverse("jobs:mine") + "?tab=open").content.decode()


def test_a_viewer_reads_the_job_and_proposals_but_cannot_act(viewer, team_job, proposal):
    page = browser(viewer)
    job_page = page.get(reverse("jobs:detail", kwargs={"public_id": team_job.public_id}))
    review = page.get(reverse("proposals:job_proposals", kwargs={"public_id": team_job.public_id}))
    detail = page.get(reverse("proposals:detail", kwargs={"proposal_id": proposal.pk}))

    assert job_page.status_code == review.status_code == detail.status_code == 200
    assert 'data-testid="team-viewer"' in job_page.content.decode()
    assert 'data-testid="team-viewer"' in detail.content.decode()
    assert 'data-testid="card-hire"' not in review.content.decode()
    for name, data in (
        ("proposals:shortlist", {}),
        ("proposals:message", {"text": "Hello"}),
        ("proposals:decline", {"reason": "other"}),
    ):
        response = page.post(reverse(name, kwargs={"proposal_id": proposal.pk}), data)
        assert response.status_code == 403, name
    assert page.get(reverse("contracts:offer_new") + f"?proposal={proposal.pk}").status_code == 403
    proposal.refresh_from_db()
    assert (proposal.status, proposal.conversation_id) == (Proposal.Status.SUBMITTED, None)


def test_a_viewer_is_refused_in_the_api(viewer, proposal):
    client = api(viewer)
    assert client.get(reverse("api_proposal_detail", kwargs={"proposal_id": proposal.pk})).status_code == 200
    shortlist = client.post(reverse("api_proposal_shortlist", kwargs={"proposal_id": proposal.pk}))
    message = client.post(
        reverse("api_proposal_message", kwargs={"proposal_id": proposal.pk}), {"text": "Hi"}
    )
    offer = client.post(
        reverse("api_offers"),
        {
            "proposal_id": proposal.pk,
            "title": "Build it",
            "contract_type": "fixed",
            "start_date": timezone.localdate().isoformat(),
            "milestones": [{"description": "All of it", "amount_cents": 150_000}],
        },
        format="json",
    )

    assert (shortlist.status_code, shortlist.json()["code"]) == (403, "team_role_forbids")
    assert message.status_code == 403
    assert offer.status_code == 403
    assert not Offer.objects.exists()


def test_a_hiring_manager_shortlists_messages_and_hires_for_the_owner(owner, manager, team_job, proposal):
    page = browser(manager)
    assert page.post(reverse("proposals:shortlist", kwargs={"proposal_id": proposal.pk})).status_code == 302
    response = page.post(
        reverse("proposals:message", kwargs={"proposal_id": proposal.pk}), {"text": "Can we talk?"}
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SHORTLISTED
    members = set(
        Participant.objects.filter(conversation_id=proposal.conversation_id).values_list("user_id", flat=True)
    )
    assert members == {owner.pk, manager.pk, proposal.freelancer_id}
    assert page.get(reverse("contracts:offer_new") + f"?proposal={proposal.pk}").status_code == 200

    offer = contract_services.offer_create(actor=manager, data=fixed_input(proposal_id=proposal.pk))

    assert (offer.client, offer.job) == (owner, team_job)
    assert offer.events.get(kind="sent").actor == manager
    assert page.get(reverse("contracts:offer_detail", kwargs={"offer_id": offer.pk})).status_code == 200
    contract = contract_services.offer_accept(actor=proposal.freelancer, offer_id=offer.pk)
    assert contract.client == owner


def test_a_teammate_reads_the_team_contract_and_an_outsider_does_not(
    owner, manager, viewer, outsider, proposal
):
    offer = contract_services.offer_create(actor=manager, data=fixed_input(proposal_id=proposal.pk))
    contract = contract_services.offer_accept(actor=proposal.freelancer, offer_id=offer.pk)
    url = reverse("contracts:detail", kwargs={"contract_id": contract.pk})

    read = browser(viewer).get(url)
    assert read.status_code == 200
    assert 'data-testid="team-contract"' in read.content.decode()
    assert browser(outsider).get(url).status_code == 404
    # a hiring manager who opens it joins the contract's conversation; a viewer does not
    browser(manager).get(url)
    joined = set(
        Participant.objects.filter(conversation_id=contract.conversation_id).values_list("user_id", flat=True)
    )
    assert manager.pk in joined and viewer.pk not in joined
    assert contract.pk in [
        c["id"]
        for c in browser(viewer)
        .get(reverse("contracts:list") + "?role=client")
        .context["page"]
        .object_list.values("id")
    ]


def test_outsiders_get_404_everywhere(outsider, team, team_job, proposal):
    page = browser(outsider)
    urls = [
        reverse("proposals:job_proposals", kwargs={"public_id": team_job.public_id}),
        reverse("proposals:detail", kwargs={"proposal_id": proposal.pk}),
        reverse("accounts:team_detail", kwargs={"team_id": team.pk}),
        reverse("jobs:edit", kwargs={"public_id": team_job.public_id}),
    ]
    for url in urls:
        assert page.get(url).status_code == 404, url
    assert page.post(reverse("proposals:shortlist", kwargs={"proposal_id": proposal.pk})).status_code == 404
    assert (
        page.post(
            reverse("accounts:team_invite", kwargs={"team_id": team.pk}), {"email": "a@b.co"}
        ).status_code
        == 404
    )
    assert api(outsider).get(reverse("api_team_detail", kwargs={"team_id": team.pk})).status_code == 404


def test_a_removed_member_loses_access_at_once(owner, team, manager, team_job, proposal):
    page = browser(manager)
    review = reverse("proposals:job_proposals", kwargs={"public_id": team_job.public_id})
    assert page.get(review).status_code == 200
    page.post(reverse("proposals:message", kwargs={"proposal_id": proposal.pk}), {"text": "Hello there"})
    proposal.refresh_from_db()

    teams.member_remove(actor=owner, team_id=team.pk, user_id=manager.pk)

    assert page.get(review).status_code == 404
    assert page.get(reverse("proposals:detail", kwargs={"proposal_id": proposal.pk})).status_code == 404
    assert team_job.title not in page.get(reverse("jobs:mine") + "?tab=open").content.decode()
    left = Participant.objects.get(conversation_id=proposal.conversation_id, user=manager)
    assert left.left_at is not None


# --- the team pages -----------------------------------------------------------------------------------


def test_the_team_pages_and_their_actions(owner, team, viewer):
    page = browser(owner)
    listing = page.get(reverse("accounts:teams"))
    assert listing.status_code == 200 and "Acme hiring" in listing.content.decode()
    detail = page.get(reverse("accounts:team_detail", kwargs={"team_id": team.pk}))
    assert 'data-testid="invite-form"' in detail.content.decode()

    response = page.post(
        reverse("accounts:team_invite", kwargs={"team_id": team.pk}),
        {"email": "pat@example.com", "role": "viewer"},
    )
    assert response.status_code == 302
    bad = page.post(
        reverse("accounts:team_invite", kwargs={"team_id": team.pk}), {"email": "nope", "role": "viewer"}
    )
    assert bad.status_code == 400
    bad_role = page.post(
        reverse("accounts:team_member_role", kwargs={"team_id": team.pk, "user_id": viewer.pk}),
        {"role": "owner"},
    )
    assert bad_role.status_code == 302
    assert TeamMembership.objects.get(team=team, user=viewer).role == TeamRole.VIEWER
    # a viewer reads the team page but cannot manage it
    viewer_page = browser(viewer)
    assert (
        'data-testid="invite-form"'
        not in viewer_page.get(reverse("accounts:team_detail", kwargs={"team_id": team.pk})).content.decode()
    )
    forbidden = viewer_page.post(
        reverse("accounts:team_invite", kwargs={"team_id": team.pk}),
        {"email": "pat2@example.com", "role": "viewer"},
    )
    assert forbidden.status_code == 403


def test_the_invitation_link_page(owner, team):
    user = factories.make_client()
    _invitation, token = teams.member_invite(
        actor=owner, team_id=team.pk, email=user.email, role=TeamRole.VIEWER
    )
    url = reverse("accounts:team_invitation", kwargs={"token": token})

    other = browser(factories.make_client()).get(url)
    assert 'data-testid="invitation-other-email"' in other.content.decode()
    assert (
        browser(user).get(reverse("accounts:team_invitation", kwargs={"token": "x" * 43})).status_code == 404
    )
    assert (
        browser(user).get(reverse("accounts:team_invitation", kwargs={"token": "short"})).status_code == 404
    )
    assert browser(user).post(url, {"action": "explode"}).status_code == 302
    assert not TeamMembership.objects.filter(user=user).exists()

    response = browser(user).post(url, {"action": "accept"})

    assert response.status_code == 302
    assert TeamMembership.objects.get(team=team, user=user).role == TeamRole.VIEWER


def test_answering_from_the_list_of_invitations(owner, team):
    user = factories.make_client()
    invitation, _ = teams.member_invite(actor=owner, team_id=team.pk, email=user.email, role=TeamRole.VIEWER)
    page = browser(user)
    assert "Acme hiring" in page.get(reverse("accounts:team_invitations")).content.decode()
    bogus = reverse(
        "accounts:team_invitation_respond", kwargs={"invitation_id": invitation.pk, "action": "eat"}
    )
    assert page.post(bogus).status_code == 404
    stranger = browser(factories.make_client())
    accept = reverse(
        "accounts:team_invitation_respond", kwargs={"invitation_id": invitation.pk, "action": "accept"}
    )
    assert stranger.post(accept).status_code == 404

    assert page.post(accept).status_code == 302
    assert TeamMembership.objects.filter(team=team, user=user).exists()


def test_posting_for_a_team_from_the_wizard(team, manager, viewer):
    data = {"title": "Design our new logo and brand", "category": job_input().category_id}
    response = browser(manager).post(reverse("jobs:create"), {**data, "team": str(team.pk)})
    assert response.status_code == 302
    job = Job.objects.get(title="Design our new logo and brand")
    assert (job.team, job.client) == (team, team.owner)

    refused = browser(viewer).post(
        reverse("jobs:create"), {**data, "title": "Another job for the team", "team": str(team.pk)}
    )
    assert refused.status_code == 200 and "Viewers cannot post jobs" in refused.content.decode()
    junk = browser(manager).post(
        reverse("jobs:create"), {**data, "title": "Yet another job here", "team": "abc"}
    )
    assert junk.status_code == 200 and "Choose one of your teams" in junk.content.decode()
    assert not Job.objects.filter(title__in=["Another job for the team", "Yet another job here"]).exists()


# --- the API ------------------------------------------------------------------------------------------------


def test_the_team_api(owner, outsider):
    client = api(owner)
    created = client.post(reverse("api_teams"), {"name": "API team"}, format="json")
    assert created.status_code == 201
    team_id = created.json()["id"]
    assert [t["name"] for t in client.get(reverse("api_teams")).json()] == ["API team"]
    assert client.post(reverse("api_teams"), {"name": ""}, format="json").status_code == 400

    user = factories.make_client()
    invited = client.post(
        reverse("api_team_invite", kwargs={"team_id": team_id}),
        {"email": user.email, "role": "hiring_manager"},
        format="json",
    )
    assert invited.status_code == 201
    token = invited.json()["accept_url"].rsplit("/", 2)[-2]
    bad_role = client.post(
        reverse("api_team_invite", kwargs={"team_id": team_id}),
        {"email": "z@example.com", "role": "owner"},
        format="json",
    )
    assert bad_role.status_code == 400
    assert (
        api(outsider).post(reverse("api_team_invitation_accept"), {"token": token}, format="json").status_code
        == 404
    )
    assert api(user).post(reverse("api_team_invitation_accept"), {}, format="json").status_code == 400
    accepted = api(user).post(reverse("api_team_invitation_accept"), {"token": token}, format="json")
    assert (accepted.status_code, accepted.json()["role"]) == (200, "hiring_manager")

    member_url = reverse("api_team_member", kwargs={"team_id": team_id, "user_id": user.pk})
    assert api(user).patch(member_url, {"role": "viewer"}, format="json").status_code == 403
    assert client.patch(member_url, {"role": "viewer"}, format="json").json()["role"] == "viewer"
    detail = client.get(reverse("api_team_detail", kwargs={"team_id": team_id})).json()
    assert sorted(m["role"] for m in detail["members"]) == ["owner", "viewer"]
    assert client.delete(member_url).status_code == 204
    assert api(user).get(reverse("api_team_detail", kwargs={"team_id": team_id})).status_code == 404


def test_staff_browse_teams_in_the_admin_read_only(team, manager):
    page = browser(factories.make_staff())
    listing = page.get(reverse("admin:accounts_clientteam_changelist"))
    detail = page.get(reverse("admin:accounts_clientteam_change", args=[team.pk]))

    assert listing.status_code == detail.status_code == 200
    assert "Acme hiring" in listing.content.decode()
    assert manager.email in detail.content.decode()
    assert page.get(reverse("admin:accounts_clientteam_add")).status_code == 403


def test_the_demo_team_is_seeded_once():
    from accounts.team_seeding import seed_demo_team

    clients = [factories.make_client() for _ in range(3)]
    assert seed_demo_team(clients=clients[:2]).startswith("skipped")

    summary = seed_demo_team(clients=clients)
    again = seed_demo_team(clients=clients)

    team = clients[0].owned_teams.get()
    roles = dict(TeamMembership.objects.filter(team=team).values_list("user_id", "role"))
    assert roles == {
        clients[0].pk: TeamRole.OWNER,
        clients[1].pk: TeamRole.HIRING_MANAGER,
        clients[2].pk: TeamRole.VIEWER,
    }
    assert summary == again and clients[1].email in summary


def test_posting_for_a_team_through_the_api(team, owner, manager, viewer):
    from dataclasses import asdict

    document = {k: v for k, v in asdict(job_input()).items() if v is not None}
    created = api(manager).post(reverse("api_job_create"), {**document, "team": team.pk}, format="json")
    assert created.status_code == 201
    job = Job.objects.get(public_id=created.json()["public_id"])
    assert (job.client, job.team) == (owner, team)

    refused = api(viewer).post(reverse("api_job_create"), {**document, "team": team.pk}, format="json")
    junk = api(manager).post(reverse("api_job_create"), {**document, "team": "x1"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "team_role_forbids")
    assert (junk.status_code, junk.json()["code"]) == (400, "invalid_team")
    assert Job.objects.count() == 1
    mine = browser(viewer).get(reverse("jobs:mine") + "?tab=drafts").content.decode()
    assert 'data-testid="team-badge"' in mine and job.title in mine


# --- the member limit ------------------------------------------------------------------------------


def test_invite_is_refused_when_the_team_is_full(owner, team, monkeypatch):
    monkeypatch.setattr(teams, "MAX_MEMBERS", 2)
    invite_and_join(owner, team.pk, factories.make_client(), TeamRole.VIEWER)

    with pytest.raises(ApplicationError) as full:
        teams.member_invite(
            actor=owner, team_id=team.pk, email=factories.make_client().email, role=TeamRole.VIEWER
        )

    assert full.value.code == "team_full"


def test_pending_invitations_cannot_take_a_team_past_its_limit(owner, team, monkeypatch):
    # given two invitations sent while the team had room for one more member
    monkeypatch.setattr(teams, "MAX_MEMBERS", 2)
    first, second = factories.make_client(), factories.make_client()
    _i1, first_token = teams.member_invite(
        actor=owner, team_id=team.pk, email=first.email, role=TeamRole.VIEWER
    )
    _i2, second_token = teams.member_invite(
        actor=owner, team_id=team.pk, email=second.email, role=TeamRole.VIEWER
    )
    teams.invitation_accept(actor=first, token=first_token)

    # when the second invitee accepts
    with pytest.raises(ApplicationError) as full:
        teams.invitation_accept(actor=second, token=second_token)

    # then the team stays at its limit and the invitation stays pending
    assert full.value.code == "team_full"
    assert TeamMembership.objects.filter(team=team).count() == 2
    assert TeamInvitation.objects.get(email=second.email).status == InvitationStatus.PENDING
