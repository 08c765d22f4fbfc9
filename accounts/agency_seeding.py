"""Demo data of agencies for ``seed_demo``: one agency owned by the demo freelancer
(freelancer1), with two members who joined through real invitations. Idempotent."""

from __future__ import annotations

from django.db import transaction

from .agencies import agency_create, invitation_accept, member_invite
from .models import AgencyMembership, AgencyRole, User

DEMO_DOMAIN = "@demo.marketplace.local"
AGENCY_NAME = "Northwind Digital Studio"


def seed_demo_agency() -> str:
    """Create the demo agency once; returns a line for the seed command's output."""
    owner = User.objects.filter(email=f"freelancer1{DEMO_DOMAIN}").first()
    members = [User.objects.filter(email=f"freelancer{n}{DEMO_DOMAIN}").first() for n in (2, 3)]
    if owner is None or any(m is None for m in members):
        return "skipped (the demo freelancers are missing)"
    existing = (
        AgencyMembership.objects.filter(user=owner, role=AgencyRole.OWNER).select_related("agency").first()
    )
    if existing is not None:
        return f"“{existing.agency.name}” was already there"
    with transaction.atomic():
        agency = agency_create(
            actor=owner,
            name=AGENCY_NAME,
            tagline="Web products, end to end: design, build, launch",
            description=(
                "A small remote studio of senior freelancers. We design, build and run web "
                "applications for start-ups and small companies, and stay on for maintenance."
            ),
            website="https://northwind.example",
            country="PL",
        )
        for member, role in zip(members, (AgencyRole.ADMIN, AgencyRole.MEMBER), strict=True):
            assert member is not None
            sent = member_invite(actor=owner, agency_id=agency.pk, email=member.email, role=role)
            invitation_accept(actor=member, token=sent.token)
    return f"“{agency.name}” with {agency.memberships.count()} members (owner {owner.email})"
