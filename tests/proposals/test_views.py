"""HTML pages of proposals: the Apply box of the job page, the apply form, a proposal's page
for each party and its actions, "My proposals", the client's review page, Connects. Pages
render with and without data; strangers get a 404 on every proposal URL, anonymous visitors
go to the login page."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts import services as accounts_services
from accounts.models import FreelancerProfile
from jobs import services as job_services
from jobs.models import Job
from messaging.models import Conversation
from proposals import services
from proposals.models import ConnectsTransaction, Proposal
from tests import factories
from tests.jobs.conftest import make_job
from tests.proposals.conftest import COVER_LETTER, browser, set_balance, submit

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    """The messages this request added (earlier unread ones wait in the cookie)."""
    return [str(m) for m in get_messages(response.wsgi_request)._queued_messages]


def detail_url(proposal: Proposal) -> str:
    return reverse("proposals:detail", kwargs={"proposal_id": proposal.pk})


def apply_url(job: Job) -> str:
    return reverse("proposals:apply", kwargs={"public_id": job.public_id})


def review_url(job: Job) -> str:
    return reverse("proposals:job_proposals", kwargs={"public_id": job.public_id})


def apply_data(**overrides) -> dict:
    data = {
        "fixed_amount": "1200",
        "duration": "1to3",
        "cover_letter": COVER_LETTER,
    }
    data.update(overrides)
    return data


# --- the job page's Apply box --------------------------------------------------------------------------


def test_the_apply_box_for_anonymous_visitors(job):
    body = text(Client().get(reverse("jobs:detail", kwargs={"public_id": job.public_id})))

    assert 'data-testid="apply-login"' in body
    assert "A proposal to this job costs 4 Connects" in body
    assert "next release" not in body


def test_the_apply_box_for_a_freelancer_who_can_apply(pro, job):
    body = text(browser(pro).get(reverse("jobs:detail", kwargs={"public_id": job.public_id})))

    assert f'href="{apply_url(job)}" data-testid="apply-button"' in body
    assert "Costs 4 Connects · you have 10" in body


def test_the_apply_box_after_applying(pro, job, proposal):
    body = text(browser(pro).get(reverse("jobs:detail", kwargs={"public_id": job.public_id})))

    assert "You applied to this job" in body
    assert f'href="{detail_url(proposal)}" data-testid="view-proposal"' in body
    assert 'data-testid="apply-button"' not in body


@pytest.mark.parametrize(
    ("who", "says"),
    [
        ("poor", "This proposal needs 4 Connects and you have 1."),
        ("unpublished", "Complete and publish your profile to send proposals."),
        ("client", "Only freelancers send proposals."),
    ],
)
def test_the_apply_box_says_why_one_cannot_apply(job, who, says):
    if who == "poor":
        user = factories.make_published_freelancer()
        set_balance(user, 1)
    elif who == "unpublished":
        user = factories.make_freelancer()
    else:
        user = factories.make_client()

    body = text(browser(user).get(reverse("jobs:detail", kwargs={"public_id": job.public_id})))

    assert says in body
    assert 'data-testid="apply-button"' not in body


def test_the_apply_box_after_an_invitation(pro, job):
    job_services.invitation_send(actor=job.client, job_id=job.pk, freelancer_id=pro.pk, message="Apply?")

    body = text(browser(pro).get(reverse("jobs:detail", kwargs={"public_id": job.public_id})))

    assert "Free: you were invited" in body


# --- applying ------------------------------------------------------------------------------------------


def test_the_apply_page_shows_the_cost_the_fee_preview_and_the_questions(pro, client_owner):
    job = make_job(client_owner, questions=["Which booking sites have you built?"])

    response = browser(pro).get(apply_url(job))

    body = text(response)
    assert response.status_code == 200
    assert 'data-fee-bps="1000"' in body and 'id="you-receive"' in body
    assert "Send proposal for 4 Connects" in body
    assert "Which booking sites have you built?" in body
    assert 'id="milestone-row-template"' in body
    assert "js/proposals.js" in body
    assert "Your portfolio is empty" in body
    assert "<script>" not in body and " style=" not in body and " onclick=" not in body


def test_sending_a_proposal_through_the_form(pro, client_owner):
    job = make_job(client_owner, questions=["Which booking sites have you built?"])
    question = job.questions.get()
    item = accounts_services.portfolio_item_save(actor=pro, title="Yoga booking site")
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", content_type="application/pdf")

    response = browser(pro).post(
        apply_url(job),
        apply_data(
            **{
                f"question_{question.pk}": "Two of them.",
                "portfolio_items": [item.pk],
                "attachments": [upload],
                "milestone_description": ["Design", "Build", ""],
                "milestone_amount": ["400", "800", ""],
                "milestone_due": ["", "", ""],
            }
        ),
    )

    proposal = Proposal.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(proposal)
    assert messages_of(response) == ["Your proposal was sent to the client. 4 Connects spent; 6 left."]
    assert proposal.fixed_amount_cents == 120_000
    assert [m.amount_cents for m in proposal.milestones.all()] == [40_000, 80_000]
    assert proposal.answers.get().text == "Two of them."
    assert list(proposal.portfolio_items.all()) == [item]
    assert proposal.attachments.get().original_name == "plan.pdf"


def test_an_hourly_proposal_through_the_form(pro, hourly_job):
    question = hourly_job.questions.get()

    response = browser(pro).post(
        apply_url(hourly_job),
        {
            "hourly_rate": "55",
            "duration": "lt1",
            "cover_letter": COVER_LETTER,
            f"question_{question.pk}": "3.2 to 5.1",
        },
    )

    assert response.status_code == 302
    assert Proposal.objects.get().hourly_rate_cents == 5500


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"cover_letter": "x" * 100_000}, "Ensure this value has at most 5000 characters"),
        ({"cover_letter": "Hire me"}, "Ensure this value has at least 50 characters"),
        ({"fixed_amount": "-20"}, "A fixed price must be between $5.00 and $1,000,000.00."),
        ({"fixed_amount": "12.345"}, "Use at most two decimals."),
        (
            {"milestone_description": ["Design", "Build"], "milestone_amount": ["400", "500"]},
            "The milestones add up to $900.00 but your bid is $1,200.00",
        ),
        (
            {"milestone_description": ["Design"], "milestone_amount": ["-1200"]},
            "Milestone 1: the amount must be above zero.",
        ),
        (
            {"milestone_description": ["All"], "milestone_amount": ["1200"], "milestone_due": ["1999-01-01"]},
            "Milestone 1: the due date must be between today and",
        ),
        (
            {"milestone_description": ["All"], "milestone_amount": ["1200"], "milestone_due": ["soon"]},
            "Milestone 1: Enter a valid date.",
        ),
        ({"duration": ""}, "This field is required."),
    ],
)
def test_bad_proposals_come_back_with_the_error_next_to_the_field(pro, job, data, error):
    response = browser(pro).post(apply_url(job), apply_data(**data))

    assert response.status_code == 200
    assert error in text(response)
    assert not Proposal.objects.exists()


def test_a_missing_answer_is_shown_next_to_its_question(pro, hourly_job):
    response = browser(pro).post(
        apply_url(hourly_job), {"hourly_rate": "55", "duration": "lt1", "cover_letter": COVER_LETTER}
    )

    assert "Answer this question: the client asks every applicant." in text(response)


def test_a_bid_on_the_wrong_type_is_ignored_by_the_form(pro, hourly_job):
    question = hourly_job.questions.get()

    response = browser(pro).post(
        apply_url(hourly_job),
        {
            "fixed_amount": "1200",
            "duration": "lt1",
            "cover_letter": COVER_LETTER,
            f"question_{question.pk}": "A",
        },
    )

    assert response.status_code == 200
    assert "This field is required." in text(response)  # the hourly rate


def test_applying_twice_leads_to_the_proposal(pro, job, proposal):
    response = browser(pro).get(apply_url(job))

    assert response.status_code == 302 and response["Location"] == detail_url(proposal)


def test_the_apply_page_says_why_one_cannot_apply(job, freelancer):
    response = browser(freelancer).post(apply_url(job), apply_data())

    assert response.status_code == 200
    assert 'data-testid="cannot-apply"' in text(response)
    assert "Complete and publish your profile" in text(response)
    assert not Proposal.objects.exists()


def test_invite_only_and_missing_jobs_are_not_found(pro, client_owner):
    hidden = make_job(client_owner, visibility=Job.Visibility.INVITE_ONLY)

    assert browser(pro).get(apply_url(hidden)).status_code == 404
    assert browser(pro).get("/jobs/~02nothere/apply/").status_code == 404


def test_anonymous_visitors_log_in_to_apply(job):
    response = Client().get(apply_url(job))

    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


# --- a proposal's page --------------------------------------------------------------------------------


def test_the_freelancer_sees_their_proposal_and_can_change_it(pro, proposal):
    response = browser(pro).get(detail_url(proposal))

    body = text(response)
    assert response.status_code == 200
    assert 'data-testid="bid">$1,200.00' in body
    assert "$1,080.00" in body  # what they receive after 10 %
    assert 'data-testid="bid-form"' in body and 'data-testid="withdraw"' in body
    assert 'data-event="submitted"' in body
    assert 'data-testid="viewed">Not yet' in body
    proposal.refresh_from_db()
    assert proposal.client_viewed_at is None


def test_the_client_sees_the_proposal_and_it_counts_as_viewed(proposal):
    client = proposal.job.client

    response = browser(client).get(detail_url(proposal))

    body = text(response)
    assert "New on the marketplace" in body
    assert f'href="{reverse("contracts:offer_new")}?proposal={proposal.pk}" data-testid="hire"' in body
    assert COVER_LETTER in body
    assert 'data-testid="bid-form"' not in body
    assert "4 spent" not in body  # the freelancer's Connects are their business
    proposal.refresh_from_db()
    assert proposal.client_viewed_at is not None


def test_the_client_sees_the_freelancers_reputation(proposal):
    FreelancerProfile.objects.filter(user=proposal.freelancer).update(
        job_success_score=94, total_earned_cents=1_234_500
    )

    body = text(browser(proposal.job.client).get(detail_url(proposal)))

    assert "94%</span> Job Success" in body
    assert "$12,345.00 earned" in body
    assert "New on the marketplace" not in body


def test_attachments_are_downloaded_by_the_two_parties_only(pro, job, other_pro):
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", content_type="application/pdf")
    proposal = submit(pro, job, attachments=[upload])
    attachment = proposal.attachments.get()
    url = reverse("proposals:attachment", kwargs={"proposal_id": proposal.pk, "attachment_id": attachment.pk})

    for user in (pro, job.client):
        response = browser(user).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF-1.4 plan"
        assert response["Content-Disposition"].startswith("attachment")
    assert browser(other_pro).get(url).status_code == 404
    assert browser(factories.make_client()).get(url).status_code == 404
    assert Client().get(url).status_code == 302


PROPOSAL_URLS = [
    ("detail", "get"),
    ("edit_bid", "post"),
    ("withdraw", "post"),
    ("shortlist", "post"),
    ("unshortlist", "post"),
    ("archive", "post"),
    ("unarchive", "post"),
    ("decline", "post"),
    ("message", "post"),
]


@pytest.mark.parametrize(("name", "method"), PROPOSAL_URLS)
def test_strangers_get_a_404_on_every_proposal_url(proposal, other_pro, name, method):
    url = reverse(f"proposals:{name}", kwargs={"proposal_id": proposal.pk})
    data = {"reason": "budget", "text": "Hello", "fixed_amount": "1", "duration": "lt1"}

    for user in (other_pro, factories.make_client()):
        assert getattr(browser(user), method)(url, data).status_code == 404
    anonymous = getattr(Client(), method)(url, data)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("account_login"))
    proposal.refresh_from_db()
    assert proposal.status == "submitted" and proposal.archived is False


@pytest.mark.parametrize("name", ["shortlist", "unshortlist", "archive", "unarchive", "decline", "message"])
def test_the_freelancer_cannot_use_the_clients_actions(proposal, pro, name):
    url = reverse(f"proposals:{name}", kwargs={"proposal_id": proposal.pk})

    assert browser(pro).post(url, {"reason": "budget", "text": "Hi"}).status_code == 404


@pytest.mark.parametrize("name", ["edit_bid", "withdraw"])
def test_the_client_cannot_use_the_freelancers_actions(proposal, name):
    url = reverse(f"proposals:{name}", kwargs={"proposal_id": proposal.pk})

    assert browser(proposal.job.client).post(url, {"reason": "rate", "duration": "lt1"}).status_code == 404


def test_a_withdrawn_proposal_is_gone_for_the_client(pro, proposal):
    services.proposal_withdraw(actor=pro, proposal_id=proposal.pk, reason="rate")

    assert browser(proposal.job.client).get(detail_url(proposal)).status_code == 404
    assert browser(pro).get(detail_url(proposal)).status_code == 200


def test_the_clients_actions_through_the_page(proposal):
    client = browser(proposal.job.client)
    back = review_url(proposal.job)

    shortlisted = client.post(reverse("proposals:shortlist", args=[proposal.pk]), {"next": back})
    again = client.post(reverse("proposals:shortlist", args=[proposal.pk]), {"next": back})
    archived = client.post(reverse("proposals:archive", args=[proposal.pk]))
    evil = client.post(reverse("proposals:unarchive", args=[proposal.pk]), {"next": "https://evil.example/"})

    assert shortlisted["Location"] == back
    assert messages_of(shortlisted) == ["Paula P. is on your shortlist."]
    assert messages_of(again) == ["A shortlisted proposal cannot become shortlisted."]
    assert archived["Location"] == detail_url(proposal)
    assert evil["Location"] == detail_url(proposal)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.archived) == ("shortlisted", False)


def test_declining_through_the_page(proposal):
    client = browser(proposal.job.client)

    missing = client.post(reverse("proposals:decline", args=[proposal.pk]), {"reason": ""})
    done = client.post(
        reverse("proposals:decline", args=[proposal.pk]), {"reason": "budget", "note": "Sorry"}
    )

    assert missing.status_code == 200 and "This field is required." in text(missing)
    assert done.status_code == 302
    assert messages_of(done) == ["Declined. Paula P. is told why."]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decline_note) == ("declined", "Sorry")


def test_messaging_through_the_page_opens_the_conversation(proposal):
    response = browser(proposal.job.client).post(
        reverse("proposals:message", args=[proposal.pk]), {"text": "Can we talk tomorrow?"}
    )

    conversation = Conversation.objects.get()
    assert response["Location"] == reverse(
        "messaging:conversation", kwargs={"conversation_id": conversation.pk}
    )
    body = text(browser(proposal.freelancer).get(detail_url(proposal)))
    assert 'data-testid="conversation-link"' in body


def test_withdrawing_through_the_page(pro, proposal):
    response = browser(pro).post(reverse("proposals:withdraw", args=[proposal.pk]), {"reason": "schedule"})

    assert messages_of(response) == ["Your proposal is withdrawn. Its Connects are not refunded."]
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn"
    body = text(browser(pro).get(detail_url(proposal)))
    assert "Withdrawn: No longer available." in body
    assert 'data-testid="bid-form"' not in body


def test_changing_the_bid_through_the_page(pro, proposal):
    url = reverse("proposals:edit_bid", args=[proposal.pk])

    bad = browser(pro).post(
        url,
        {
            "fixed_amount": "900",
            "duration": "lt1",
            "milestone_description": ["A"],
            "milestone_amount": ["800"],
        },
    )
    good = browser(pro).post(url, {"fixed_amount": "900", "duration": "lt1"})

    assert bad.status_code == 200 and "they must add up to the bid exactly" in text(bad)
    assert good.status_code == 302
    proposal.refresh_from_db()
    assert proposal.fixed_amount_cents == 90_000


# --- My proposals ---------------------------------------------------------------------------------------


def test_my_proposals_when_there_are_none(pro):
    body = text(browser(pro).get(reverse("proposals:mine")))

    assert 'data-testid="empty-proposals"' in body


def test_my_proposals_has_a_tab_for_each_stage(pro, client_owner):
    jobs = [make_job(client_owner, title=f"Build a Django booking site {i}") for i in range(4)]
    set_balance(pro, 50)
    waiting = submit(pro, jobs[0])
    talking = submit(pro, jobs[1])
    services.proposal_message(actor=client_owner, proposal_id=talking.pk, text="Hi")
    offered = submit(pro, jobs[2])
    services.proposal_mark_offered(proposal_id=offered.pk, pending=True)
    declined = submit(pro, jobs[3])
    services.proposal_decline(actor=client_owner, proposal_id=declined.pk, reason="budget")
    page = browser(pro)

    tabs = {
        tab: page.get(reverse("proposals:mine"), {"tab": tab})
        for tab in ("submitted", "active", "offers", "archived")
    }

    assert [(t["key"], t["count"]) for t in tabs["submitted"].context["tabs"]] == [
        ("submitted", 1),
        ("active", 1),
        ("offers", 1),
        ("archived", 1),
    ]
    assert list(tabs["submitted"].context["page"].object_list) == [waiting]
    assert list(tabs["active"].context["page"].object_list) == [talking]
    assert list(tabs["offers"].context["page"].object_list) == [offered]
    assert list(tabs["archived"].context["page"].object_list) == [declined]
    assert f'href="{reverse("contracts:offer_list")}"' in text(tabs["offers"])
    assert 'data-testid="offers-link"' in text(tabs["offers"])
    assert 'data-testid="offers-link"' not in text(tabs["submitted"])
    assert page.get(reverse("proposals:mine")).context["tab"] == "offers"  # the most urgent first


def test_an_empty_tab_says_so(pro, proposal):
    body = text(browser(pro).get(reverse("proposals:mine"), {"tab": "offers"}))

    assert 'data-testid="empty-tab"' in body and "No offers yet." in body


# --- the client's review page ------------------------------------------------------------------------------


def test_the_review_page_without_proposals(job):
    body = text(browser(job.client).get(review_url(job)))

    assert 'data-testid="no-proposals"' in body and "No proposals yet." in body


def test_the_review_page_shows_cards_filters_and_sorts(job, django_assert_max_num_queries):
    people = [factories.make_published_freelancer() for _ in range(4)]
    proposals = [submit(person, job) for person in people]
    client = job.client
    services.proposal_shortlist(actor=client, proposal_id=proposals[0].pk)
    services.proposal_archive(actor=client, proposal_id=proposals[1].pk)
    services.proposal_decline(actor=client, proposal_id=proposals[2].pk, reason="budget")
    services.proposal_message(actor=client, proposal_id=proposals[3].pk, text="Hi")
    Proposal.objects.filter(pk=proposals[3].pk).update(match_score=999)
    page = browser(client)

    with django_assert_max_num_queries(25):
        everything = page.get(review_url(job))

    assert everything.status_code == 200
    assert [p.pk for p in everything.context["page"].object_list] == [proposals[3].pk, proposals[0].pk]
    assert everything.context["counts"] == {
        "all": 2,
        "shortlisted": 1,
        "messaged": 1,
        "hired": 0,
        "archived": 1,
        "declined": 1,
    }
    body = text(everything)
    assert "New on the marketplace" in body and "100% match" in body
    assert f"{reverse('contracts:offer_new')}?proposal={proposals[0].pk}" in body
    for key, expected in [("shortlisted", 0), ("archived", 1), ("declined", 2), ("messaged", 3)]:
        shown = page.get(review_url(job), {"filter": key}).context["page"].object_list
        assert [p.pk for p in shown] == [proposals[expected].pk], key
    newest = page.get(review_url(job), {"sort": "newest"}).context["page"].object_list
    assert [p.pk for p in newest] == [proposals[3].pk, proposals[0].pk]


def test_the_review_page_filters_by_hourly_rate(hourly_job):
    question = hourly_job.questions.get()
    cheap, dear = factories.make_published_freelancer(), factories.make_published_freelancer()
    submit(cheap, hourly_job, hourly_rate_cents=2000, answers={question.pk: "a"})
    submit(dear, hourly_job, hourly_rate_cents=9000, answers={question.pk: "b"})
    page = browser(hourly_job.client)

    shown = page.get(review_url(hourly_job), {"rate_min": "50"}).context["page"].object_list
    both = page.get(review_url(hourly_job), {"rate_min": "lots"})

    assert [p.freelancer for p in shown] == [dear]
    assert len(both.context["page"].object_list) == 2
    assert "Some filters were not understood" in text(both)


def test_the_review_page_is_the_job_owners_only(job, pro):
    assert browser(factories.make_client()).get(review_url(job)).status_code == 404
    assert browser(pro).get(review_url(job)).status_code == 404
    assert Client().get(review_url(job)).status_code == 302


def test_my_jobs_links_the_counts_to_the_review_page(job, proposal):
    body = text(browser(job.client).get(reverse("jobs:mine")))

    assert f'<a href="{review_url(job)}" data-testid="review-proposals">1</a>' in body
    assert f'href="{review_url(job)}?filter=shortlisted"' in body
    assert "next release" not in body


# --- Connects --------------------------------------------------------------------------------------------


def test_the_connects_page_with_history(pro, job, client_owner):
    proposal = submit(pro, job)
    other = make_job(client_owner, title="Build a Django booking website")
    submit(pro, other)
    job_services.job_close(actor=client_owner, job_id=other.pk, reason=Job.CloseReason.NO_LONGER_NEEDED)

    response = browser(pro).get(reverse("proposals:connects"))

    body = text(response)
    assert 'data-testid="connects-balance">6<' in body
    assert 'data-testid="next-grant"' in body
    assert 'data-testid="buy-connects"' in body and "coming with payments" not in body
    assert [row.kind for row in response.context["page"].object_list] == [
        "refund",
        "spend",
        "spend",
        "monthly",
    ]
    assert f'href="{reverse("jobs:detail", kwargs={"public_id": job.public_id})}"' in body
    assert f'href="{detail_url(proposal)}"' in body
    assert "Build a Django booking website <span" in body  # a closed job: its title, no dead link


def test_the_connects_page_is_paginated(pro, staff):
    for i in range(30):
        services.connects_grant(actor=staff, user_id=pro.pk, amount=1, note=f"Grant {i}")

    first = browser(pro).get(reverse("proposals:connects"))
    second = browser(pro).get(reverse("proposals:connects"), {"page": 2})

    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 6
    assert ConnectsTransaction.objects.count() == 31


def test_the_connects_page_when_nothing_moved(pro, settings):
    settings.CONNECTS_MONTHLY_GRANT = 0

    body = text(browser(pro).get(reverse("proposals:connects")))

    assert 'data-testid="connects-empty"' in body
    assert 'data-testid="connects-balance">0<' in body


def test_the_connects_page_for_a_client(client_owner):
    body = text(browser(client_owner).get(reverse("proposals:connects")))

    assert 'data-testid="connects-not-freelancer"' in body


def test_the_navigation_shows_my_proposals_and_the_balance(pro):
    body = text(browser(pro).get(reverse("proposals:mine")))

    assert f'href="{reverse("proposals:mine")}">My proposals' in body
    assert (
        'data-testid="nav-connects"><i class="bi bi-lightning-charge" aria-hidden="true"></i> 10 Connects'
        in body
    )


def count_queries(page, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert page.get(url).status_code == 200
    return len(queries)


def test_list_pages_cost_the_same_number_of_queries_whatever_their_length(job, client_owner):
    first = factories.make_published_freelancer()
    set_balance(first, 80)
    submit(first, job)
    client_page, freelancer_page = browser(client_owner), browser(first)
    small = (
        count_queries(client_page, review_url(job)),
        count_queries(freelancer_page, reverse("proposals:mine")),
    )

    for i in range(5):
        submit(factories.make_published_freelancer(), job)
        submit(first, make_job(client_owner, title=f"Build a Django booking site {i}"))

    large = (
        count_queries(client_page, review_url(job)),
        count_queries(freelancer_page, reverse("proposals:mine")),
    )
    assert large == small
