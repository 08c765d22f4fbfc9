"""The access matrix: for every route that names an object (its URL has arguments), which
status each kind of user gets on GET and on POST (with an empty body).

Columns, in order: the owner, another client, another freelancer, an anonymous visitor,
a staff member. "owner" is the world's client or freelancer (``Route.owner``) whose object
the URL names (tests/marketplace/world.py builds the objects through the real services).

The rules the table encodes:
- 404 for an object one may not see (a stranger learns nothing, not even that it exists);
- 403 for an object one may see but an action one may not take;
- anonymous: a redirect to the login page (LOGIN) for pages, 403 for the API (the session
  authenticator answers first, so no 401 challenge; the tracker's token API answers 401),
  unless the page is public;
- the POST is empty: an API operation that validates its input before looking the object
  up answers 400 to anyone (nothing is revealed, nothing changes); money pages ask for the
  password again first (REAUTH);
- staff use the admin for other people's objects: on the site they are strangers.

test_access_matrix.py fails when a route with arguments has no row here, so a new route
cannot skip it. Every request runs in a savepoint that is rolled back, so an owner's POST
changes nothing for the next row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.marketplace.world import World

LOGIN = "login"  # a 302 to the login page
REAUTH = "reauth"  # a 302 to "confirm your password" (allauth reauthentication), before anything else
ACTORS = ("owner", "other_client", "other_freelancer", "anonymous", "staff")
Statuses = tuple[int | str, int | str, int | str, int | str, int | str]


@dataclass(frozen=True)
class Route:
    """Pages are tried with GET and POST; API routes with every method their operations in
    the OpenAPI schema use (and only those)."""

    owner: str  # "client" or "freelancer" of the world
    kwargs: Callable[[World], dict[str, Any]]
    get: Statuses | None = None
    post: Statuses | None = None
    put: Statuses | None = None
    patch: Statuses | None = None
    delete: Statuses | None = None
    data: dict[str, Any] | None = None  # the POST's body when an empty one stops at validation

    def statuses(self, method: str) -> Statuses | None:
        return getattr(self, method)


# --- the objects the URLs name --------------------------------------------------------------


def job(w: World) -> dict[str, Any]:
    return {"public_id": w.job.public_id}


def job_step(w: World) -> dict[str, Any]:
    return {"public_id": w.job.public_id, "step": "details"}


def job_attachment(w: World) -> dict[str, Any]:
    return {"public_id": w.job.public_id, "attachment_id": w.job_attachment.pk}


def proposal(w: World) -> dict[str, Any]:
    return {"proposal_id": w.proposal.pk}


def proposal_attachment(w: World) -> dict[str, Any]:
    return {"proposal_id": w.proposal.pk, "attachment_id": w.proposal_attachment.pk}


def listing_pk(w: World) -> dict[str, Any]:
    return {"pk": w.listing.pk}


def listing(w: World) -> dict[str, Any]:
    return {"public_id": w.listing.public_id}


def order(w: World) -> dict[str, Any]:
    return {"public_id": w.order.public_id}


def saved_search(w: World) -> dict[str, Any]:
    return {"search_id": w.saved_search.pk}


def freelancer_user(w: World) -> dict[str, Any]:
    return {"user_id": w.freelancer.pk}


def client_user(w: World) -> dict[str, Any]:
    return {"user_id": w.client.pk}


def invitation(w: World) -> dict[str, Any]:
    return {"invitation_id": w.own_invitation.pk}


def conversation(w: World) -> dict[str, Any]:
    return {"conversation_id": w.conversation.pk}


def message(w: World) -> dict[str, Any]:
    return {"conversation_id": w.conversation.pk, "seq": w.message.seq}


def chat_attachment(w: World) -> dict[str, Any]:
    return {"attachment_id": w.attachment.pk}


def chat_attachment_in(w: World) -> dict[str, Any]:
    return {"conversation_id": w.conversation.pk, "attachment_id": w.attachment.pk}


def unsubscribe_token(w: World) -> dict[str, Any]:
    from messaging.emails import unsubscribe_token as make

    return {"token": make(w.freelancer.pk, "message")}


def notification(w: World) -> dict[str, Any]:
    return {"notification_id": w.notification.pk}


def payout_method(w: World) -> dict[str, Any]:
    return {"method_id": w.payout_method.pk}


def card(w: World) -> dict[str, Any]:
    return {"card_id": w.card.pk}


def invoice(w: World) -> dict[str, Any]:
    return {"number": w.invoice.number}


def receipt(w: World) -> dict[str, Any]:
    return {"kind": "payment", "source_id": w.charge.pk}


def statement(w: World) -> dict[str, Any]:
    return {"year": w.charge.created_at.year, "month": w.charge.created_at.month}


def offer(w: World) -> dict[str, Any]:
    return {"offer_id": w.offer.pk}


def contract(w: World) -> dict[str, Any]:
    return {"contract_id": w.contract.pk}


def milestone(w: World) -> dict[str, Any]:
    return {"contract_id": w.contract.pk, "milestone_id": w.milestone.pk}


def milestone_only(w: World) -> dict[str, Any]:
    return {"milestone_id": w.milestone.pk}


def contract_file(w: World) -> dict[str, Any]:
    return {"contract_id": w.contract.pk, "file_id": w.contract_file.pk}


def hourly(w: World) -> dict[str, Any]:
    return {"contract_id": w.hourly_contract.pk}


def segment(w: World) -> dict[str, Any]:
    return {"contract_id": w.hourly_contract.pk, "segment_id": w.segment.pk}


def timesheet(w: World) -> dict[str, Any]:
    return {"contract_id": w.hourly_contract.pk, "timesheet_id": w.timesheet.pk}


def timesheet_only(w: World) -> dict[str, Any]:
    return {"timesheet_id": w.timesheet.pk}


def dispute(w: World) -> dict[str, Any]:
    return {"dispute_id": w.dispute.pk}


def settlement(w: World) -> dict[str, Any]:
    return {"dispute_id": w.dispute.pk, "proposal_id": w.settlement.pk}


def settlement_only(w: World) -> dict[str, Any]:
    return {"proposal_id": w.settlement.pk}


def dispute_file(w: World) -> dict[str, Any]:
    return {"dispute_id": w.dispute.pk, "file_id": w.dispute_file.pk}


def tracker_token(w: World) -> dict[str, Any]:
    return {"token_id": w.tracker_token.pk}


def ended_contract(w: World) -> dict[str, Any]:
    return {"contract_id": w.ended_contract.pk}


def review(w: World) -> dict[str, Any]:
    return {"review_id": w.review.pk}


def freelancer_profile(w: World) -> dict[str, Any]:
    return {"public_id": w.freelancer.freelancer_profile.public_id}


def client_profile(w: World) -> dict[str, Any]:
    return {"public_id": w.client.client_profile.public_id}


def onboarding_step(w: World) -> dict[str, Any]:
    return {"step": "about"}


def assessment(w: World) -> dict[str, Any]:
    return {"assessment_id": w.attempt.assessment_id}


def attempt(w: World) -> dict[str, Any]:
    return {"attempt_id": w.attempt.pk}


def education_item(w: World) -> dict[str, Any]:
    return {"kind": "education", "item_id": w.education.pk}


def no_payout(w: World) -> dict[str, Any]:
    """The world has no withdrawal: an id nobody owns (everyone 404, nobody 500)."""
    return {"payout_id": 10**9}


def bad_email_key(w: World) -> dict[str, Any]:
    return {"key": "not-a-real-key"}


def bad_reset_key(w: World) -> dict[str, Any]:
    return {"uidb36": "zz", "key": "not-a-real-key"}


def missing_media(w: World) -> dict[str, Any]:
    return {"path": "nothing/here.png"}


def team(w: World) -> dict[str, Any]:
    return {"team_id": w.team.pk}


def team_member(w: World) -> dict[str, Any]:
    """The team's owner (the only member): the URL names a membership of the team."""
    return {"team_id": w.team.pk, "user_id": w.client.pk}


def team_invitation(w: World) -> dict[str, Any]:
    return {"invitation_id": w.team_invitation.pk}


def team_invitation_accept(w: World) -> dict[str, Any]:
    return {"invitation_id": w.team_invitation.pk, "action": "accept"}


def team_token(w: World) -> dict[str, Any]:
    return {"token": w.team_token}


def agency(w: World) -> dict[str, Any]:
    return {"slug": w.agency.slug}


def agency_member(w: World) -> dict[str, Any]:
    """The agency's owner (the only member)."""
    return {"slug": w.agency.slug, "user_id": w.freelancer.pk}


def agency_invitation(w: World) -> dict[str, Any]:
    return {"invitation_id": w.agency_invitation.pk}


def agency_invitation_in(w: World) -> dict[str, Any]:
    return {"slug": w.agency.slug, "invitation_id": w.agency_invitation.pk}


def agency_token(w: World) -> dict[str, Any]:
    return {"token": w.agency_token}


def identity(w: World) -> dict[str, Any]:
    return {"verification_id": w.identity.pk}


def reported_message(w: World) -> dict[str, Any]:
    """A chat message: content only the conversation's participants may see."""
    return {"label": "messaging.message", "object_id": w.message.pk}


def thread(w: World) -> dict[str, Any]:
    return {"thread_id": w.thread.pk}


def post(w: World) -> dict[str, Any]:
    return {"post_id": w.post.pk}


def board(w: World) -> dict[str, Any]:
    return {"slug": w.board.slug}


def article(w: World) -> dict[str, Any]:
    return {"slug": w.article.slug}


def help_category(w: World) -> dict[str, Any]:
    return {"slug": w.article.category.slug}


def event(w: World) -> dict[str, Any]:
    return {"slug": w.event.slug}


# --- routes without arguments -------------------------------------------------------------------

# Pages and API operations without arguments that an anonymous visitor may GET, with the
# status they get. Every other route without arguments must send them to the login page
# (pages) or answer 403 (API).
PUBLIC: dict[str, int] = {
    "home": 200,
    "healthz": 200,
    "bench_bare": 200,
    "api_token": 400,
    "api_freelancer_list": 200,
    "api_categories": 200,
    "api_skills": 200,
    "api_services": 200,
    "api_jobs_search": 200,
    "api_talent": 200,
    "api_help_categories": 200,
    "api_help_articles": 200,
    "api_events": 200,
    "api_forum_boards": 200,
    "api_forum_threads": 200,
    "accounts:freelancer_list": 200,
    "jobs:services": 200,
    "jobs:search": 200,
    "jobs:talent": 200,
    "jobs:talent_skill_options": 200,
    "payments:stripe_webhook": 405,
    "community:help_home": 200,
    "community:help_search": 200,
    "community:event_list": 200,
    "community:forum_home": 200,
    "community:forum_search": 200,
}

# Third-party and framework routes the matrix leaves to their own tests: allauth's account
# pages (login, sign-up, password reset...), the admin and the API documentation.
EXEMPT_PREFIXES = ("admin:", "account_", "mfa_", "socialaccount_", "google_", "apple_")
EXEMPT = {"schema", "api_docs"}

# Websocket routes (marketplace/routing.py): every one refuses a foreign Origin; what else
# each refuses is tested in test_access_matrix.py.
WEBSOCKETS: dict[str, str] = {
    "ws/chat/": "signed-in users; each conversation only to its participants",
    "ws/health/": "a liveness probe: no data, anyone from an allowed origin",
}

# --- the matrix -------------------------------------------------------------------------------
#                 owner, other client, other freelancer, anonymous, staff
# fmt: off
ROUTES: dict[str, Route] = {
    # API: accounts, catalog, jobs, proposals, messaging, payments, contracts, reviews
    "api_freelancer_detail": Route("client", freelancer_profile, get=(200, 200, 200, 200, 200)),
    "api_service_order": Route("client", order, get=(200, 404, 404, 403, 404)),
    "api_service_order_pay": Route("client", order, post=(400, 404, 404, 403, 404)),
    "api_service_order_requirements": Route("client", order, post=(400, 404, 404, 403, 404)),
    "api_service_order_deliver": Route("freelancer", order, post=(400, 404, 404, 403, 404)),
    "api_service_order_revision": Route("client", order, post=(400, 404, 404, 403, 404)),
    "api_service_order_approve": Route("client", order, post=(400, 404, 404, 403, 404)),
    "api_service_order_cancel": Route("client", order, post=(400, 404, 404, 403, 404)),
    "api_service": Route("client", listing, get=(200, 200, 200, 200, 200)),
    "api_service_buy": Route("client", listing, post=(400, 400, 400, 403, 400)),
    "api_jobs_saved_delete": Route("client", job, delete=(204, 204, 204, 403, 404)),
    "api_jobs_saved_search_delete": Route("freelancer", saved_search, delete=(204, 404, 404, 403, 404)),
    "api_match_dismiss": Route("client", job, post=(400, 400, 400, 403, 400)),
    "api_suggested_talent": Route("client", job, get=(200, 404, 404, 403, 404)),
    "api_invitation_send": Route("client", job, post=(400, 400, 400, 403, 400)),
    "api_invitation_accept": Route("freelancer", invitation, post=(200, 404, 404, 403, 404)),
    "api_invitation_decline": Route("freelancer", invitation, post=(400, 400, 400, 403, 400)),
    "api_job_detail": Route("client", job, get=(200, 200, 200, 200, 200), patch=(200, 404, 404, 403, 404)),
    "api_job_publish": Route("client", job, post=(400, 404, 404, 403, 404)),
    "api_job_close": Route("client", job, post=(400, 404, 404, 403, 404)),
    "api_job_reopen": Route("client", job, post=(400, 404, 404, 403, 404)),
    "api_job_flag": Route("client", job, post=(400, 400, 400, 403, 400)),
    "api_proposal_detail": Route("freelancer", proposal, get=(200, 404, 404, 403, 404)),
    "api_proposal_bid": Route("freelancer", proposal, post=(400, 404, 404, 403, 404)),
    "api_proposal_withdraw": Route("freelancer", proposal, post=(400, 404, 404, 403, 404)),
    "api_proposal_shortlist": Route("client", proposal, post=(200, 404, 404, 403, 404)),
    "api_proposal_unshortlist": Route("client", proposal, post=(400, 404, 404, 403, 404)),
    "api_proposal_archive": Route("client", proposal, post=(200, 404, 404, 403, 404)),
    "api_proposal_unarchive": Route("client", proposal, post=(400, 404, 404, 403, 404)),
    "api_proposal_decline": Route("client", proposal, post=(400, 404, 404, 403, 404)),
    "api_proposal_message": Route("client", proposal, post=(400, 404, 404, 403, 404)),
    "api_job_proposals": Route("client", job, get=(200, 404, 404, 403, 404)),
    "api_conversation": Route("client", conversation, get=(200, 404, 404, 403, 404)),
    "api_conversation_messages": Route("client", conversation, get=(200, 404, 404, 403, 404), post=(400, 400, 400, 403, 400)),
    "api_conversation_message": Route("client", message, delete=(200, 404, 404, 403, 404), patch=(400, 400, 400, 403, 400)),
    "api_conversation_read": Route("client", conversation, post=(400, 400, 400, 403, 400)),
    "api_conversation_attachments": Route("client", conversation, post=(415, 415, 415, 403, 415)),
    "api_conversation_attachment": Route("freelancer", chat_attachment_in, get=(200, 404, 404, 403, 404)),
    "api_notification_read": Route("freelancer", notification, post=(200, 404, 404, 403, 404)),
    "api_payout_method": Route("freelancer", payout_method, delete=(400, 400, 400, 403, 400)),
    "api_withdrawal": Route("freelancer", no_payout, get=(404, 404, 404, 403, 404)),
    "api_card": Route("client", card, delete=(204, 404, 404, 403, 404)),
    "api_payments_invoice": Route("client", invoice, get=(200, 404, 404, 403, 404)),
    "api_payments_statement": Route("client", statement, get=(200, 200, 200, 403, 200)),
    "api_offer_detail": Route("client", offer, get=(200, 404, 404, 403, 404)),
    "api_offer_accept": Route("freelancer", offer, post=(200, 404, 404, 403, 404)),
    "api_offer_decline": Route("freelancer", offer, post=(400, 404, 404, 403, 404)),
    "api_offer_withdraw": Route("client", offer, post=(200, 404, 404, 403, 404)),
    "api_contract_detail": Route("client", contract, get=(200, 404, 404, 403, 404)),
    "api_contract_events": Route("client", contract, get=(200, 404, 404, 403, 404)),
    "api_contract_pause": Route("client", contract, post=(400, 404, 404, 403, 404)),
    "api_contract_resume": Route("client", contract, post=(400, 404, 404, 403, 404)),
    "api_contract_weekly_limit": Route("client", hourly, post=(400, 404, 404, 403, 404)),
    "api_contract_end": Route("client", contract, post=(400, 404, 404, 403, 404)),
    "api_contract_milestones": Route("client", contract, post=(400, 404, 404, 403, 404)),
    "api_contract_milestone": Route("client", milestone, delete=(400, 404, 404, 403, 404), patch=(400, 404, 404, 403, 404)),
    "api_segments": Route("freelancer", hourly, get=(200, 404, 404, 401, 404), post=(400, 404, 404, 401, 404)),
    "api_segment": Route("freelancer", segment, delete=(204, 404, 404, 401, 404), patch=(400, 404, 404, 401, 404)),
    "api_segment_screenshot": Route("freelancer", segment, get=(404, 404, 404, 401, 404)),
    "api_timer": Route("freelancer", hourly, get=(200, 404, 404, 401, 404)),
    "api_timer_start": Route("freelancer", hourly, post=(200, 404, 404, 401, 404)),
    "api_timer_stop": Route("freelancer", hourly, post=(400, 404, 404, 401, 404)),
    "api_milestone_fund": Route("client", contract, post=(400, 404, 404, 403, 404)),
    "api_contract_bonus": Route("client", contract, post=(400, 404, 404, 403, 404)),
    "api_milestone_submit": Route("freelancer", milestone_only, post=(400, 400, 400, 403, 400)),
    "api_milestone_approve": Route("client", milestone_only, post=(400, 404, 404, 403, 404)),
    "api_milestone_request_changes": Route("client", milestone_only, post=(400, 400, 400, 403, 400)),
    "api_milestone_refund": Route("client", milestone_only, post=(403, 404, 404, 403, 404)),
    "api_milestone_refund_request": Route("client", milestone_only, post=(400, 400, 400, 403, 400)),
    "api_dispute_detail": Route("client", dispute, get=(200, 404, 404, 403, 200)),
    "api_dispute_statements": Route("client", dispute, post=(400, 400, 400, 403, 400)),
    "api_dispute_proposals": Route("client", dispute, post=(400, 400, 400, 403, 400)),
    "api_dispute_proposal_accept": Route("client", settlement_only, post=(403, 404, 404, 403, 404)),
    "api_dispute_proposal_reject": Route("client", settlement_only, post=(403, 404, 404, 403, 404)),
    "api_milestone_dispute_open": Route("client", milestone_only, post=(400, 400, 400, 403, 400)),
    "api_milestone_refund_request_reject": Route("client", milestone_only, post=(400, 400, 400, 403, 400)),
    "api_timesheet_dispute_open": Route("client", timesheet_only, post=(400, 400, 400, 403, 400)),
    "api_contract_timesheets": Route("client", hourly, get=(200, 404, 404, 403, 404)),
    "api_timesheet_detail": Route("client", timesheet_only, get=(200, 404, 404, 403, 404)),
    "api_timesheet_retry_payment": Route("client", timesheet_only, post=(400, 404, 404, 403, 404)),
    "api_contract_reviews": Route("client", ended_contract, get=(200, 404, 404, 403, 404), post=(400, 404, 404, 403, 404)),
    "api_review_reply": Route("freelancer", review, post=(400, 400, 400, 403, 400)),
    "api_freelancer_reviews": Route("client", freelancer_profile, get=(200, 200, 200, 200, 200)),
    "api_client_reviews": Route("client", client_profile, get=(200, 200, 200, 200, 200)),
    "api_freelancer_scores": Route("client", freelancer_profile, get=(200, 200, 200, 200, 200)),
    "api_client_scores": Route("client", client_profile, get=(200, 200, 200, 200, 200)),
    # pages: accounts
    "accounts:onboarding_step": Route("freelancer", onboarding_step, get=(200, 302, 200, LOGIN, 302), post=(200, 302, 200, LOGIN, 302)),
    "accounts:profile_item_delete": Route("freelancer", education_item, get=(405, 405, 405, LOGIN, 405), post=(302, 403, 404, LOGIN, 403)),
    "accounts:assessment_start": Route("freelancer", assessment, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    "accounts:assessment_attempt": Route("freelancer", attempt, get=(200, 404, 404, LOGIN, 404), post=(302, 404, 404, LOGIN, 404)),
    "accounts:assessment_result": Route("freelancer", attempt, get=(302, 404, 404, LOGIN, 404), post=(302, 404, 404, LOGIN, 404)),
    "accounts:freelancer_detail": Route("freelancer", freelancer_profile, get=(200, 200, 200, 200, 200), post=(200, 200, 200, 200, 200)),
    # pages: proposals
    "proposals:apply": Route("freelancer", job, get=(302, 200, 200, LOGIN, 200), post=(302, 200, 200, LOGIN, 200)),
    "proposals:job_proposals": Route("client", job, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "proposals:detail": Route("freelancer", proposal, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "proposals:edit_bid": Route("freelancer", proposal, get=(405, 405, 405, LOGIN, 405), post=(200, 404, 404, LOGIN, 404)),
    "proposals:withdraw": Route("freelancer", proposal, get=(405, 405, 405, LOGIN, 405), post=(200, 404, 404, LOGIN, 404)),
    "proposals:shortlist": Route("client", proposal, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "proposals:unshortlist": Route("client", proposal, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "proposals:archive": Route("client", proposal, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "proposals:unarchive": Route("client", proposal, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "proposals:decline": Route("client", proposal, get=(405, 405, 405, LOGIN, 405), post=(200, 404, 404, LOGIN, 404)),
    "proposals:message": Route("client", proposal, get=(405, 405, 405, LOGIN, 405), post=(200, 404, 404, LOGIN, 404)),
    "proposals:attachment": Route("freelancer", proposal_attachment, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    # pages: jobs and the service catalog
    "jobs:service_edit": Route("freelancer", listing_pk, get=(200, 404, 404, LOGIN, 404), post=(200, 404, 404, LOGIN, 404)),
    "jobs:service_submit": Route("freelancer", listing_pk, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 404, LOGIN, 302)),
    "jobs:service_pause": Route("freelancer", listing_pk, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:service_resume": Route("freelancer", listing_pk, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:service_order": Route("client", order, get=(200, 404, 404, LOGIN, 404), post=(200, 404, 404, LOGIN, 404)),
    "jobs:service_pay": Route("client", order, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:service_requirements": Route("client", order, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:service_deliver": Route("freelancer", order, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:service_revision": Route("client", order, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:service_approve": Route("client", order, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:service_cancel": Route("client", order, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:service_detail": Route("client", listing, get=(200, 200, 200, 200, 200), post=(200, 200, 200, 200, 200)),
    "jobs:service_buy": Route("client", listing, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    "jobs:saved_search_delete": Route("freelancer", saved_search, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:save": Route("client", job, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 404)),
    "jobs:unsave": Route("client", job, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 404)),
    "jobs:dismiss": Route("client", job, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    "jobs:invite_pick": Route("client", freelancer_user, get=(200, 200, 200, LOGIN, 200), post=(200, 200, 200, LOGIN, 200)),
    "jobs:invite": Route("client", job, get=(302, 404, 404, LOGIN, 404), post=(302, 404, 404, LOGIN, 404)),
    "jobs:invitation_detail": Route("freelancer", invitation, get=(200, 404, 404, LOGIN, 404), post=(200, 404, 404, LOGIN, 404)),
    "jobs:invitation_accept": Route("freelancer", invitation, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:invitation_decline": Route("freelancer", invitation, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "jobs:detail": Route("client", job, get=(200, 200, 200, 200, 200), post=(200, 200, 200, 200, 200)),
    "jobs:edit": Route("client", job, get=(302, 404, 404, LOGIN, 404), post=(302, 404, 404, LOGIN, 404)),
    "jobs:edit_step": Route("client", job_step, get=(200, 404, 404, LOGIN, 404), post=(200, 404, 404, LOGIN, 404)),
    "jobs:preview": Route("client", job, get=(200, 404, 404, LOGIN, 404), post=(200, 404, 404, LOGIN, 404)),
    "jobs:publish": Route("client", job, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:close": Route("client", job, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:reopen": Route("client", job, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:attachment_delete": Route("client", job_attachment, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "jobs:flag": Route("client", job, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    # pages: messaging
    "messaging:block": Route("client", freelancer_user, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    "messaging:unblock": Route("client", freelancer_user, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    "messaging:attachment_download": Route("client", chat_attachment, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "messaging:attachment_thumbnail": Route("client", chat_attachment, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "messaging:conversation": Route("client", conversation, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "messaging:history": Route("client", conversation, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "messaging:send": Route("client", conversation, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "messaging:attachment_upload": Route("client", conversation, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "messaging:archive": Route("client", conversation, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "messaging:mute": Route("client", conversation, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "messaging:leave": Route("client", conversation, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "messaging:add_participant": Route("client", conversation, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "messaging:edit": Route("client", message, get=(200, 404, 404, LOGIN, 404), post=(200, 404, 404, LOGIN, 404)),
    "messaging:delete": Route("client", message, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "messaging:report": Route("client", message, get=(200, 404, 404, LOGIN, 404), post=(200, 404, 404, LOGIN, 404)),
    "messaging:unsubscribe": Route("client", unsubscribe_token, get=(200, 200, 200, 200, 200), post=(200, 200, 200, 200, 200)),
    "messaging:notification_read": Route("freelancer", notification, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    # pages: payments
    "payments:payout_method_remove": Route("freelancer",payout_method,get=(405, 405, 405, LOGIN, 405),post=(REAUTH, REAUTH, REAUTH, LOGIN, REAUTH)),
    "payments:card_remove": Route("client", card, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "payments:card_default": Route("client", card, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "payments:invoice": Route("client", invoice, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "payments:receipt": Route("client", receipt, get=(302, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "payments:statement": Route("client", statement, get=(200, 200, 200, LOGIN, 200), post=(405, 405, 405, LOGIN, 405)),
    # pages: contracts, time, disputes
    "contracts:offer_detail": Route("client", offer, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "contracts:offer_accept": Route("freelancer", offer, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:offer_decline": Route("freelancer", offer, get=(405, 405, 405, LOGIN, 405), post=(200, 404, 404, LOGIN, 404)),
    "contracts:offer_withdraw": Route("client", offer, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:detail": Route("client", contract, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "contracts:pause": Route("client", contract, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:resume": Route("client", contract, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:weekly_limit": Route("client", hourly, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:end": Route("client", contract, get=(405, 405, 405, LOGIN, 405), post=(200, 404, 404, LOGIN, 404)),
    "contracts:milestone_add": Route("client", contract, get=(405, 405, 405, LOGIN, 405), post=(200, 404, 404, LOGIN, 404)),
    "contracts:milestone_edit": Route("client", milestone, get=(200, 404, 404, LOGIN, 404), post=(200, 404, 404, LOGIN, 404)),
    "contracts:milestone_delete": Route("client", milestone, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:file_upload": Route("client", contract, get=(405, 405, 405, LOGIN, 405), post=(200, 404, 404, LOGIN, 404)),
    "contracts:diary": Route("freelancer", hourly, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "contracts:timer_start": Route("freelancer", hourly, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:timer_stop": Route("freelancer", hourly, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:time_entry_add": Route("freelancer", hourly, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "contracts:segment_memo": Route("freelancer", segment, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:segment_delete": Route("freelancer", segment, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:segment_screenshot": Route("freelancer", segment, get=(404, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "contracts:tracker_token_revoke": Route("freelancer", tracker_token, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 302)),
    "contracts:milestone_fund": Route("client", contract, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:bonus": Route("client", contract, get=(200, 404, 404, LOGIN, 404), post=(400, 404, 404, LOGIN, 404)),
    "contracts:milestone_detail": Route("client", milestone, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "contracts:milestone_submit": Route("freelancer", milestone, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "contracts:milestone_approve": Route("client", milestone, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:milestone_suspension_refund": Route("client", milestone, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:milestone_changes": Route("client", milestone, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "contracts:milestone_refund": Route("client", milestone, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "contracts:milestone_refund_request": Route("client", milestone, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "contracts:file_download": Route("client", contract_file, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "contracts:timesheet_list": Route("client", hourly, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "contracts:timesheet_detail": Route("client", timesheet, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "contracts:timesheet_retry": Route("client", timesheet, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "contracts:dispute_detail": Route("client", dispute, get=(200, 404, 404, LOGIN, 200), post=(405, 405, 405, LOGIN, 405)),
    "contracts:dispute_statement": Route("client", dispute, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 400)),
    "contracts:dispute_propose": Route("client", dispute, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 400)),
    "contracts:dispute_proposal_accept": Route("client", settlement, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 302)),
    "contracts:dispute_proposal_reject": Route("client", settlement, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 302)),
    "contracts:dispute_file": Route("client", dispute_file, get=(200, 404, 404, LOGIN, 200), post=(405, 405, 405, LOGIN, 405)),
    "contracts:milestone_dispute_open": Route("client", milestone, get=(200, 404, 404, LOGIN, 404), post=(400, 404, 404, LOGIN, 404)),
    "contracts:milestone_refund_reject": Route("client", milestone, get=(200, 404, 404, LOGIN, 404), post=(400, 404, 404, LOGIN, 404)),
    "contracts:timesheet_dispute_open": Route("client", timesheet, get=(200, 404, 404, LOGIN, 404), post=(400, 404, 404, LOGIN, 404)),
    # pages: reviews
    "reviews:leave": Route("client", ended_contract, get=(302, 404, 404, LOGIN, 404), post=(302, 404, 404, LOGIN, 404)),
    "reviews:reply": Route("freelancer", review, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "reviews:client": Route("client", client_profile, get=(200, 200, 200, 200, 200), post=(200, 200, 200, 200, 200)),
    "reviews:score": Route("client", freelancer_profile, get=(200, 200, 200, 200, 200), post=(200, 200, 200, 200, 200)),
    # uploaded files (tests and make run only)
    "media": Route("client", missing_media, get=(404, 404, 404, 404, 404), post=(404, 404, 404, 404, 404)),
    # API: agencies, client teams, help center, events, forums
    "api_agency_detail": Route("freelancer", agency, get=(200, 200, 200, 200, 200)),
    "api_agency_members": Route("freelancer", agency, get=(200, 200, 200, 200, 200)),
    "api_agency_invitations": Route("freelancer", agency, get=(200, 403, 403, 403, 403), post=(400, 400, 400, 403, 400)),
    "api_agency_balance": Route("freelancer", agency, get=(200, 403, 403, 403, 403)),
    "api_agency_distributions": Route("freelancer", agency, get=(200, 403, 403, 403, 403), post=(400, 400, 400, 403, 400)),
    "api_team_invitation_revoke": Route("client", team_invitation, post=(200, 404, 404, 403, 404)),
    "api_team_detail": Route("client", team, get=(200, 404, 404, 403, 404), patch=(400, 400, 400, 403, 400)),
    "api_team_invite": Route("client", team, post=(400, 400, 400, 403, 400)),
    "api_team_leave": Route("client", team, post=(400, 404, 404, 403, 404)),
    "api_team_member": Route("client", team_member, delete=(400, 404, 404, 403, 404), patch=(400, 400, 400, 403, 400)),
    "api_help_article": Route("client", article, get=(200, 200, 200, 200, 200)),
    "api_event": Route("client", event, get=(200, 200, 200, 200, 200)),
    "api_event_registration": Route("client", event, delete=(409, 409, 409, 403, 409), post=(201, 201, 201, 403, 201)),
    "api_forum_thread": Route("freelancer", thread, get=(200, 200, 200, 200, 200)),
    "api_forum_reply": Route("freelancer", thread, post=(400, 400, 400, 403, 400)),
    "api_forum_accept": Route("freelancer", thread, post=(400, 400, 400, 403, 400)),
    "api_forum_follow": Route("freelancer", thread, delete=(200, 200, 200, 403, 200), post=(200, 200, 200, 403, 200)),
    "api_forum_like": Route("freelancer", post, delete=(200, 200, 200, 403, 200), post=(403, 200, 200, 403, 200)),
    # pages: identity verification, reports and moderation, client teams, agencies
    "accounts:identity_document": Route("freelancer", identity, get=(200, 404, 404, LOGIN, 200), post=(405, 405, 405, LOGIN, 405)),
    "accounts:report": Route("client", reported_message, get=(403, 404, 404, LOGIN, 200), post=(403, 404, 404, LOGIN, 200)),
    "accounts:moderation_act": Route("client", reported_message, get=(LOGIN, LOGIN, LOGIN, LOGIN, 405), post=(LOGIN, LOGIN, LOGIN, LOGIN, 302)),
    "accounts:team_detail": Route("client", team, get=(200, 404, 404, LOGIN, 404), post=(405, 405, 405, LOGIN, 405)),
    "accounts:team_rename": Route("client", team, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "accounts:team_invite": Route("client", team, get=(405, 405, 405, LOGIN, 405), post=(400, 404, 404, LOGIN, 404)),
    "accounts:team_leave": Route("client", team, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "accounts:team_member_role": Route("client", team_member, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "accounts:team_member_remove": Route("client", team_member, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "accounts:team_invitation_revoke": Route("client", team_invitation, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "accounts:team_invitation_respond": Route("client", team_invitation_accept, get=(405, 405, 405, LOGIN, 405), post=(404, 404, 404, LOGIN, 404)),
    "accounts:team_invitation": Route("client", team_token, get=(200, 200, 200, LOGIN, 200), post=(302, 302, 302, LOGIN, 302)),
    "accounts:agency_invitation_respond": Route("freelancer", agency_invitation, get=(405, 405, 405, LOGIN, 405), post=(404, 404, 404, LOGIN, 404), data={"action": "accept"}),
    "accounts:agency_invitation": Route("freelancer", agency_token, get=(200, 200, 200, LOGIN, 200), post=(400, 400, 400, LOGIN, 400)),
    "accounts:agency_detail": Route("freelancer", agency, get=(200, 200, 200, 200, 200), post=(200, 200, 200, 200, 200)),
    "accounts:agency_manage": Route("freelancer", agency, get=(200, 403, 403, LOGIN, 403), post=(200, 403, 403, LOGIN, 403)),
    "accounts:agency_invite": Route("freelancer", agency, get=(405, 405, 405, LOGIN, 405), post=(400, 403, 403, LOGIN, 403)),
    "accounts:agency_invitation_revoke": Route("freelancer", agency_invitation_in, get=(405, 405, 405, LOGIN, 405), post=(302, 404, 404, LOGIN, 404)),
    "accounts:agency_member_role": Route("freelancer", agency_member, get=(405, 405, 405, LOGIN, 405), post=(302, 403, 403, LOGIN, 403), data={"role": "admin"}),
    "accounts:agency_member_remove": Route("freelancer", agency_member, get=(405, 405, 405, LOGIN, 405), post=(302, 403, 403, LOGIN, 403)),
    "accounts:agency_transfer": Route("freelancer", agency, get=(405, 405, 405, LOGIN, 405), post=(400, 403, 403, LOGIN, 403)),
    "accounts:agency_leave": Route("freelancer", agency, get=(405, 405, 405, LOGIN, 405), post=(302, 403, 403, LOGIN, 403)),
    "accounts:agency_earnings": Route("freelancer", agency, get=(200, 403, 403, LOGIN, 403), post=(400, 403, 403, LOGIN, 403)),
    # pages: help center, events, forums
    "community:help_article": Route("freelancer", article, get=(200, 200, 200, 200, 200), post=(405, 405, 405, 405, 405)),
    "community:help_feedback": Route("freelancer", article, get=(405, 405, 405, 405, 405), post=(302, 302, 302, 302, 302)),
    "community:help_category": Route("freelancer", help_category, get=(200, 200, 200, 200, 200), post=(405, 405, 405, 405, 405)),
    "community:event_detail": Route("freelancer", event, get=(200, 200, 200, 200, 200), post=(405, 405, 405, 405, 405)),
    "community:event_register": Route("freelancer", event, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    "community:event_cancel": Route("freelancer", event, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    "community:event_calendar": Route("freelancer", event, get=(200, 200, 200, 200, 200), post=(405, 405, 405, 405, 405)),
    "community:board": Route("freelancer", board, get=(200, 200, 200, 200, 200), post=(405, 405, 405, 405, 405)),
    "community:board_thread_new": Route("freelancer", board, get=(200, 200, 200, LOGIN, 200), post=(400, 400, 400, LOGIN, 400)),
    "community:thread": Route("freelancer", thread, get=(200, 200, 200, 200, 200), post=(405, 405, 405, 405, 405)),
    "community:reply": Route("freelancer", thread, get=(405, 405, 405, LOGIN, 405), post=(400, 400, 400, LOGIN, 400)),
    "community:accept": Route("freelancer", thread, get=(405, 405, 405, LOGIN, 405), post=(302, 403, 403, LOGIN, 403)),
    "community:follow": Route("freelancer", thread, get=(405, 405, 405, LOGIN, 405), post=(302, 302, 302, LOGIN, 302)),
    "community:thread_moderate": Route("freelancer", thread, get=(405, 405, 405, LOGIN, 405), post=(403, 403, 403, LOGIN, 302)),
    "community:post_edit": Route("freelancer", post, get=(200, 404, 404, LOGIN, 404), post=(400, 404, 404, LOGIN, 404)),
    "community:post_like": Route("freelancer", post, get=(405, 405, 405, LOGIN, 405), post=(403, 302, 302, LOGIN, 302)),
    "community:post_moderate": Route("freelancer", post, get=(405, 405, 405, LOGIN, 405), post=(403, 403, 403, LOGIN, 404)),
}
# fmt: on
