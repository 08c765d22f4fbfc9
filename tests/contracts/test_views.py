"""HTML pages of offers and contracts through Django's test client: the offer form, offer
and contract pages with their actions, lists with empty states, and 404s for non-parties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts import services
from contracts.models import Contract, ContractFile, Milestone, Offer
from contracts.services import MilestoneInput
from tests import factories
from tests.jobs.conftest import make_job

from .conftest import Hire, fixed_input, invite

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)._queued_messages]  # type: ignore[attr-defined]


def new_offer_url(**params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{reverse('contracts:offer_new')}?{query}"


def offer_post(**overrides) -> dict:
    data = {
        "title": "Build the booking site",
        "contract_type": "fixed",
        "start_date": timezone.localdate().isoformat(),
        "expires_in_days": "7",
        "description": "As in the job post.",
        "milestone_description": ["Design", "Build"],
        "milestone_amount": ["500", "1,000.50"],
        "milestone_due": ["", (timezone.localdate() + timedelta(days=20)).isoformat()],
    }
    data.update(overrides)
    return data


def _pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("spec.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


# --- the offer form ---------------------------------------------------------------------------------


def test_the_offer_form_is_prefilled_from_the_proposal(client, hire):
    client.force_login(hire.client)

    response = client.get(new_offer_url(proposal=hire.proposal.pk))

    page = text(response)
    assert response.status_code == 200
    assert f'value="{hire.job.title}"' in page
    assert 'value="Design and models"' in page and 'value="500"' in page
    assert 'value="Booking flow and launch"' in page and 'value="1000"' in page
    assert 'value="fixed"' in page and "checked" in page
    # the fee lines on $1,500: the client pays 5 % on top, the freelancer keeps 90 %
    assert "$75.00" in page and "$1,575.00" in page and "$1,350.00" in page
    assert "js/contracts.js" in page
    assert "<script>" not in page and "style=" not in page and "onclick" not in page


def test_the_offer_form_for_an_hourly_proposal_shows_the_bid_rate(client, hourly_hire):
    client.force_login(hourly_hire.client)

    page = text(client.get(new_offer_url(proposal=hourly_hire.proposal.pk)))

    assert 'name="hourly_rate" value="45"' in page
    assert "$2.25" in page  # 5 % marketplace fee per hour on $45


def test_sending_an_offer_from_the_form(client, hire):
    client.force_login(hire.client)

    response = client.post(new_offer_url(proposal=hire.proposal.pk), offer_post())

    offer = Offer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contracts:offer_detail", kwargs={"offer_id": offer.pk})
    assert offer.fixed_amount_cents == 150_050
    assert list(offer.milestones.values_list("description", "amount_cents")) == [
        ("Design", 50_000),
        ("Build", 100_050),
    ]
    assert offer.proposal == hire.proposal
    assert any("Offer sent" in m for m in messages_of(response))


def test_hourly_fields_are_ignored_on_a_fixed_offer(client, hire):
    client.force_login(hire.client)
    response = client.post(
        new_offer_url(proposal=hire.proposal.pk), offer_post(hourly_rate="abc", weekly_limit_hours="500")
    )
    assert response.status_code == 302
    assert Offer.objects.get().hourly_rate_cents is None


def test_an_hourly_offer_from_the_form(client, hourly_hire):
    client.force_login(hourly_hire.client)
    data = offer_post(
        contract_type="hourly", hourly_rate="50", weekly_limit_hours="", manual_time_allowed="on"
    )
    response = client.post(new_offer_url(proposal=hourly_hire.proposal.pk), data)
    assert response.status_code == 302
    offer = Offer.objects.get()
    assert (offer.hourly_rate_cents, offer.weekly_limit_hours, offer.manual_time_allowed) == (
        5000,
        None,
        True,
    )
    assert not offer.milestones.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"milestone_amount": ["0", "100"]}, "Milestone 1: the amount must be above zero."),
        ({"milestone_amount": ["-5", "100"]}, "Milestone 1: the amount must be above zero."),
        ({"milestone_amount": ["lots", "100"]}, "Milestone 1: Enter an amount like 45 or 45.50."),
        ({"milestone_due": ["1999-01-01", ""]}, "Milestone 1: the due date must be between today"),
        ({"milestone_due": ["3000-01-01", ""]}, "Milestone 1: the due date must be between today"),
        (
            {"milestone_description": [], "milestone_amount": [], "milestone_due": []},
            "Add at least one milestone.",
        ),
        ({"description": "x" * 100_000}, "The description is limited to 5,000 characters"),
        ({"start_date": "2001-01-01"}, "The start date cannot be in the past."),
        ({"start_date": "not a date"}, "Enter a valid date."),
        ({"expires_in_days": "30"}, "Select a valid choice."),
        (
            {"contract_type": "hourly", "hourly_rate": "", "milestone_description": []},
            "Give the hourly rate.",
        ),
        (
            {"contract_type": "hourly", "hourly_rate": "45", "weekly_limit_hours": "0"},
            "A weekly limit is between 1 and 80",
        ),
        (
            {"contract_type": "hourly", "hourly_rate": "45", "weekly_limit_hours": "500"},
            "A weekly limit is between 1 and 80",
        ),
    ],
)
def test_the_offer_form_shows_errors_next_to_the_fields(client, hire, overrides, message):
    client.force_login(hire.client)

    response = client.post(new_offer_url(proposal=hire.proposal.pk), offer_post(**overrides))

    assert response.status_code == 200
    assert message in text(response)
    assert not Offer.objects.exists()


def test_a_direct_offer_form_for_someone_with_a_proposal_goes_to_the_proposal(client, hire):
    client.force_login(hire.client)
    response = client.get(new_offer_url(freelancer=hire.freelancer.pk, job=hire.job.pk))
    assert response.status_code == 302
    assert response["Location"] == new_offer_url(proposal=hire.proposal.pk)


def test_a_direct_offer_from_the_form(client, db):
    buyer = factories.make_client()
    freelancer = factories.make_published_freelancer()
    job = make_job(buyer)
    invite(job, freelancer)
    client.force_login(buyer)

    page = text(client.get(new_offer_url(freelancer=freelancer.pk, job=job.pk)))
    assert f"A direct offer for “{job.title}”" in page
    response = client.post(new_offer_url(freelancer=freelancer.pk, job=job.pk), offer_post())

    assert response.status_code == 302
    offer = Offer.objects.get()
    assert (offer.freelancer, offer.job, offer.proposal) == (freelancer, job, None)


def test_a_direct_offer_refused_by_the_rules_shows_why(client, db):
    buyer = factories.make_client()
    freelancer = factories.make_published_freelancer()
    client.force_login(buyer)
    response = client.post(new_offer_url(freelancer=freelancer.pk), offer_post())
    assert response.status_code == 200
    assert "Invite" in text(response) and "direct offers go to freelancers" in text(response)


def test_the_offer_form_is_for_clients_and_their_own_proposals(client, hire, stranger_client):
    client.force_login(hire.freelancer)
    assert "Switch to hiring" in text(client.get(new_offer_url(proposal=hire.proposal.pk)))
    client.force_login(stranger_client)
    assert client.get(new_offer_url(proposal=hire.proposal.pk)).status_code == 404
    assert client.get(new_offer_url(proposal="abc")).status_code == 404
    assert client.get(new_offer_url(freelancer=10**9)).status_code == 404
    assert client.get(reverse("contracts:offer_new")).status_code == 302


def test_a_pending_offer_sends_the_client_to_it(client, hire):
    offer = hire.offer()
    client.force_login(hire.client)
    response = client.get(new_offer_url(proposal=hire.proposal.pk))
    assert response["Location"] == reverse("contracts:offer_detail", kwargs={"offer_id": offer.pk})


# --- the offer page -------------------------------------------------------------------------------


def test_the_freelancer_sees_the_offer_with_accept_and_decline(client, hire):
    offer = hire.offer()
    client.force_login(hire.freelancer)

    page = text(client.get(reverse("contracts:offer_detail", kwargs={"offer_id": offer.pk})))

    assert offer.title in page and "Design and models" in page and "$1,500.00" in page
    assert 'data-testid="accept"' in page and 'data-testid="decline"' in page
    assert 'data-testid="withdraw"' not in page
    assert "$1,350.00" in page  # what they receive after the 10 % service fee
    assert 'data-testid="offer-expiry"' in page


def test_the_client_sees_withdraw_and_the_marketplace_fee(client, hire):
    offer = hire.offer()
    client.force_login(hire.client)
    page = text(client.get(reverse("contracts:offer_detail", kwargs={"offer_id": offer.pk})))
    assert 'data-testid="withdraw"' in page and 'data-testid="accept"' not in page
    assert "$75.00" in page


def test_accept_from_the_page_goes_to_the_contract(client, hire):
    offer = hire.offer()
    client.force_login(hire.freelancer)

    response = client.post(reverse("contracts:offer_accept", kwargs={"offer_id": offer.pk}))

    contract = Contract.objects.get()
    assert response["Location"] == reverse("contracts:detail", kwargs={"contract_id": contract.pk})
    assert any("has started" in m for m in messages_of(response))
    # a second click (another tab) lands on the same contract
    again = client.post(reverse("contracts:offer_accept", kwargs={"offer_id": offer.pk}))
    assert again["Location"] == response["Location"]
    assert Contract.objects.count() == 1


def test_accepting_an_expired_offer_shows_an_error(client, hire):
    offer = hire.offer()
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(hire.freelancer)
    response = client.post(reverse("contracts:offer_accept", kwargs={"offer_id": offer.pk}), follow=True)
    assert "This offer has expired." in text(response)
    assert 'data-testid="accept"' not in text(response)


def test_decline_and_withdraw_from_the_page(client, hire):
    offer = hire.offer()
    client.force_login(hire.freelancer)
    url = reverse("contracts:offer_decline", kwargs={"offer_id": offer.pk})
    missing = client.post(url, {"note": "no"})
    assert missing.status_code == 200 and "This field is required." in text(missing)

    response = client.post(url, {"reason": "busy", "note": "Fully booked"}, follow=True)
    assert "You declined the offer" in text(response)
    assert "I am not available right now" in text(response)

    second = Hire()
    offer = second.offer()
    client.force_login(second.client)
    response = client.post(
        reverse("contracts:offer_withdraw", kwargs={"offer_id": offer.pk}), {"note": ""}, follow=True
    )
    assert "Offer withdrawn" in text(response)
    offer.refresh_from_db()
    assert offer.status == "withdrawn"


def test_the_wrong_side_gets_an_error_message_not_a_500(client, hire):
    offer = hire.offer()
    client.force_login(hire.client)
    response = client.post(reverse("contracts:offer_accept", kwargs={"offer_id": offer.pk}), follow=True)
    assert response.status_code == 200
    assert "Only the freelancer can do this." in text(response)


# --- offer lists ---------------------------------------------------------------------------------------


def test_offer_lists_have_empty_states(client, freelancer, client_user):
    client.force_login(freelancer)
    page = text(client.get(reverse("contracts:offer_list")))
    assert 'data-testid="empty-offers"' in page and "No offers yet" in page
    client.force_login(client_user)
    page = text(client.get(reverse("contracts:offer_list")))
    assert "You have not sent an offer yet" in page


def test_offer_lists_show_pending_and_past(client, hire):
    pending = hire.offer()
    other = Hire()
    other_offer = other.offer()
    client.force_login(hire.freelancer)

    page = text(client.get(reverse("contracts:offer_list") + "?role=freelancer"))
    assert pending.title in page and page.count('data-testid="offer-row"') == 1
    past = text(client.get(reverse("contracts:offer_list") + "?role=freelancer&tab=past"))
    assert 'data-testid="empty-tab"' in past

    services.offer_decline(actor=hire.freelancer, offer_id=pending.pk, reason="busy")
    past = text(client.get(reverse("contracts:offer_list") + "?role=freelancer&tab=past"))
    assert "Declined" in past and past.count('data-testid="offer-row"') == 1  # not the other freelancer's
    assert reverse("contracts:offer_detail", kwargs={"offer_id": other_offer.pk}) not in past

    client.force_login(hire.client)
    sent = text(client.get(reverse("contracts:offer_list") + "?role=client&tab=past"))
    assert f"To {hire.freelancer.display_name}" in sent


def test_the_offer_list_costs_the_same_queries_for_more_offers(client, db):
    buyer = factories.make_client()
    client.force_login(buyer)
    url = reverse("contracts:offer_list") + "?role=client&tab=pending"

    def add_offer():
        freelancer = factories.make_published_freelancer()
        job = make_job(buyer)
        invite(job, freelancer)
        services.offer_create(actor=buyer, data=fixed_input(freelancer_id=freelancer.pk, job_id=job.pk))

    add_offer()
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    add_offer()
    add_offer()
    with CaptureQueriesContext(connection) as three:
        response = client.get(url)
    assert text(response).count('data-testid="offer-row"') == 3
    assert len(three.captured_queries) == len(one.captured_queries)


# --- contracts: lists ----------------------------------------------------------------------------------


def test_contract_lists_have_empty_states(client, freelancer, client_user):
    client.force_login(freelancer)
    assert 'data-testid="empty-contracts"' in text(client.get(reverse("contracts:list")))
    client.force_login(client_user)
    assert "Make offers from the proposals" in text(client.get(reverse("contracts:list")))


def test_contract_lists_filter_by_status_for_each_side(client, fixed_contract, db):
    client.force_login(fixed_contract.client)
    page = text(client.get(reverse("contracts:list") + "?role=client"))
    assert fixed_contract.title in page and "$1,500.00 fixed price" in page
    ended = text(client.get(reverse("contracts:list") + "?role=client&status=ended"))
    assert 'data-testid="empty-filter"' in ended and "No ended contracts." in ended
    as_freelancer = text(client.get(reverse("contracts:list") + "?role=freelancer"))
    assert 'data-testid="empty-contracts"' in as_freelancer

    client.force_login(fixed_contract.freelancer)
    services.contract_end(actor=fixed_contract.freelancer, contract_id=fixed_contract.pk, reason="completed")
    ended = text(client.get(reverse("contracts:list") + "?role=freelancer&status=ended"))
    assert fixed_contract.title in ended
    active = text(client.get(reverse("contracts:list") + "?role=freelancer&status=active"))
    assert fixed_contract.title not in active
    assert client.get(reverse("contracts:list") + "?role=zzz&status=zzz").status_code == 200


# --- contracts: the page and its actions --------------------------------------------------------------


def test_the_contract_page_shows_terms_milestones_timeline_and_conversation(client, fixed_contract):
    client.force_login(fixed_contract.client)

    page = text(client.get(reverse("contracts:detail", kwargs={"contract_id": fixed_contract.pk})))

    assert fixed_contract.title in page
    assert page.count('data-testid="milestone-row"') == 2
    assert 'data-testid="milestones-total">$1,500.00' in page
    assert "Contract started" in page
    assert (
        reverse("messaging:conversation", kwargs={"conversation_id": fixed_contract.conversation_id}) in page
    )
    assert 'data-testid="no-files"' in page
    assert 'data-testid="milestone-add-form"' in page and "Add milestone" in page
    assert 'data-testid="end"' in page and 'data-testid="pause"' not in page  # fixed: no pause


def test_a_long_timeline_shows_the_latest_50_and_all_on_request(client, fixed_contract):
    from contracts.models import ContractEvent

    start = timezone.now()
    ContractEvent.objects.bulk_create(
        ContractEvent(
            contract=fixed_contract,
            kind=ContractEvent.Kind.WEEKLY_LIMIT_CHANGED,
            data={"hours": n},
            created_at=start + timedelta(minutes=n),
        )
        for n in range(60)
    )
    total = fixed_contract.events.count()
    client.force_login(fixed_contract.client)
    url = reverse("contracts:detail", kwargs={"contract_id": fixed_contract.pk})

    page = text(client.get(url))
    everything = text(client.get(url + "?timeline=all"))

    assert page.count('data-testid="timeline-event"') == 50
    assert f"The latest 50 of {total} events." in page and "?timeline=all" in page
    assert "Contract started" not in page  # the oldest event is beyond the latest 50
    assert everything.count('data-testid="timeline-event"') == total
    assert "Contract started" in everything and 'data-testid="timeline-partial"' not in everything


def test_the_freelancer_proposes_milestones_and_cannot_edit_the_clients(client, fixed_contract):
    client.force_login(fixed_contract.freelancer)
    page = text(client.get(reverse("contracts:detail", kwargs={"contract_id": fixed_contract.pk})))
    assert "Propose milestone" in page and 'data-testid="milestone-delete"' not in page


def test_milestone_add_edit_delete_through_the_pages(client, fixed_contract):
    client.force_login(fixed_contract.client)
    add = reverse("contracts:milestone_add", kwargs={"contract_id": fixed_contract.pk})

    bad = client.post(add, {"description": "Extra", "amount": "0"})
    assert bad.status_code == 200 and "The amount must be above zero." in text(bad)

    response = client.post(add, {"description": "Extra", "amount": "250", "due_date": ""})
    assert response.status_code == 302
    milestone = Milestone.objects.get(description="Extra")
    assert milestone.amount_cents == 25_000

    edit = reverse(
        "contracts:milestone_edit", kwargs={"contract_id": fixed_contract.pk, "milestone_id": milestone.pk}
    )
    assert 'value="250.00"' in text(client.get(edit))
    past = client.post(edit, {"description": "Extra", "amount": "300", "due_date": "2000-01-01"})
    assert past.status_code == 200 and "The due date must be between today" in text(past)
    assert client.post(edit, {"description": "Extra, bigger", "amount": "300"}).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.description, milestone.amount_cents) == ("Extra, bigger", 30_000)

    delete = reverse(
        "contracts:milestone_delete", kwargs={"contract_id": fixed_contract.pk, "milestone_id": milestone.pk}
    )
    response = client.post(delete, follow=True)
    assert "Milestone removed" in text(response)
    timeline = text(response)
    assert (
        "Milestone added: Extra ($250.00)" in timeline
        and "Milestone removed: Extra, bigger ($300.00)" in timeline
    )


def test_hourly_actions_through_the_page(client, hourly_contract):
    client.force_login(hourly_contract.client)
    detail = reverse("contracts:detail", kwargs={"contract_id": hourly_contract.pk})
    page = text(client.get(detail))
    assert 'data-testid="pause"' in page and "20 hrs/week" in page

    response = client.post(
        reverse("contracts:pause", kwargs={"contract_id": hourly_contract.pk}), follow=True
    )
    assert "Contract paused" in text(response) and 'data-testid="resume"' in text(response)
    response = client.post(
        reverse("contracts:resume", kwargs={"contract_id": hourly_contract.pk}), follow=True
    )
    assert "Contract resumed" in text(response)

    limit = reverse("contracts:weekly_limit", kwargs={"contract_id": hourly_contract.pk})
    bad = client.post(limit, {"weekly_limit_hours": "500"})
    assert bad.status_code == 200 and "A weekly limit is between 1 and 80 hours" in text(bad)
    response = client.post(limit, {"weekly_limit_hours": "10"}, follow=True)
    assert "Weekly limit set to 10 hours." in text(response)
    response = client.post(limit, {"weekly_limit_hours": ""}, follow=True)
    assert "no weekly limit now" in text(response)

    client.force_login(hourly_contract.freelancer)
    page = text(client.get(detail))
    assert 'data-testid="pause"' not in page
    response = client.post(
        reverse("contracts:pause", kwargs={"contract_id": hourly_contract.pk}), follow=True
    )
    assert "Only the client can pause the contract." in text(response)


def test_ending_through_the_page_makes_it_read_only(client, fixed_contract):
    client.force_login(fixed_contract.freelancer)
    end = reverse("contracts:end", kwargs={"contract_id": fixed_contract.pk})
    missing = client.post(end, {})
    assert missing.status_code == 200 and "This field is required." in text(missing)

    page = text(client.post(end, {"reason": "completed", "note": "All done"}, follow=True))

    assert 'data-testid="contract-ended"' in page and "The work is completed" in page
    assert 'data-testid="milestone-add-form"' not in page and 'data-testid="end"' not in page
    assert 'data-testid="milestone-delete"' not in page


def test_files_upload_and_download_for_parties_only(client, fixed_contract, stranger_client):
    client.force_login(fixed_contract.client)
    upload = reverse("contracts:file_upload", kwargs={"contract_id": fixed_contract.pk})
    bad = client.post(
        upload, {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="application/x-msdownload")}
    )
    assert bad.status_code == 200 and "not accepted" in text(bad)

    response = client.post(upload, {"file": _pdf()}, follow=True)
    assert "Shared spec.pdf." in text(response) and 'data-testid="contract-file"' in text(response)
    item = ContractFile.objects.get()
    download = reverse(
        "contracts:file_download", kwargs={"contract_id": fixed_contract.pk, "file_id": item.pk}
    )

    client.force_login(fixed_contract.freelancer)
    got = client.get(download)
    assert got.status_code == 200
    assert b"".join(got.streaming_content).startswith(b"%PDF")
    assert "attachment" in got["Content-Disposition"]

    client.force_login(stranger_client)
    assert client.get(download).status_code == 404


# --- non-parties: 404 everywhere ------------------------------------------------------------------------


def _all_urls(offer: Offer, contract: Contract, hourly: Contract) -> list[tuple[str, str]]:
    milestone = contract.milestones.first()
    assert milestone is not None
    item = services.contract_file_add(
        actor=contract.client, contract_id=contract.pk, upload=SimpleUploadedFile("a.txt", b"hello")
    )
    o, c, h = {"offer_id": offer.pk}, {"contract_id": contract.pk}, {"contract_id": hourly.pk}
    m = {"contract_id": contract.pk, "milestone_id": milestone.pk}
    return [
        ("get", reverse("contracts:offer_detail", kwargs=o)),
        ("post", reverse("contracts:offer_accept", kwargs=o)),
        ("post", reverse("contracts:offer_decline", kwargs=o)),
        ("post", reverse("contracts:offer_withdraw", kwargs=o)),
        ("get", reverse("contracts:detail", kwargs=c)),
        ("post", reverse("contracts:pause", kwargs=h)),
        ("post", reverse("contracts:resume", kwargs=h)),
        ("post", reverse("contracts:weekly_limit", kwargs=h)),
        ("post", reverse("contracts:end", kwargs=c)),
        ("post", reverse("contracts:milestone_add", kwargs=c)),
        ("get", reverse("contracts:milestone_edit", kwargs=m)),
        ("post", reverse("contracts:milestone_edit", kwargs=m)),
        ("post", reverse("contracts:milestone_delete", kwargs=m)),
        ("post", reverse("contracts:file_upload", kwargs=c)),
        ("get", reverse("contracts:file_download", kwargs={**c, "file_id": item.pk})),
    ]


@pytest.fixture
def everything(hire, hourly_hire):
    contract = hire.contract()
    other = Hire()
    offer = other.offer()
    hourly = hourly_hire.contract()
    return offer, contract, hourly


@pytest.mark.parametrize("who", ["other_client", "other_freelancer", "anonymous"])
def test_non_parties_get_404_on_every_page(client, everything, who):
    offer, contract, hourly = everything
    urls = _all_urls(offer, contract, hourly)
    if who == "other_client":
        client.force_login(factories.make_client())
    elif who == "other_freelancer":
        client.force_login(factories.make_published_freelancer())
    for method, url in urls:
        data = {"reason": "other", "description": "x", "amount": "5", "weekly_limit_hours": "5"}
        response = client.get(url) if method == "get" else client.post(url, data)
        if who == "anonymous":  # sent to log in, whether or not the thing exists
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url
        else:
            assert response.status_code == 404, (method, url)
    offer.refresh_from_db()
    contract.refresh_from_db()
    assert (offer.status, contract.status) == ("pending", "active")
    assert contract.milestones.count() == 2


def test_unknown_ids_are_404(client, fixed_contract):
    client.force_login(fixed_contract.client)
    assert client.get(reverse("contracts:offer_detail", kwargs={"offer_id": 10**9})).status_code == 404
    assert client.get(reverse("contracts:detail", kwargs={"contract_id": 10**9})).status_code == 404
    assert (
        client.get(
            reverse(
                "contracts:milestone_edit", kwargs={"contract_id": fixed_contract.pk, "milestone_id": 10**9}
            )
        ).status_code
        == 404
    )


def test_the_milestone_of_another_contract_is_404_through_this_one(client, fixed_contract, db):
    other = Hire().contract()
    milestone = other.milestones.first()
    client.force_login(fixed_contract.client)
    url = reverse(
        "contracts:milestone_delete", kwargs={"contract_id": fixed_contract.pk, "milestone_id": milestone.pk}
    )
    assert client.post(url).status_code == 404
    assert Milestone.objects.filter(pk=milestone.pk).exists()


def test_the_nav_links_to_offers_and_contracts(client, freelancer, client_user):
    client.force_login(freelancer)
    page = text(client.get(reverse("contracts:list")))
    assert f"{reverse('contracts:offer_list')}?role=freelancer" in page
    client.force_login(client_user)
    page = text(client.get(reverse("contracts:list")))
    assert f"{reverse('contracts:list')}?role=client" in page


def test_milestone_added_by_a_service_shows_on_the_page(client, fixed_contract):
    services.milestone_add(
        actor=fixed_contract.freelancer, contract_id=fixed_contract.pk, data=MilestoneInput("Logo", 9_900)
    )
    client.force_login(fixed_contract.client)
    page = text(client.get(reverse("contracts:detail", kwargs={"contract_id": fixed_contract.pk})))
    assert "Logo" in page and "proposed by the freelancer" in page and "$1,599.00" in page
