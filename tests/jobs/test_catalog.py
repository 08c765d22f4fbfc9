"""Service catalog listings: create, validation, staff review (pending -> approved |
rejected with reason), visibility (only approved are public; others 404), browse filters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import FreelancerProfile, Skill
from jobs import catalog
from jobs.catalog import ListingFilters, TierInput
from jobs.catalog_seeding import seed_catalog, service_input
from jobs.models import ServiceListing, ServiceListingEvent
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from messaging.models import Notification
from tests import factories
from tests.jobs.catalog_helpers import make_listing
from tests.jobs.conftest import _ensure_taxonomy

pytestmark = pytest.mark.django_db


def _input(**overrides):
    _ensure_taxonomy()
    skill = Skill.objects.get(name="Python")
    data = service_input("I will build your Django site", category_id=skill.subcategory.category_id)
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def test_create_is_a_draft_with_three_tiers_and_addons():
    listing = make_listing(approve=False)
    assert listing.status == ServiceListing.Status.DRAFT
    assert [t.name for t in catalog.tiers_in_order(listing)] == ["starter", "standard", "advanced"]
    assert listing.min_price_cents == 5_000 and listing.min_delivery_days == 5
    assert set(listing.addons.values_list("kind", flat=True)) == {"fast_delivery", "extra_revision"}
    assert listing.requirements.count() == 2


def test_review_workflow_approve_and_reject_with_reason(django_capture_on_commit_callbacks):
    staff = factories.make_staff()
    listing = make_listing(approve=False)
    seller = listing.freelancer
    with pytest.raises(ApplicationError) as error:
        catalog.listing_approve(actor=staff, listing_id=listing.pk)  # a draft is not reviewable
    assert error.value.code == "illegal_transition"
    catalog.listing_submit(actor=seller, listing_id=listing.pk)
    with pytest.raises(ApplicationError) as error:
        catalog.listing_reject(actor=staff, listing_id=listing.pk, reason="  ")
    assert error.value.code == "reason_required"
    with django_capture_on_commit_callbacks(execute=True):
        rejected = catalog.listing_reject(actor=staff, listing_id=listing.pk, reason="Blurry gallery images.")
    assert rejected.status == "rejected" and rejected.rejection_reason == "Blurry gallery images."
    assert Notification.objects.filter(recipient=seller, text__contains="Blurry gallery").exists()
    catalog.listing_submit(actor=seller, listing_id=listing.pk)
    approved = catalog.listing_approve(actor=staff, listing_id=listing.pk)
    assert approved.status == "approved" and approved.reviewed_by == staff and approved.rejection_reason == ""
    kinds = list(ServiceListingEvent.objects.filter(listing=listing).values_list("to_status", flat=True))
    assert kinds == ["draft", "pending", "rejected", "pending", "approved"]


def test_only_staff_review():
    listing = make_listing(approve=False)
    catalog.listing_submit(actor=listing.freelancer, listing_id=listing.pk)
    with pytest.raises(PermissionDeniedError):
        catalog.listing_approve(actor=listing.freelancer, listing_id=listing.pk)


def test_editing_an_approved_service_sends_it_back_to_review():
    listing = make_listing()
    updated = catalog.listing_update(
        actor=listing.freelancer, listing_id=listing.pk, data=_input(title="A new title for my service")
    )
    assert updated.status == "pending"
    assert not catalog.listing_public_qs().filter(pk=listing.pk).exists()


def test_foreign_freelancer_cannot_edit_or_submit():
    listing = make_listing(approve=False)
    other = factories.make_published_freelancer()
    with pytest.raises(NotFoundError):
        catalog.listing_submit(actor=other, listing_id=listing.pk)
    with pytest.raises(NotFoundError):
        catalog.listing_update(actor=other, listing_id=listing.pk, data=_input())


def test_a_client_cannot_sell():
    factories.make_published_freelancer()
    client = factories.make_client()
    with pytest.raises(PermissionDeniedError):
        catalog.listing_create(actor=client, data=_input())


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"title": "short"}, "title_length"),
        ({"description": "too short"}, "description_length"),
        ({"category_id": 999_999}, "category_required"),
        ({"category_id": "1; drop"}, "category_required"),
        ({"tiers": {"starter": TierInput(100, 3, 1, "x")}}, "price_out_of_range"),
        (
            {
                "tiers": {
                    "starter": TierInput(9_000, 3, 1, "a"),
                    "standard": TierInput(5_000, 3, 1, "b"),
                    "advanced": TierInput(9_900, 3, 1, "c"),
                }
            },
            "tiers_out_of_order",
        ),
        ({"fast_delivery_days_less": 5}, "days_less_out_of_range"),
        ({"questions": ["q"] * 6}, "too_many_questions"),
    ],
)
def test_bad_input_is_refused_with_a_clear_code(overrides, code):
    freelancer = factories.make_published_freelancer()
    with pytest.raises(ApplicationError) as error:
        catalog.listing_create(actor=freelancer, data=_input(**overrides))
    assert error.value.code == code
    assert not ServiceListing.objects.exists()


def test_only_approved_services_are_public(client):
    draft = make_listing(approve=False, title="I will draft something hidden")
    approved = make_listing(title="I will show something public")
    page = client.get(reverse("jobs:services"))
    assert page.status_code == 200
    assert (
        "something public" in page.content.decode() and "draft something hidden" not in page.content.decode()
    )
    assert client.get(reverse("jobs:service_detail", args=[draft.public_id])).status_code == 404
    assert client.get(reverse("jobs:service_detail", args=[approved.public_id])).status_code == 200
    # the owner sees their own draft; a stranger does not
    client.force_login(draft.freelancer)
    assert client.get(reverse("jobs:service_detail", args=[draft.public_id])).status_code == 200
    client.force_login(factories.make_published_freelancer())
    assert client.get(reverse("jobs:service_detail", args=[draft.public_id])).status_code == 404
    assert client.get(reverse("jobs:service_edit", args=[draft.pk])).status_code == 404


def test_search_filters():
    cheap = make_listing(title="I will write a cheap article")
    pricey_seller = factories.make_published_freelancer()
    pricey = make_listing(pricey_seller, title="I will build an expensive platform")
    ServiceListing.objects.filter(pk=pricey.pk).update(min_price_cents=90_000, min_delivery_days=20)
    FreelancerProfile.objects.filter(user=pricey_seller).update(rating_avg=Decimal("4.90"))

    def ids(**kw):
        return set(catalog.listing_search(ListingFilters(**kw)).values_list("pk", flat=True))

    assert ids() == {cheap.pk, pricey.pk}
    assert ids(q="article") == {cheap.pk}
    assert ids(max_price_cents=10_000) == {cheap.pk}
    assert ids(min_price_cents=50_000) == {pricey.pk}
    assert ids(max_delivery_days=7) == {cheap.pk}
    assert ids(min_rating=Decimal("4.5")) == {pricey.pk}
    assert ids(category_id=cheap.category_id) == {cheap.pk, pricey.pk}


def test_browse_page_filters_and_empty_state(client):
    make_listing(title="I will write a cheap article")
    page = client.get(reverse("jobs:services"), {"q": "nothing-matches-this"})
    assert page.status_code == 200 and "No services match" in page.content.decode()
    bad = client.get(reverse("jobs:services"), {"min_price": "abc", "rating": "x", "delivery": "-3"})
    assert bad.status_code == 200


def test_seed_catalog_creates_approved_services():
    freelancers = [factories.make_published_freelancer() for _ in range(3)]
    made = seed_catalog(freelancers=freelancers, staff=factories.make_staff(), count=8)
    assert len(made) == 8 and all(item.status == "approved" for item in made)
    assert all(item.tiers.count() == 3 for item in made)


def test_gallery_image_is_reencoded_and_limited(settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = str(tmp_path)
    listing = make_listing(approve=False)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buffer, format="PNG")
    upload = SimpleUploadedFile("shot.png", buffer.getvalue(), content_type="image/png")
    image = catalog.listing_add_image(actor=listing.freelancer, listing_id=listing.pk, upload=upload)
    assert image.image.name.startswith("services/") and "shot" not in image.image.name
    with pytest.raises(ApplicationError) as error:
        catalog.listing_add_image(
            actor=listing.freelancer,
            listing_id=listing.pk,
            upload=SimpleUploadedFile("x.png", b"not an image", content_type="image/png"),
        )
    assert error.value.code == "file_type"
    with pytest.raises(NotFoundError):
        catalog.listing_add_image(
            actor=factories.make_published_freelancer(), listing_id=listing.pk, upload=upload
        )


def test_pause_and_resume():
    listing = make_listing()
    paused = catalog.listing_pause(actor=listing.freelancer, listing_id=listing.pk)
    assert paused.status == "paused" and not catalog.listing_public_qs().filter(pk=listing.pk).exists()
    assert catalog.listing_resume(actor=listing.freelancer, listing_id=listing.pk).status == "approved"
    with pytest.raises(ApplicationError):
        catalog.listing_resume(actor=listing.freelancer, listing_id=listing.pk)
