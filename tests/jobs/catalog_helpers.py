"""Shared set-up of the service catalog tests: a published freelancer's approved service,
a client with the local gateway's test card."""

from __future__ import annotations

from accounts.models import Skill
from jobs import catalog
from jobs.catalog_seeding import service_input
from jobs.models import ServiceListing
from tests import factories
from tests.jobs.conftest import _ensure_taxonomy

VISA = "4242424242424242"
DECLINED = "4000000000000002"


def make_listing(
    freelancer=None, *, approve: bool = True, staff=None, title: str = "I will build your Django site"
):
    _ensure_taxonomy()
    freelancer = freelancer or factories.make_published_freelancer()
    skill = Skill.objects.get(name="Python")
    listing = catalog.listing_create(
        actor=freelancer,
        data=service_input(title, category_id=skill.subcategory.category_id, skill_ids=[skill.pk]),
    )
    if approve:
        catalog.listing_submit(actor=freelancer, listing_id=listing.pk)
        listing = catalog.listing_approve(actor=staff or factories.make_staff(), listing_id=listing.pk)
    return listing


def save_card(user, number: str = VISA):
    from django.utils import timezone

    from payments import services as payment_services
    from payments.gateways.base import CardInput

    return payment_services.payment_method_add(
        actor=user, card=CardInput(number=number, exp_month=12, exp_year=timezone.now().year + 2, cvc="123")
    )


def answers_for(listing: ServiceListing) -> list[str]:
    return [f"Answer to {q}" for q in listing.requirements.values_list("question", flat=True)]
