"""Agencies: create, invitations (accept, decline, revoke, expiry, wrong email), roles,
ownership transfer, leaving; the HTML pages and the API refuse foreign users."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import agencies
from accounts.models import AgencyInvitation, AgencyMembership, AgencyRole, InvitationStatus
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from tests import factories
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return factories.make_published_freelancer()


@pytest.fixture
def agency(owner):
    return agencies.agency_create(actor=owner, name="Acme Studio", tagline="We build things")


def join(agency, user, role=AgencyRole.MEMBER, inviter=None):
    inviter = inviter or AgencyMembership.objects.get(agency=agency, role=AgencyRole.OWNER).user
    sent = agencies.member_invite(actor=inviter, agency_id=agency.pk, email=user.email, role=role)
    return agencies.invitation_accept(actor=user, token=sent.token)


@pytest.fixture
def member(agency):
    user = factories.make_published_freelancer()
    join(agency, user)
    return user


@pytest.fixture
def admin(agency):
    user = factories.make_published_freelancer()
    join(agency, user, AgencyRole.ADMIN)
    return user


def role_of(agency, user) -> str | None:
    return AgencyMembership.objects.filter(agency=agency, user=user).values_list("role", flat=True).first()


# --- create / update -----------------------------------------------------------------------------


def test_create_makes_the_founder_owner(owner, agency):
    assert agency.slug == "acme-studio"
    assert role_of(agency, owner) == AgencyRole.OWNER
    assert agency.created_by == owner


def test_slug_is_unique_and_avoids_reserved_words(db):
    first = agencies.agency_create(actor=factories.make_freelancer(), name="Acme Studio")
    second = agencies.agency_create(actor=factories.make_freelancer(), name="Acme  studio!")
    reserved = agencies.agency_create(actor=factories.make_freelancer(), name="New")
    assert (first.slug, second.slug, reserved.slug) == ("acme-studio", "acme-studio-2", "new-agency")


def test_one_owned_agency_each(owner, agency):
    with pytest.raises(ApplicationError) as error:
        agencies.agency_create(actor=owner, name="Second")
    assert error.value.code == "already_owns_agency"


def test_client_cannot_create(client_user):
    with pytest.raises(PermissionDeniedError):
        agencies.agency_create(actor=client_user, name="Clients Inc")


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"name": " "}, "name_required"),
        ({"name": "x" * 101}, "name_too_long"),
        ({"name": "Ok name", "website": "javascript:alert(1)"}, "invalid_website"),
        ({"name": "Ok name", "country": "ZZ"}, "invalid_country"),
        ({"name": "Ok name", "tagline": "t" * 151}, "tagline_too_long"),
    ],
)
def test_create_bad_input(freelancer, values, code):
    with pytest.raises(ApplicationError) as error:
        agencies.agency_create(actor=freelancer, **values)
    assert error.value.code == code


def test_update_by_owner_and_admin_not_member(agency, owner, admin, member):
    agencies.agency_update(actor=admin, agency_id=agency.pk, tagline="New tagline", country="PL")
    agency.refresh_from_db()
    assert agency.tagline == "New tagline" and str(agency.country) == "PL"
    with pytest.raises(PermissionDeniedError):
        agencies.agency_update(actor=member, agency_id=agency.pk, tagline="Nope")
    with pytest.raises(ApplicationError):
        agencies.agency_update(actor=owner, agency_id=agency.pk, slug="hijack")
    with pytest.raises(NotFoundError):
        agencies.agency_update(actor=owner, agency_id="abc", tagline="x")


# --- invitations ---------------------------------------------------------------------------------


def test_invite_stores_only_the_hash_and_emails_the_link(agency, owner, django_capture_on_commit_callbacks):
    invitee = factories.make_published_freelancer()
    with django_capture_on_commit_callbacks(execute=True):
        sent = agencies.member_invite(actor=owner, agency_id=agency.pk, email=invitee.email.upper())
    invitation = sent.invitation
    assert invitation.email == invitee.email
    assert invitation.token_hash == agencies.hash_token(sent.token) != sent.token
    assert not AgencyInvitation.objects.filter(token_hash=sent.token).exists()
    assert timedelta(days=13, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=14)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [invitee.email]
    assert agencies.invitation_path(sent.token) in mail.outbox[0].body
    assert agencies.invitations_for_user(user=invitee) == [invitation]  # also listed under "My agencies"


def test_accept_joins_with_the_invited_role(agency, owner):
    invitee = factories.make_published_freelancer()
    sent = agencies.member_invite(
        actor=owner, agency_id=agency.pk, email=invitee.email, role=AgencyRole.ADMIN
    )
    membership = agencies.invitation_accept(actor=invitee, token=sent.token)
    assert membership.role == AgencyRole.ADMIN
    sent.invitation.refresh_from_db()
    assert sent.invitation.status == InvitationStatus.ACCEPTED and sent.invitation.accepted_by == invitee
    with pytest.raises(ApplicationError) as error:  # a link works once
        agencies.invitation_accept(actor=invitee, token=sent.token)
    assert error.value.code == "invitation_not_pending"


def test_accept_by_wrong_email_is_refused(agency, owner):
    invitee, intruder = factories.make_published_freelancer(), factories.make_published_freelancer()
    sent = agencies.member_invite(actor=owner, agency_id=agency.pk, email=invitee.email)
    with pytest.raises(PermissionDeniedError) as error:
        agencies.invitation_accept(actor=intruder, token=sent.token)
    assert error.value.code == "wrong_email"
    with pytest.raises(NotFoundError):  # by id, someone else's invitation is not there at all
        agencies.invitation_accept_by_id(actor=intruder, invitation_id=sent.invitation.pk)
    assert role_of(agency, intruder) is None


def test_accept_needs_a_freelancer(agency, owner):
    client = factories.make_client()
    sent = agencies.member_invite(actor=owner, agency_id=agency.pk, email=client.email)
    with pytest.raises(PermissionDeniedError) as error:
        agencies.invitation_accept(actor=client, token=sent.token)
    assert error.value.code == "not_freelancer"


def test_expired_invitation_cannot_be_accepted_and_can_be_reissued(agency, owner):
    invitee = factories.make_published_freelancer()
    sent = agencies.member_invite(actor=owner, agency_id=agency.pk, email=invitee.email)
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        with pytest.raises(ApplicationError) as error:
            agencies.invitation_accept(actor=invitee, token=sent.token)
        assert error.value.code == "invitation_expired"
        again = agencies.member_invite(actor=owner, agency_id=agency.pk, email=invitee.email)
        sent.invitation.refresh_from_db()
        assert sent.invitation.status == InvitationStatus.EXPIRED
        assert agencies.invitation_accept(actor=invitee, token=again.token).role == AgencyRole.MEMBER


def test_bad_tokens_are_not_found(member):
    for token in ("", "nope", "x" * 300):
        with pytest.raises(NotFoundError):
            agencies.invitation_accept(actor=member, token=token)


def test_decline(agency, owner):
    invitee = factories.make_published_freelancer()
    sent = agencies.member_invite(actor=owner, agency_id=agency.pk, email=invitee.email)
    agencies.invitation_decline(actor=invitee, token=sent.token)
    sent.invitation.refresh_from_db()
    assert sent.invitation.status == InvitationStatus.DECLINED
    with pytest.raises(ApplicationError):
        agencies.invitation_accept(actor=invitee, token=sent.token)


def test_revoke(agency, owner, admin, member):
    invitee = factories.make_published_freelancer()
    sent = agencies.member_invite(actor=admin, agency_id=agency.pk, email=invitee.email)
    with pytest.raises(PermissionDeniedError):
        agencies.invitation_revoke(actor=member, invitation_id=sent.invitation.pk)
    with pytest.raises(NotFoundError):
        agencies.invitation_revoke(actor=factories.make_freelancer(), invitation_id=sent.invitation.pk)
    agencies.invitation_revoke(actor=owner, invitation_id=sent.invitation.pk)
    with pytest.raises(ApplicationError) as error:
        agencies.invitation_accept(actor=invitee, token=sent.token)
    assert error.value.code == "invitation_not_pending"
    with pytest.raises(ApplicationError):
        agencies.invitation_revoke(actor=owner, invitation_id=sent.invitation.pk)


def test_member_cannot_invite_admin_can_invite_members_only(agency, admin, member):
    with pytest.raises(PermissionDeniedError):
        agencies.member_invite(actor=member, agency_id=agency.pk, email="new@example.com")
    with pytest.raises(PermissionDeniedError):
        agencies.member_invite(
            actor=admin, agency_id=agency.pk, email="new@example.com", role=AgencyRole.ADMIN
        )
    sent = agencies.member_invite(actor=admin, agency_id=agency.pk, email="new@example.com")
    assert sent.invitation.invited_by == admin


@pytest.mark.parametrize(
    ("email", "role", "code"),
    [
        ("not-an-email", "member", "invalid_email"),
        ("", "member", "invalid_email"),
        ("someone@example.com", "owner", "invalid_role"),
        ("someone@example.com", "boss", "invalid_role"),
    ],
)
def test_invite_bad_input(agency, owner, email, role, code):
    with pytest.raises(ApplicationError) as error:
        agencies.member_invite(actor=owner, agency_id=agency.pk, email=email, role=role)
    assert error.value.code == code


def test_invite_twice_or_a_member_is_refused(agency, owner, member):
    with pytest.raises(ApplicationError) as error:
        agencies.member_invite(actor=owner, agency_id=agency.pk, email=member.email)
    assert error.value.code == "already_member"
    agencies.member_invite(actor=owner, agency_id=agency.pk, email="twice@example.com")
    with pytest.raises(ApplicationError) as error:
        agencies.member_invite(actor=owner, agency_id=agency.pk, email="Twice@example.com")
    assert error.value.code == "already_invited"


# --- roles, removal, leaving, ownership ----------------------------------------------------------


def test_owner_changes_roles_others_cannot(agency, owner, admin, member):
    agencies.member_role_change(actor=owner, agency_id=agency.pk, member_id=member.pk, role=AgencyRole.ADMIN)
    assert role_of(agency, member) == AgencyRole.ADMIN
    with pytest.raises(PermissionDeniedError):
        agencies.member_role_change(
            actor=admin, agency_id=agency.pk, member_id=member.pk, role=AgencyRole.MEMBER
        )
    with pytest.raises(ApplicationError) as error:
        agencies.member_role_change(
            actor=owner, agency_id=agency.pk, member_id=owner.pk, role=AgencyRole.MEMBER
        )
    assert error.value.code == "owner_role_fixed"
    with pytest.raises(ApplicationError):
        agencies.member_role_change(
            actor=owner, agency_id=agency.pk, member_id=member.pk, role=AgencyRole.OWNER
        )
    with pytest.raises(NotFoundError):
        agencies.member_role_change(
            actor=owner, agency_id=agency.pk, member_id=999_999, role=AgencyRole.ADMIN
        )


def test_remove_rules(agency, owner, admin, member):
    with pytest.raises(PermissionDeniedError):
        agencies.member_remove(actor=member, agency_id=agency.pk, member_id=admin.pk)
    with pytest.raises(PermissionDeniedError):
        agencies.member_remove(actor=admin, agency_id=agency.pk, member_id=owner.pk)
    other_admin = factories.make_published_freelancer()
    join(agency, other_admin, AgencyRole.ADMIN)
    with pytest.raises(PermissionDeniedError):
        agencies.member_remove(actor=admin, agency_id=agency.pk, member_id=other_admin.pk)
    agencies.member_remove(actor=admin, agency_id=agency.pk, member_id=member.pk)
    agencies.member_remove(actor=owner, agency_id=agency.pk, member_id=other_admin.pk)
    assert role_of(agency, member) is None and role_of(agency, other_admin) is None
    with pytest.raises(ApplicationError) as error:
        agencies.member_remove(actor=owner, agency_id=agency.pk, member_id=owner.pk)
    assert error.value.code == "remove_self"


def test_leave_and_owner_cannot_leave(agency, owner, member):
    with pytest.raises(ApplicationError) as error:
        agencies.member_leave(actor=owner, agency_id=agency.pk)
    assert error.value.code == "owner_cannot_leave"
    agencies.member_leave(actor=member, agency_id=agency.pk)
    assert role_of(agency, member) is None
    with pytest.raises(NotFoundError):
        agencies.member_leave(actor=member, agency_id=agency.pk)


def test_transfer_ownership(agency, owner, member):
    agencies.agency_transfer_ownership(actor=owner, agency_id=agency.pk, member_id=member.pk)
    assert role_of(agency, member) == AgencyRole.OWNER
    assert role_of(agency, owner) == AgencyRole.ADMIN
    agencies.member_leave(actor=owner, agency_id=agency.pk)  # the former owner may now leave
    assert AgencyMembership.objects.filter(agency=agency, role=AgencyRole.OWNER).count() == 1
    with pytest.raises(PermissionDeniedError):
        agencies.agency_transfer_ownership(actor=owner, agency_id=agency.pk, member_id=member.pk)


def test_transfer_refused_to_outsiders_and_self(agency, owner):
    with pytest.raises(NotFoundError):
        agencies.agency_transfer_ownership(
            actor=owner, agency_id=agency.pk, member_id=factories.make_published_freelancer().pk
        )
    with pytest.raises(ApplicationError) as error:
        agencies.agency_transfer_ownership(actor=owner, agency_id=agency.pk, member_id=owner.pk)
    assert error.value.code == "already_owner"


def test_transfer_refused_to_an_owner_of_another_agency(agency, owner, member):
    agencies.agency_create(actor=member, name="Member's Own")
    with pytest.raises(ApplicationError) as error:
        agencies.agency_transfer_ownership(actor=owner, agency_id=agency.pk, member_id=member.pk)
    assert error.value.code == "already_owns_agency"
    assert role_of(agency, owner) == AgencyRole.OWNER and role_of(agency, member) == AgencyRole.MEMBER


def test_transfer_refused_to_a_suspended_member(agency, owner, member):
    factories.User.objects.filter(pk=member.pk).update(suspended_at=timezone.now())
    with pytest.raises(ApplicationError) as error:
        agencies.agency_transfer_ownership(actor=owner, agency_id=agency.pk, member_id=member.pk)
    assert error.value.code == "cannot_own"
    assert role_of(agency, owner) == AgencyRole.OWNER


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_transfer_waits_for_the_targets_own_agency_creation():
    """The member founds their own agency while the owner hands them this one: they must
    not end up owning two (the check alone cannot see the uncommitted creation)."""
    owner = factories.make_published_freelancer()
    target = factories.make_published_freelancer()
    agency = agencies.agency_create(actor=owner, name="Acme Studio")
    join(agency, target)
    created, transferring = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def create() -> None:
        try:
            with transaction.atomic():
                agencies.agency_create(actor=target, name="Target's Own")
                created.set()
                transferring.wait(timeout=10)
                time.sleep(0.5)  # the transfer runs (or waits) before this commits
        finally:
            connection.close()

    def transfer() -> None:
        try:
            created.wait(timeout=10)
            transferring.set()
            agencies.agency_transfer_ownership(actor=owner, agency_id=agency.pk, member_id=target.pk)
            results["transfer"] = "done"
        except ApplicationError as error:
            results["transfer"] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=create), threading.Thread(target=transfer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results["transfer"] == "already_owns_agency"
    assert AgencyMembership.objects.filter(user=target, role=AgencyRole.OWNER).count() == 1
    assert role_of(agency, owner) == AgencyRole.OWNER


def test_suspended_owner_cannot_act(agency, owner, member):
    factories.User.objects.filter(pk=owner.pk).update(suspended_at=timezone.now())
    owner.refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        agencies.member_invite(actor=owner, agency_id=agency.pk, email="x@example.com")


# --- selectors ------------------------------------------------------------------------------------


def test_page_lists_members_owner_first_and_empty_figures(agency, owner, member, admin):
    page = agencies.agency_page(agency=agency)
    assert [m.user_id for m in page.members] == [owner.pk, admin.pk, member.pk]
    assert page.figures.contracts_count == 0 and page.figures.total_earned_cents == 0
    assert page.figures.rating_avg is None and page.reviews == []


def test_hidden_agency_is_seen_only_by_members(agency, member):
    agency.hidden_at = timezone.now()
    agency.save(update_fields=["hidden_at"])
    assert agencies.agency_get(slug=agency.slug, viewer=member) == agency
    assert agencies.agency_get(slug=agency.slug, viewer=factories.make_freelancer()) is None
    assert agencies.agency_proposal_choices(member.pk) == []


# --- HTML pages -----------------------------------------------------------------------------------


def test_create_page(client, freelancer):
    client.force_login(freelancer)
    assert client.get(reverse("accounts:agency_create")).status_code == 200
    response = client.post(reverse("accounts:agency_create"), {"name": "Pixel Forge", "country": "PL"})
    assert response.status_code == 302
    assert role_of(agencies.agency_get(slug="pixel-forge"), freelancer) == AgencyRole.OWNER
    bad = client.post(reverse("accounts:agency_create"), {"name": ""})
    assert bad.status_code == 200 and "This field is required" in bad.content.decode()


def test_public_page_and_index(client, agency, member):
    page = client.get(reverse("accounts:agency_detail", kwargs={"slug": agency.slug}))
    assert page.status_code == 200
    assert member.display_name in page.content.decode() and "No reviews yet." in page.content.decode()
    assert client.get(reverse("accounts:agency_detail", kwargs={"slug": "missing"})).status_code == 404
    client.force_login(member)
    index = client.get(reverse("accounts:agencies"))
    assert index.status_code == 200 and agency.name in index.content.decode()


def test_manage_page_permissions(client, agency, owner, member):
    url = reverse("accounts:agency_manage", kwargs={"slug": agency.slug})
    client.force_login(owner)
    assert client.get(url).status_code == 200
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(factories.make_freelancer())
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_invite_and_accept_through_the_pages(client, agency, owner, django_capture_on_commit_callbacks):
    invitee = factories.make_published_freelancer()
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:agency_invite", kwargs={"slug": agency.slug}),
            {"email": invitee.email, "role": "member"},
        )
    assert response.status_code == 302
    bad = client.post(
        reverse("accounts:agency_invite", kwargs={"slug": agency.slug}), {"email": "nope", "role": "member"}
    )
    assert bad.status_code == 400
    link = re.search(r"/agencies/invitations/[^/\s]+/", mail.outbox[-1].body).group(0)
    client.force_login(factories.make_published_freelancer())
    wrong = client.post(link, {"action": "accept"})
    assert wrong.status_code == 403
    client.force_login(invitee)
    assert client.get(link).status_code == 200
    accepted = client.post(link, {"action": "accept"})
    assert accepted.status_code == 302 and role_of(agency, invitee) == AgencyRole.MEMBER
    assert client.get("/agencies/invitations/not-a-token/").status_code == 404


def test_respond_from_the_index(client, agency, owner):
    invitee = factories.make_published_freelancer()
    sent = agencies.member_invite(actor=owner, agency_id=agency.pk, email=invitee.email)
    url = reverse("accounts:agency_invitation_respond", kwargs={"invitation_id": sent.invitation.pk})
    client.force_login(factories.make_published_freelancer())
    assert client.post(url, {"action": "accept"}).status_code == 404
    client.force_login(invitee)
    assert client.post(url, {"action": "decline"}).status_code == 302
    sent.invitation.refresh_from_db()
    assert sent.invitation.status == InvitationStatus.DECLINED


def test_member_actions_through_the_pages(client, agency, owner, admin, member):
    client.force_login(member)
    remove_admin = reverse("accounts:agency_member_remove", kwargs={"slug": agency.slug, "user_id": admin.pk})
    assert client.post(remove_admin).status_code == 403
    client.force_login(owner)
    role_url = reverse("accounts:agency_member_role", kwargs={"slug": agency.slug, "user_id": member.pk})
    assert client.post(role_url, {"role": "admin"}).status_code == 302
    assert role_of(agency, member) == AgencyRole.ADMIN
    assert client.post(role_url, {"role": "emperor"}).status_code == 302
    assert role_of(agency, member) == AgencyRole.ADMIN
    missing = reverse("accounts:agency_member_remove", kwargs={"slug": agency.slug, "user_id": 999_999})
    assert client.post(missing).status_code == 404
    transfer = reverse("accounts:agency_transfer", kwargs={"slug": agency.slug})
    assert client.post(transfer, {"member": "x"}).status_code == 400
    assert client.post(transfer, {"member": member.pk}).status_code == 302
    assert role_of(agency, member) == AgencyRole.OWNER
    leave = reverse("accounts:agency_leave", kwargs={"slug": agency.slug})
    assert client.post(leave).status_code == 302
    assert role_of(agency, owner) is None
    client.force_login(factories.make_freelancer())
    assert client.post(leave).status_code == 403


def test_revoke_through_the_page(client, agency, owner, member):
    sent = agencies.member_invite(actor=owner, agency_id=agency.pk, email="revoke@example.com")
    url = reverse(
        "accounts:agency_invitation_revoke", kwargs={"slug": agency.slug, "invitation_id": sent.invitation.pk}
    )
    client.force_login(member)
    assert client.post(url).status_code == 403
    other = agencies.agency_create(actor=factories.make_freelancer(), name="Other")
    client.force_login(owner)
    foreign = reverse(
        "accounts:agency_invitation_revoke", kwargs={"slug": other.slug, "invitation_id": sent.invitation.pk}
    )
    assert client.post(foreign).status_code == 404
    assert client.post(url).status_code == 302
    sent.invitation.refresh_from_db()
    assert sent.invitation.status == InvitationStatus.REVOKED


def test_proposal_form_offers_propose_as(client, agency, member):
    from tests.jobs.conftest import make_job

    job = make_job(factories.make_client())
    client.force_login(member)
    page = client.get(reverse("proposals:apply", kwargs={"public_id": job.public_id}))
    assert page.status_code == 200
    assert "Propose as" in page.content.decode() and agency.name in page.content.decode()


# --- API ------------------------------------------------------------------------------------------


def test_api_my_agencies_detail_members(api_client, agency, owner, member):
    api_client.force_authenticate(member)
    mine = api_client.get(reverse("api_my_agencies")).json()
    assert [(row["agency"]["slug"], row["role"]) for row in mine] == [(agency.slug, "member")]
    detail = api_client.get(reverse("api_agency_detail", kwargs={"slug": agency.slug})).json()
    assert detail["agency"]["name"] == "Acme Studio" and len(detail["members"]) == 2
    assert detail["figures"]["contracts_count"] == 0
    members = api_client.get(reverse("api_agency_members", kwargs={"slug": agency.slug})).json()
    assert [m["role"] for m in members] == ["owner", "member"]
    assert api_client.get(reverse("api_agency_detail", kwargs={"slug": "nope"})).status_code == 404


def test_api_create(api_client, freelancer, client_user):
    api_client.force_authenticate(freelancer)
    created = api_client.post(reverse("api_my_agencies"), {"name": "Api Agency"}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "api-agency"
    assert api_client.post(reverse("api_my_agencies"), {}, format="json").status_code == 400
    api_client.force_authenticate(client_user)
    assert api_client.post(reverse("api_my_agencies"), {"name": "Nope"}, format="json").status_code == 403


def test_api_invite_and_accept(api_client, agency, owner, member):
    url = reverse("api_agency_invitations", kwargs={"slug": agency.slug})
    api_client.force_authenticate(member)
    assert api_client.post(url, {"email": "a@example.com"}, format="json").status_code == 403
    assert api_client.get(url).status_code == 403
    api_client.force_authenticate(owner)
    invitee = factories.make_published_freelancer()
    created = api_client.post(url, {"email": invitee.email}, format="json")
    assert created.status_code == 201 and "token" not in created.json()
    assert api_client.post(url, {"email": "bad"}, format="json").status_code == 400
    assert [i["email"] for i in api_client.get(url).json()] == [invitee.email]
    # the token only travels by email; tests mint one the way the service does
    sent = agencies.member_invite(actor=owner, agency_id=agency.pk, email="later@example.com")
    later = factories.make_published_freelancer(email="later@example.com")
    accept = reverse("api_agency_invitation_accept")
    api_client.force_authenticate(invitee)
    assert api_client.post(accept, {"token": sent.token}, format="json").status_code == 403
    assert api_client.post(accept, {"token": "nope"}, format="json").status_code == 404
    assert api_client.post(accept, {}, format="json").status_code == 400
    api_client.force_authenticate(later)
    ok = api_client.post(accept, {"token": sent.token}, format="json")
    assert ok.status_code == 200 and ok.json()["role"] == "member"
    api_client.force_authenticate(None)
    assert api_client.post(accept, {"token": sent.token}, format="json").status_code in (401, 403)


# --- demo data ------------------------------------------------------------------------------------


def test_seed_demo_agency_is_idempotent(db):
    from accounts.agency_seeding import seed_demo_agency

    assert seed_demo_agency().startswith("skipped")
    people = [
        factories.make_published_freelancer(email=f"freelancer{n}@demo.marketplace.local") for n in (1, 2, 3)
    ]
    assert "3 members" in seed_demo_agency()
    agency = AgencyMembership.objects.get(user=people[0], role=AgencyRole.OWNER).agency
    assert [role_of(agency, p) for p in people] == [AgencyRole.OWNER, AgencyRole.ADMIN, AgencyRole.MEMBER]
    assert "already there" in seed_demo_agency()
    assert AgencyMembership.objects.filter(agency=agency).count() == 3


def test_agency_proposal_through_the_form_and_api(client, api_client, agency, member):
    from proposals.models import Proposal
    from tests.contracts.conftest import COVER_LETTER, make_hourly_job
    from tests.jobs.conftest import make_job

    job = make_hourly_job(factories.make_client())
    client.force_login(member)
    url = reverse("proposals:apply", kwargs={"public_id": job.public_id})
    form = {
        "duration": "1to3",
        "hourly_rate": "45",
        "cover_letter": COVER_LETTER,
        "propose_as": str(agency.pk),
    }
    response = client.post(url, form)
    assert response.status_code == 302
    proposal = Proposal.objects.get(job=job, freelancer=member)
    assert proposal.agency_id == agency.pk
    detail = client.get(reverse("proposals:detail", kwargs={"proposal_id": proposal.pk}))
    assert "On behalf of" in detail.content.decode()
    other = make_job(factories.make_client())
    api_client.force_authenticate(member)
    stranger_agency = agencies.agency_create(actor=factories.make_freelancer(), name="Not Mine")
    body = {
        "job": other.public_id,
        "duration": "1to3",
        "fixed_amount_cents": 150_000,
        "cover_letter": COVER_LETTER,
        "agency_id": stranger_agency.pk,
    }
    refused = api_client.post(reverse("api_proposals"), body, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "not_agency_member"
    ok = api_client.post(reverse("api_proposals"), {**body, "agency_id": agency.pk}, format="json")
    assert ok.status_code == 201, ok.json()
    assert Proposal.objects.get(job=other, freelancer=member).agency_id == agency.pk
