"""Whole journeys in a real browser, from sign-up to money in the bank.

Each journey drives several people (each a browser context of its own) through the product
as they would use it, with the harness of tests/e2e/journey.py: every page is watched for
console errors, page errors, failed requests and 5xx responses (the journey fails at the end
listing them), and a full-page screenshot of every page visited is saved under
tests/e2e/artifacts/journeys/<journey>/ (with pages.txt, the pages in visiting order).

1. New client: sign up, verify, post a job, invite a suggested freelancer, review the
   proposal, interview in a live chat (two browsers), hire, fund, request changes, approve,
   both leave feedback, the freelancer withdraws.
2. New freelancer: sign up, verify, onboarding, a skill test, find a job by search and in
   Best matches, send a proposal.
3. Hourly: timer, weekly billing, dispute, staff resolution in admin.
4. Catalog purchase, and a proposal sent on behalf of an agency.

The flows already covered step by step by other browser tests (onboarding, hourly, catalog)
are reused from those modules and driven here with the journey harness.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import agencies
from accounts import services as account_services
from accounts.models import AssessmentChoice, Skill, SkillAssessment, User
from contracts.models import Contract, Milestone, Offer
from jobs.models import Invitation, Job
from messaging.models import Message
from payments import ledger
from payments import services as payment_services
from payments.models import AccountKind, Payout, PayoutMethod
from proposals.models import Proposal
from reviews.models import Review
from tests import factories
from tests.e2e import test_catalog, test_hourly, test_onboarding
from tests.e2e.journey import Actor, Run
from tests.e2e.test_reviews import _fill_feedback
from tests.jobs.conftest import make_job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

JOB_TITLE = "Django developer for a booking platform"


@pytest.fixture
def run_journey(browser, asgi_live_server, request):
    runs: list[Run] = []

    def start(name: str):
        run = Run(name)
        runs.append(run)

        def actor(who: str, **context_options) -> Actor:
            return Actor(browser, asgi_live_server.url, run, who, **context_options)

        return run, actor

    yield start
    problems = [p for run in runs for p in run.problems()]
    for run in runs:
        run.write_summary()
        for a in run.actors:
            a.close()
    assert problems == [], "browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def local_gateway(settings):
    settings.PAYMENTS_GATEWAY = "local"
    from payments.gateways import local

    local.reset()
    yield
    local.reset()


def _matching_freelancer(email: str, first_name: str) -> User:
    """A published Python/Django freelancer: the kind the matching suggests for the job."""
    python = Skill.objects.get(name="Python")
    django_skill = Skill.objects.get(name="Django")
    freelancer = factories.make_published_freelancer(email=email, first_name=first_name)
    account_services.freelancer_profile_update(
        actor=freelancer,
        category_id=python.subcategory.category_id,
        subcategory_id=python.subcategory_id,
        title="Python and Django developer",
        hourly_rate_cents=4500,
    )
    account_services.freelancer_profile_set_skills(actor=freelancer, skill_ids=[python.pk, django_skill.pk])
    return freelancer


def _sign_up_and_verify(a: Actor, *, role: str, first: str, last: str, email: str) -> None:
    page = a.page
    a.go("/", "home")
    page.get_by_role("link", name="Sign up").first.click()
    page.wait_for_url("**/accounts/signup/")
    page.check(f"input[name=role][value={role}]")
    page.fill("input[name=first_name]", first)
    page.fill("input[name=last_name]", last)
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", "a-long-pass-phrase-2026")
    page.fill("input[name=password2]", "a-long-pass-phrase-2026")
    a.shot("signup")
    page.locator("form[action$='/accounts/signup/'] button[type=submit]").click()
    page.wait_for_url("**/accounts/confirm-email/")
    a.name_page("verification-sent")
    sent = [m for m in mail.outbox if email in m.to]
    assert len(sent) == 1
    found = re.search(r"https?://\S+/accounts/confirm-email/\S+/", str(sent[0].body))
    assert found, sent[0].body
    link = found.group(0)
    page.goto(link)
    a.shot("confirm-email")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/confirm-email/" not in url)
    a.name_page("verified")


def _post_job_through_wizard(c: Actor) -> None:
    page = c.page
    page.goto("/dashboard/")
    page.get_by_role("link", name="Post a job").first.click()
    page.wait_for_url("**/jobs/new/")
    page.fill("input[name=title]", JOB_TITLE)
    page.select_option("select[name=category]", label="Web, Mobile & Software Dev")
    c.shot("wizard-title")
    page.get_by_test_id("continue").click()
    page.wait_for_url("**/edit/skills/")
    page.get_by_label("Python", exact=True).check()
    page.get_by_label("Django", exact=True).check()
    c.shot("wizard-skills")
    page.get_by_test_id("continue").click()
    page.wait_for_url("**/edit/scope/")
    c.name_page("wizard-scope")
    page.get_by_test_id("continue").click()
    page.wait_for_url("**/edit/budget/")
    page.check("input[name=budget_type][value=fixed]")
    page.fill("input[name=fixed_budget]", "1500")
    c.shot("wizard-budget")
    page.get_by_test_id("continue").click()
    page.wait_for_url("**/edit/details/")
    page.fill(
        "textarea[name=description]",
        "We run a small travel agency and need a booking platform built with Django and PostgreSQL. "
        "You will design the data model, build the booking flow and deploy it.",
    )
    c.shot("wizard-details")
    page.get_by_test_id("continue").click()
    page.wait_for_url("**/preview/")
    c.name_page("wizard-preview")
    page.get_by_test_id("publish").click()
    page.wait_for_url("**/jobs/~*/")
    c.name_page("job-published")


def _save_test_card(c: Actor) -> None:
    c.page.goto("/payments/billing/")
    c.page.fill("input[name=number]", "4242 4242 4242 4242")
    c.page.fill("input[name=exp_month]", "12")
    c.page.fill("input[name=exp_year]", str(timezone.now().year + 2))
    c.page.fill("input[name=cvc]", "123")
    c.page.get_by_role("button", name="Save card").click()
    c.page.wait_for_load_state()
    assert "saved" in c.alerts().lower()
    c.shot("card-saved")


def _fill_proposal(f: Actor, amount: str) -> None:
    page = f.page
    page.fill(
        "textarea[name=cover_letter]",
        "Hello, I have built three booking platforms with Django and PostgreSQL, including "
        "payments and calendars. I can start on Monday.",
    )
    page.fill("input[name=fixed_amount]", amount)
    page.select_option("select[name=duration]", value=Job.Duration.LESS_THAN_1_MONTH)
    page.locator("input[name=fixed_amount]").dispatch_event("input")


def _live_chat(c: Actor, f: Actor, conversation_id: int) -> None:
    """Both people have the interview open; each sees the other's message arrive."""
    for a in (c, f):
        a.page.goto(f"/messages/{conversation_id}/")
        a.page.wait_for_function("window.mkRealtime && window.mkRealtime.isOpen()")
        a.page.evaluate("window.__noReload = true")
    c.page.locator("#chat-form textarea").fill("Can you show me a booking calendar you built?")
    c.page.locator("#chat-form textarea").press("Enter")
    f.page.locator("#chat-messages li", has_text="Can you show me a booking calendar").wait_for()
    f.shot("chat-question-arrived")
    f.page.locator("#chat-form textarea").fill("Sure: the clinic scheduler has one, I will share a demo.")
    f.page.locator("#chat-form textarea").press("Enter")
    c.page.locator("#chat-messages li", has_text="the clinic scheduler has one").wait_for()
    c.shot("chat-answer-arrived")
    # neither page was reloaded: the messages came over the websocket
    assert c.page.evaluate("window.__noReload") is True
    assert f.page.evaluate("window.__noReload") is True


def test_journey_new_client(run_journey, local_gateway, settings):
    _run, actor = run_journey("new-client")
    freelancer = _matching_freelancer("tariq@example.com", "Tariq")
    start = timezone.now()

    # --- a new client signs up, verifies the email and posts a job through the wizard
    c = actor("client")
    _sign_up_and_verify(c, role="client", first="Olivia", last="Owens", email="olivia@example.com")
    _post_job_through_wizard(c)
    job = Job.objects.get(title=JOB_TITLE)
    assert job.client.email == "olivia@example.com" and job.status == Job.Status.OPEN

    # --- invites a suggested freelancer from the job page
    suggestion = c.page.get_by_test_id("suggestion").filter(has_text="Tariq")
    assert "2 of 2 skills" in suggestion.get_by_test_id("suggestion-reasons").inner_text()
    suggestion.get_by_test_id("invite-link").click()
    c.page.wait_for_url(f"**/jobs/{job.public_id}/invite/?freelancer=*")
    c.name_page("invite-form")
    message = c.page.locator("textarea[name=message]")
    if message.count():
        message.fill("Hi Tariq, your booking platform work looks like a great fit.")
    c.page.get_by_role("button", name="Send invitation").click()
    c.page.wait_for_load_state()
    assert "invit" in c.alerts().lower()
    c.shot("invited")
    invitation = Invitation.objects.get(job=job, freelancer=freelancer)

    # --- the freelancer accepts the invitation and sends a proposal (no Connects)
    f = actor("freelancer")
    f.log_in(freelancer.email)
    f.go("/invitations/", "invitations")
    f.page.locator(f"a[href$='/invitations/{invitation.pk}/']").first.click()
    f.page.wait_for_url(f"**/invitations/{invitation.pk}/")
    f.name_page("invitation")
    f.page.get_by_test_id("accept").click()
    f.page.wait_for_url(f"**/jobs/{job.public_id}/apply/")
    _fill_proposal(f, "1200")
    f.page.wait_for_function("document.getElementById('you-receive').textContent.includes('1,080')")
    f.shot("apply-form")
    f.page.get_by_test_id("send-proposal").click()
    f.page.wait_for_url("**/proposals/*/")
    f.name_page("proposal-sent")
    proposal = Proposal.objects.get(job=job, freelancer=freelancer)
    assert proposal.connects_spent == 0 and proposal.fixed_amount_cents == 120_000

    # --- the client reviews the proposals and starts the interview
    c.go(f"/jobs/{job.public_id}/proposals/", "proposals")
    card = c.page.get_by_test_id("proposal-card").filter(has_text="Tariq")
    assert "$1,200.00" in card.get_by_test_id("card-bid").inner_text()
    c.go(f"/proposals/{proposal.pk}/", "proposal")
    form = c.page.get_by_test_id("message-form")
    form.locator("textarea").fill("Thanks Tariq! Do you have time for a few questions?")
    form.get_by_role("button", name="Send message").click()
    c.page.wait_for_url("**/messages/*/")
    c.name_page("interview-started")
    proposal.refresh_from_db()
    assert proposal.conversation_id is not None

    # --- the interview, live in both browsers
    _live_chat(c, f, proposal.conversation_id)
    assert Message.objects.filter(conversation_id=proposal.conversation_id).count() >= 3

    # --- hire: the client sends the offer, the freelancer accepts
    c.go(f"/proposals/{proposal.pk}/", "proposal-before-hire")
    c.page.get_by_test_id("hire").click()
    c.page.wait_for_url("**/contracts/offers/new/?proposal=*")
    c.name_page("offer-form")
    c.page.get_by_test_id("send-offer").click()
    c.page.wait_for_url("**/contracts/offers/*/")
    c.name_page("offer-sent")
    offer = Offer.objects.get(proposal=proposal)
    f.go(f"/contracts/offers/{offer.pk}/", "offer-received")
    assert "$1,080.00" in f.page.get_by_test_id("freelancer-net").inner_text()
    f.page.get_by_test_id("accept").click()
    f.page.wait_for_url("**/contracts/*/")
    f.name_page("contract")
    contract = Contract.objects.get(offer=offer)
    assert contract.status == Contract.Status.ACTIVE
    milestone = contract.milestones.order_by("pk").first()
    assert milestone is not None and milestone.amount_cents == 120_000

    # --- the client saves the test card and funds the milestone
    _save_test_card(c)
    c.go(f"/contracts/{contract.pk}/", "contract")
    c.page.check(f"#fund-{milestone.pk}")
    assert "$1,260.00" in c.page.locator("[data-fund-summary]").inner_text()  # + the 5% fee
    c.page.get_by_test_id("fund").click()
    c.page.wait_for_url(f"**/contracts/{contract.pk}/")
    assert c.page.get_by_test_id("escrow-balance").inner_text() == "$1,200.00"
    c.shot("funded")

    # --- the freelancer submits; the client asks for changes; the freelancer resubmits
    milestone_url = f"/contracts/{contract.pk}/milestones/{milestone.pk}/"
    f.go(milestone_url, "milestone")
    f.page.fill("textarea[name=message]", "The booking flow is on staging; see the notes.")
    f.page.get_by_test_id("submit-work").click()
    f.page.wait_for_load_state()
    assert "Work submitted" in f.page.content()
    f.shot("submitted")

    c.go(milestone_url, "submission-received")
    c.page.fill("textarea[name=note]", "Please add the cancellation page before I approve.")
    c.page.get_by_test_id("request-changes").click()
    c.page.wait_for_load_state()
    c.name_page("changes-requested")
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.CHANGES_REQUESTED, milestone.status

    f.go(milestone_url, "changes-to-make")
    assert "cancellation page" in f.page.content()
    f.page.fill("textarea[name=message]", "Added the cancellation page.")
    f.page.get_by_test_id("submit-work").click()
    f.page.wait_for_load_state()
    f.name_page("resubmitted")

    c.go(milestone_url, "resubmission-received")
    c.confirm_next_dialog()
    c.page.get_by_test_id("approve").click()
    c.page.wait_for_load_state()
    c.page.get_by_text("the payment is released").wait_for()
    c.shot("approved")
    milestone.refresh_from_db()
    assert milestone.status == Milestone.Status.RELEASED
    assert ledger.balance(AccountKind.FREELANCER_PENDING, owner=freelancer) == 108_000

    # --- both leave feedback: the client ends the contract first
    c.go(f"/contracts/{contract.pk}/", "contract-paid")
    c.page.get_by_label("The work is completed").check()
    c.confirm_next_dialog()
    c.page.get_by_test_id("end").click()
    c.page.get_by_test_id("contract-ended").wait_for()
    c.page.get_by_test_id("leave-feedback").click()
    c.page.wait_for_url(f"**/contracts/{contract.pk}/feedback/")
    _fill_feedback(
        c.page,
        {f"cat_{k}": "5" for k, _ in Review.FREELANCER_CATEGORIES} | {"rating": "5"},
        "Built our booking platform quickly and well.",
        "",
        "10",
    )
    c.shot("client-feedback")
    c.page.get_by_test_id("submit-feedback").click()
    c.page.wait_for_url(f"**/contracts/{contract.pk}/")
    c.name_page("client-feedback-sent")

    f.go(f"/contracts/{contract.pk}/", "contract-ended")
    f.page.get_by_test_id("leave-feedback").click()
    f.page.wait_for_url(f"**/contracts/{contract.pk}/feedback/")
    _fill_feedback(
        f.page,
        {f"cat_{k}": "5" for k, _ in Review.CLIENT_CATEGORIES} | {"rating": "5"},
        "Clear brief, quick answers, paid promptly.",
        "",
        "10",
    )
    f.page.get_by_test_id("submit-feedback").click()
    f.page.wait_for_url(f"**/contracts/{contract.pk}/")
    assert "Built our booking platform quickly" in f.page.get_by_test_id("contract-feedback").inner_text()
    f.shot("feedback-revealed")
    assert Review.objects.filter(contract=contract).count() == 2

    # --- after the security hold, the freelancer withdraws to the bank account
    method = payment_services.payout_method_add_bank_account(
        actor=freelancer, holder_name="Tariq T", routing_number="110000000", account_number="000123456789"
    )
    PayoutMethod.objects.filter(pk=method.pk).update(usable_after=start)
    with time_machine.travel(start + timedelta(days=settings.SECURITY_HOLD_DAYS, hours=1), tick=True):
        payment_services.release_matured_holds()  # the beat task
        f.go("/payments/balance/", "balance")
        assert f.page.get_by_test_id("available").inner_text() == "$1,080.00"
        f.page.fill("input[name=amount]", "1080")
        f.page.get_by_role("button", name="Withdraw", exact=True).click()
        f.page.wait_for_load_state()
        f.name_page("withdrawn")
    payout = Payout.objects.get(user=freelancer)
    assert payout.amount_cents == 108_000
    assert ledger.balance(AccountKind.FREELANCER_AVAILABLE, owner=freelancer) == 0


def _pass_skill_test(f: Actor, skill: str) -> None:
    """Starts the skill's test and answers every question right (the answers come from the
    database: the test checks the flow and the grading, not the freelancer's knowledge)."""
    page = f.page
    f.go("/me/assessments/", "skill-tests")
    page.get_by_role("button", name=f"Start the {skill} test").click()
    page.wait_for_url("**/me/assessments/attempts/*/")
    names = page.eval_on_selector_all(
        "#attempt-form input[type=radio]", "inputs => [...new Set(inputs.map(i => i.name))]"
    )
    assert names, "the test shows no question"
    for name in names:
        correct = AssessmentChoice.objects.get(question_id=int(name[1:]), is_correct=True)
        page.check(f"#c{correct.pk}")
    f.shot("skill-test-answered")
    page.get_by_test_id("submit-test").click()
    page.wait_for_url("**/result/")
    f.name_page("skill-test-result")


def test_journey_new_freelancer(run_journey, tmp_path):
    run, actor = run_journey("new-freelancer")
    python = Skill.objects.get(name="Python")
    django_skill = Skill.objects.get(name="Django")

    # --- sign up, verify the email, the onboarding wizard, the public profile (the
    # onboarding browser test's flow, driven with the journey harness)
    test_onboarding.test_freelancer_signs_up_verifies_and_publishes_profile(
        lambda name="": actor(name or "freelancer"), tmp_path
    )
    f = run.actors[0]
    freelancer = User.objects.get(email="ada@example.com")

    # --- passes the Python skill test: the skill shows as verified
    _pass_skill_test(f, "Python")
    assessment = SkillAssessment.objects.get(skill=python)
    attempt = assessment.attempts.get(user=freelancer)
    assert attempt.passed and attempt.score_percent == 100

    # --- a client publishes a job that fits
    client = factories.make_client(email="clinic@example.com", first_name="Carla")
    job = make_job(
        client,
        title="Python developer for a clinic scheduler",
        skill_ids=[python.pk, django_skill.pk],
    )

    # --- finds it by search...
    f.go("/jobs/search/", "search")
    f.page.fill("input[name=q]", "clinic scheduler")
    f.page.get_by_test_id("apply-filters").click()
    f.page.wait_for_url(lambda url: "q=clinic" in url)
    f.page.locator("article.job-card", has_text=job.title).wait_for()
    f.shot("search-results")

    # --- ...and in Best matches, with the reasons
    f.go("/jobs/feed/", "best-matches")
    match = f.page.locator("article.job-card", has_text=job.title)
    assert "2 of 2 skills" in match.get_by_test_id("match-reasons").inner_text()

    # --- opens it and sends a proposal (paid in Connects)
    match.get_by_role("link", name=job.title).first.click()
    f.page.wait_for_url(f"**/jobs/{job.public_id}/")
    f.name_page("job")
    f.page.get_by_test_id("apply-button").click()
    f.page.wait_for_url(f"**/jobs/{job.public_id}/apply/")
    _fill_proposal(f, "900")
    f.page.wait_for_function("document.getElementById('you-receive').textContent.includes('810')")
    f.shot("apply-form")
    f.page.get_by_test_id("send-proposal").click()
    f.page.wait_for_url("**/proposals/*/")
    f.name_page("proposal-sent")
    proposal = Proposal.objects.get(job=job, freelancer=freelancer)
    assert proposal.status == Proposal.Status.SUBMITTED and proposal.connects_spent > 0


def test_journey_hourly(run_journey, local_gateway, settings):
    """Timer, weekly billing, dispute and staff resolution in Django admin: the hourly
    browser test's flow (and its time travel), driven with the journey harness."""
    run, actor = run_journey("hourly")
    test_hourly.test_timer_billing_dispute_and_staff_split(lambda name="": actor(name or "user"), settings)
    assert {a.actor for a in run.actors} == {"freelancer", "client", "staff"}
    assert run.count >= 10


def test_journey_catalog_and_agency(run_journey, local_gateway, settings):
    _run, actor = run_journey("catalog-and-agency")

    # --- a client buys a catalog service: the catalog browser test's flow
    test_catalog.test_buy_standard_answer_deliver_revise_approve(
        lambda name="": actor(name or "user"), settings
    )

    # --- a freelancer proposes on behalf of their agency
    freelancer = _matching_freelancer("ana@example.com", "Ana")
    agency = agencies.agency_create(actor=freelancer, name="Booking Builders", tagline="Django studio")
    job = make_job(
        factories.make_client(email="agency-client@example.com"), title="Booking site for a hostel"
    )
    a = actor("agency-freelancer")
    a.log_in(freelancer.email)
    a.go(f"/jobs/{job.public_id}/", "job")
    a.page.get_by_test_id("apply-button").click()
    a.page.wait_for_url(f"**/jobs/{job.public_id}/apply/")
    _fill_proposal(a, "1500")
    a.page.get_by_label("Propose as").select_option(label="Booking Builders")
    a.shot("apply-as-agency")
    a.page.get_by_test_id("send-proposal").click()
    a.page.wait_for_url("**/proposals/*/")
    a.name_page("agency-proposal-sent")
    assert "On behalf of Booking Builders" in a.page.get_by_test_id("proposal-agency").inner_text()
    proposal = Proposal.objects.get(job=job, freelancer=freelancer)
    assert proposal.agency_id == agency.pk

    # the client reviews it with the other proposals
    cl = actor("agency-client")
    cl.log_in("agency-client@example.com")
    cl.go(f"/jobs/{job.public_id}/proposals/", "proposals")
    assert cl.page.get_by_test_id("proposal-card").count() == 1
    cl.go(f"/proposals/{proposal.pk}/", "agency-proposal")
    assert "On behalf of Booking Builders" in cl.page.get_by_test_id("proposal-agency").inner_text()
    cl.page.get_by_test_id("proposal-agency").get_by_role("link").click()
    cl.page.wait_for_url(f"**/agencies/{agency.slug}/")
    cl.name_page("agency-profile")


def test_the_harness_reports_every_kind_of_problem(run_journey):
    """The journeys are only as strict as their harness: a console error, an uncaught
    error, a failed request and a 5xx response are each reported, and pages are shot."""
    run, actor = run_journey("harness-check")
    a = actor("visitor")
    a.page.route("**/harness/boom", lambda route: route.fulfill(status=500, body="boom"))
    a.page.route("**/harness/gone", lambda route: route.abort("connectionrefused"))
    a.go("/", "home")
    a.page.evaluate(
        """async () => {
            console.error('a console error');
            setTimeout(() => { throw new Error('an uncaught error'); }, 0);
            await fetch('/harness/boom');
            try { await fetch('/harness/gone'); } catch (e) {}
        }"""
    )
    a.page.wait_for_timeout(300)
    problems = run.problems()
    assert "[visitor] console: a console error" in problems
    assert any(p.startswith("[visitor] page error: ") and "an uncaught error" in p for p in problems)
    assert any(p.startswith("[visitor] 500: ") and p.endswith("/harness/boom") for p in problems)
    assert any(p.startswith("[visitor] request failed: ") and "/harness/gone" in p for p in problems)
    a.problems.items.clear()  # provoked on purpose: this journey itself passes
    shots = sorted(p.name for p in run.folder.glob("*.png"))
    assert shots[0] == "01-visitor-home.png", shots
