"""Service orders through contracts and payments: buy (contract + funded milestone),
requirements, deliver, revisions (limited), approve, auto-approval, requirements timeout
refund, late cancellation refund, declined card; the ledger stays balanced."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract, Milestone
from jobs import catalog
from jobs.models import ServiceOrder
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from payments import ledger
from payments.audit import run_checks
from tests import factories
from tests.jobs.catalog_helpers import DECLINED, answers_for, make_listing, save_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_gateway(settings):
    from payments.gateways import local

    settings.PAYMENTS_GATEWAY = "local"
    local.reset()
    yield
    local.reset()


@pytest.fixture
def listing():
    return make_listing()


@pytest.fixture
def buyer():
    user = factories.make_client()
    save_card(user)
    return user


def escrow_of(order) -> int:
    return ledger.escrow_balance(f"contract:{order.contract_id}")


def ledger_clean() -> None:
    assert [f.message for f in run_checks()] == []


def buy(listing, buyer, tier="standard", addon_kinds=()):
    addon_ids = list(listing.addons.filter(kind__in=addon_kinds).values_list("pk", flat=True))
    order = catalog.order_create(actor=buyer, listing_id=listing.pk, tier=tier, addon_ids=addon_ids)
    result = catalog.order_pay(actor=buyer, order_id=order.pk)
    assert result.paid, result.message
    return result.order


def started(listing, buyer, **kw):
    order = buy(listing, buyer, **kw)
    return catalog.order_submit_requirements(actor=buyer, order_id=order.pk, answers=answers_for(listing))


def deliver(order, listing):
    return catalog.order_deliver(actor=listing.freelancer, order_id=order.pk, message="Here is the work.")


def test_buy_creates_a_fixed_contract_and_funds_its_milestone(listing, buyer, local_gateway):
    order = buy(listing, buyer, addon_kinds=["fast_delivery", "extra_revision"])
    standard = listing.tiers.get(name="standard")
    assert order.amount_cents == 10_000 + 2_500 + 1_000
    assert order.delivery_days == standard.delivery_days - 2
    assert order.revisions_allowed == standard.revisions + 1
    assert order.status == ServiceOrder.Status.AWAITING_REQUIREMENTS
    assert order.requirements_due_at == order.paid_at + timedelta(hours=48)
    contract = Contract.objects.get(pk=order.contract_id)
    assert contract.client == buyer and contract.freelancer == listing.freelancer and contract.is_fixed
    milestone = catalog.order_milestone(order)
    assert milestone.status == Milestone.Status.FUNDED and milestone.amount_cents == order.amount_cents
    assert escrow_of(order) == order.amount_cents
    ledger_clean()


def test_declined_card_leaves_the_order_awaiting_payment(listing, local_gateway):
    buyer = factories.make_client()
    save_card(buyer, DECLINED)
    order = catalog.order_create(actor=buyer, listing_id=listing.pk, tier="starter")
    result = catalog.order_pay(actor=buyer, order_id=order.pk)
    assert not result.paid and "declined" in result.message.lower()
    order.refresh_from_db()
    assert order.status == ServiceOrder.Status.AWAITING_PAYMENT
    assert escrow_of(order) == 0
    ledger_clean()


def test_full_lifecycle_with_one_revision_then_approval(
    listing, buyer, local_gateway, django_capture_on_commit_callbacks
):
    order = started(listing, buyer)
    assert order.status == "in_progress"
    assert order.delivery_due_at == order.requirements_submitted_at + timedelta(days=order.delivery_days)
    assert [a["answer"] for a in order.requirements_answers] == answers_for(listing)
    deliver(order, listing)
    order = catalog.order_request_revision(actor=buyer, order_id=order.pk, note="Make the logo bigger.")
    assert order.status == "revision_requested" and order.revisions_used == 1
    assert catalog.order_milestone(order).status == Milestone.Status.CHANGES_REQUESTED
    deliver(order, listing)
    with django_capture_on_commit_callbacks(execute=True):
        order = catalog.order_approve(actor=buyer, order_id=order.pk)
    assert order.status == "completed"
    assert catalog.order_milestone(order).status == Milestone.Status.RELEASED
    assert Contract.objects.get(pk=order.contract_id).status == Contract.Status.ENDED
    assert escrow_of(order) == 0
    ledger_clean()


def test_revision_count_is_limited_by_the_tier(listing, buyer, local_gateway):
    order = started(listing, buyer, tier="starter")  # 1 revision
    deliver(order, listing)
    catalog.order_request_revision(actor=buyer, order_id=order.pk, note="Change one thing.")
    deliver(order, listing)
    with pytest.raises(ApplicationError) as error:
        catalog.order_request_revision(actor=buyer, order_id=order.pk, note="And another.")
    assert error.value.code == "no_revisions_left"
    order.refresh_from_db()
    assert order.status == "delivered" and order.revisions_used == 1
    assert catalog.order_milestone(order).status == Milestone.Status.SUBMITTED


def test_requirements_timeout_cancels_and_refunds(
    listing, buyer, local_gateway, django_capture_on_commit_callbacks
):
    order = buy(listing, buyer)
    assert catalog.orders_sweep(now=timezone.now() + timedelta(hours=47))["expired"] == 0
    with time_machine.travel(timezone.now() + timedelta(hours=49), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            result = catalog.orders_sweep()
        assert result["expired"] == 1
        assert catalog.orders_sweep()["expired"] == 0  # safe to run twice
    order.refresh_from_db()
    assert order.status == "cancelled" and "48 hours" in order.cancel_reason
    milestone = catalog.order_milestone(order)
    assert milestone.status == Milestone.Status.REFUNDED and milestone.refunded_cents == order.amount_cents
    assert escrow_of(order) == 0
    ledger_clean()


def test_late_cancellation_refunds(listing, buyer, local_gateway, django_capture_on_commit_callbacks):
    order = started(listing, buyer)
    with pytest.raises(ApplicationError) as error:
        catalog.order_cancel(actor=buyer, order_id=order.pk)
    assert error.value.code == "not_late"
    with time_machine.travel(order.delivery_due_at + timedelta(minutes=1), tick=False):
        with pytest.raises(PermissionDeniedError):
            catalog.order_cancel(actor=listing.freelancer, order_id=order.pk)
        with django_capture_on_commit_callbacks(execute=True):
            order = catalog.order_cancel(actor=buyer, order_id=order.pk)
    assert order.status == "cancelled"
    assert catalog.order_milestone(order).status == Milestone.Status.REFUNDED
    assert escrow_of(order) == 0
    ledger_clean()


def test_no_late_cancellation_once_delivered(listing, buyer, local_gateway):
    order = started(listing, buyer)
    deliver(order, listing)
    with (
        time_machine.travel(order.delivery_due_at + timedelta(days=1), tick=False),
        pytest.raises(ApplicationError) as error,
    ):
        catalog.order_cancel(actor=buyer, order_id=order.pk)
    assert error.value.code == "not_late"


def test_auto_approval_completes_the_order(listing, buyer, local_gateway, settings):
    from contracts import escrow

    order = started(listing, buyer)
    deliver(order, listing)
    later = timezone.now() + timedelta(days=settings.AUTO_APPROVE_DAYS, hours=1)
    escrow.milestones_auto_approve_due(now=later)
    catalog.orders_sweep(now=later)
    order.refresh_from_db()
    assert order.status == "completed"
    ledger_clean()


def test_illegal_moves_and_foreign_users(listing, buyer, local_gateway):
    order = buy(listing, buyer)
    with pytest.raises(ApplicationError) as error:
        deliver(order, listing)  # requirements not in yet
    assert error.value.code == "illegal_transition"
    with pytest.raises(ApplicationError):
        catalog.order_approve(actor=buyer, order_id=order.pk)
    stranger = factories.make_client()
    with pytest.raises(NotFoundError):
        catalog.order_submit_requirements(actor=stranger, order_id=order.pk, answers=answers_for(listing))
    with pytest.raises(PermissionDeniedError):
        catalog.order_submit_requirements(
            actor=listing.freelancer, order_id=order.pk, answers=answers_for(listing)
        )
    with pytest.raises(ApplicationError) as error:
        catalog.order_submit_requirements(actor=buyer, order_id=order.pk, answers=["only one"])
    assert error.value.code == "answers_required"
    with pytest.raises(ApplicationError) as error:
        catalog.order_pay(actor=buyer, order_id=order.pk)
    assert error.value.code == "already_paid"


@pytest.mark.parametrize(
    ("kwargs", "error_type", "code"),
    [
        ({"tier": "platinum"}, ApplicationError, "tier_required"),
        ({"tier": "standard", "addon_ids": [999_999]}, ApplicationError, "addon_invalid"),
        ({"tier": "standard", "addon_ids": ["x"]}, ApplicationError, "addon_invalid"),
    ],
)
def test_bad_purchase_input(listing, buyer, kwargs, error_type, code):
    with pytest.raises(error_type) as error:
        catalog.order_create(actor=buyer, listing_id=listing.pk, **kwargs)
    assert error.value.code == code
    assert not ServiceOrder.objects.exists() and not Contract.objects.exists()


def test_cannot_buy_unapproved_or_own_service(buyer):
    draft = make_listing(approve=False)
    with pytest.raises(NotFoundError):
        catalog.order_create(actor=buyer, listing_id=draft.pk, tier="standard")
    approved = make_listing()
    with pytest.raises(ApplicationError):
        catalog.order_create(actor=approved.freelancer, listing_id=approved.pk, tier="standard")


def test_order_page_is_for_the_parties_only(client, listing, buyer, local_gateway):
    order = buy(listing, buyer)
    url = reverse("jobs:service_order", args=[order.public_id])
    client.force_login(buyer)
    page = client.get(url)
    assert page.status_code == 200 and "Requirements" in page.content.decode()
    client.force_login(listing.freelancer)
    assert client.get(url).status_code == 200
    client.force_login(factories.make_client())
    assert client.get(url).status_code == 404


def test_order_views_post_actions_with_messages(client, listing, buyer, local_gateway):
    client.force_login(buyer)
    response = client.post(
        reverse("jobs:service_buy", args=[listing.public_id]), {"tier": "standard"}, follow=True
    )
    assert response.status_code == 200
    order = ServiceOrder.objects.get()
    assert order.status == "awaiting_requirements"
    assert "Payment received" in response.content.decode() or "paid" in response.content.decode().lower()
    bad = client.post(reverse("jobs:service_requirements", args=[order.public_id]), {}, follow=True)
    assert bad.status_code == 200 and "Answer question 1" in bad.content.decode()
    data = {f"answer_{i}": a for i, a in enumerate(answers_for(listing), start=1)}
    client.post(reverse("jobs:service_requirements", args=[order.public_id]), data)
    order.refresh_from_db()
    assert order.status == "in_progress"
    bad_tier = client.post(
        reverse("jobs:service_buy", args=[listing.public_id]), {"tier": "nope"}, follow=True
    )
    assert bad_tier.status_code == 200 and ServiceOrder.objects.count() == 1


def test_a_double_submit_is_one_order(listing, buyer, local_gateway):
    first = catalog.order_create(actor=buyer, listing_id=listing.pk, tier="standard")
    again = catalog.order_create(actor=buyer, listing_id=listing.pk, tier="standard")
    assert again.pk == first.pk
    assert ServiceOrder.objects.filter(buyer=buyer).count() == 1
    other = catalog.order_create(actor=buyer, listing_id=listing.pk, tier="starter")  # a different choice
    assert other.pk != first.pk
    listing.refresh_from_db()
    assert listing.orders_count == 2


def test_a_null_character_in_a_form_is_refused_with_a_message_and_nothing_saved(
    client, listing, buyer, local_gateway
):
    """The order forms hand their fields to the services without a Django form; a null
    character (which PostgreSQL cannot store) once reached the database as a 500. Every
    form is now refused before its view (marketplace.middleware)."""
    client.force_login(buyer)
    url = reverse("jobs:service_buy", args=[listing.public_id])
    page_url = "http://testserver" + reverse("jobs:service_detail", args=[listing.public_id])
    response = client.post(url, {"tier": "standard\x00"}, HTTP_REFERER=page_url)
    assert response.status_code == 302 and response["Location"] == page_url
    page = client.get(response["Location"]).content.decode()
    assert "contains a null character" in page
    assert ServiceOrder.objects.count() == 0
    api = client.post(reverse("api_service_buy", args=[listing.public_id]), {"tier": "standard\x00"})
    assert api.status_code == 400 and api.json()["code"] == "null_character"
    assert ServiceOrder.objects.count() == 0
    client.post(url, {"tier": "standard"})  # the same form without it goes through
    assert ServiceOrder.objects.count() == 1


def test_a_null_character_does_not_get_round_the_csrf_check(listing, buyer):
    from django.test import Client

    forged = Client(enforce_csrf_checks=True)
    forged.force_login(buyer)
    url = reverse("jobs:service_buy", args=[listing.public_id])
    assert forged.post(url, {"tier": "standard\x00"}).status_code == 403  # CSRF first, as for any form
