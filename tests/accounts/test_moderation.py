"""The moderation queue: reporting content (rules, the generic report page and the API),
each staff action's effect, log row and notifications, the queue selector and pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import moderation
from accounts.models import ContentFlag, ModerationDecision, User, UserModerationEvent
from jobs.models import Job, ServiceListing
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from messaging import services as messaging
from messaging.models import Message, Notification
from tests import factories
from tests.conftest import requires_postgres
from tests.contracts.test_concurrency import _in_threads
from tests.jobs.catalog_helpers import make_listing
from tests.jobs.conftest import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def label_of(obj) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def report_url(obj) -> str:
    return reverse("accounts:report", args=[label_of(obj), obj.pk])


def notes_of(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("text", flat=True))


def chat_message(sender: User, reader: User, body: str = "Pay me by wire, outside the site") -> Message:
    subject = factories.CategoryFactory()
    conversation = messaging.conversation_get_or_create_for_subject(
        subject=subject, participants=[sender, reader], title="Logo"
    )
    return messaging.message_send(actor=sender, conversation_id=conversation.pk, body=body).message


def public_review():
    from reviews import services as review_services
    from tests.reviews.conftest import Ended, about_client, about_freelancer

    ended = Ended()
    review = review_services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    review_services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    review.refresh_from_db()
    assert review.is_visible
    return review


# --- flag_create --------------------------------------------------------------------------------


def test_flag_create_keeps_the_text_as_reported(freelancer):
    job = make_job()

    flag = moderation.flag_create(actor=freelancer, obj=job, reason="scam", note="  Wants a wire  ")

    job.title = "Edited afterwards to look harmless"
    job.save(update_fields=["title"])
    flag.refresh_from_db()
    assert (flag.reporter, flag.content_owner, flag.reason, flag.note, flag.status) == (
        freelancer,
        job.client,
        "scam",
        "Wants a wire",
        "open",
    )
    assert flag.content_type == ContentType.objects.get_for_model(Job)
    assert flag.snapshot.startswith("Build a Django booking site\n\n")


def test_flag_create_refuses_own_content_duplicates_bad_reasons_and_unknown_types(freelancer):
    job = make_job()
    with pytest.raises(ApplicationError) as own:
        moderation.flag_create(actor=job.client, obj=job, reason="spam")
    assert own.value.code == "own_content"

    moderation.flag_create(actor=freelancer, obj=job, reason="spam")
    with pytest.raises(ConflictError) as again:
        moderation.flag_create(actor=freelancer, obj=job, reason="scam")
    assert again.value.code == "already_reported"

    with pytest.raises(ApplicationError) as bad:
        moderation.flag_create(actor=factories.make_freelancer(), obj=job, reason="boring")
    assert bad.value.code == "reason_required"

    with pytest.raises(NotFoundError) as unknown:
        moderation.flag_create(actor=freelancer, obj=factories.CategoryFactory(), reason="spam")
    assert unknown.value.code == "not_reportable"
    assert ContentFlag.objects.count() == 1


def test_flag_create_refuses_content_the_reporter_cannot_see(freelancer):
    draft = make_job(publish=False)
    pending_service = make_listing(approve=False)
    stranger = factories.make_client()
    message = chat_message(factories.make_freelancer(), factories.make_client())

    for obj in (draft, pending_service, message):
        with pytest.raises(NotFoundError):
            moderation.flag_create(actor=stranger if obj is message else freelancer, obj=obj, reason="spam")
    assert ContentFlag.objects.count() == 0


def test_a_suspended_user_cannot_report(freelancer, staff):
    from accounts import services as account_services

    job = make_job()
    account_services.user_suspend(actor=staff, user_id=freelancer.pk, reason="spam")
    freelancer.refresh_from_db()

    with pytest.raises(PermissionDeniedError) as caught:
        moderation.flag_create(actor=freelancer, obj=job, reason="spam")
    assert caught.value.code == "account_suspended"


# --- staff actions ------------------------------------------------------------------------------


def two_reports(obj) -> tuple[User, User]:
    first, second = factories.make_freelancer(), factories.make_client()
    moderation.flag_create(actor=first, obj=obj, reason="spam")
    moderation.flag_create(actor=second, obj=obj, reason="scam", note="Asked me for a wire transfer")
    return first, second


def test_hide_a_service_logs_resolves_and_tells_reporters_and_author(
    staff, django_capture_on_commit_callbacks, client
):
    listing = make_listing()
    first, second = two_reports(listing)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = moderation.content_hide(
            actor=staff, obj=listing, reason="scam", note="Third time this week"
        )

    listing.refresh_from_db()
    assert listing.hidden_at is not None
    decision = ModerationDecision.objects.get()
    assert (decision.actor, decision.action, decision.reason, decision.note, decision.target_user) == (
        staff,
        "hide",
        "scam",
        "Third time this week",
        listing.freelancer,
    )
    assert (decision.content_type.model, decision.object_id) == ("servicelisting", listing.pk)
    assert outcome.flags_resolved == 2
    assert set(ContentFlag.objects.values_list("status", "resolved_by")) == {("actioned", staff.pk)}
    for reporter in (first, second):
        assert notes_of(reporter) == [
            "We reviewed your report of a service and removed it. Thank you for telling us."
        ]
    assert notes_of(listing.freelancer)[-1] == (
        "A moderator hid your service because it breaks our rules: Scam or fraud. "
        "Other people no longer see it."
    )
    # gone from browsing, search and its page for others; still there for its freelancer
    assert listing not in ServiceListing.objects.filter(pk__in=[listing.pk]).filter(hidden_at__isnull=True)
    page = reverse("jobs:service_detail", args=[listing.public_id])
    assert client.get(page).status_code == 404
    assert listing.title not in client.get(reverse("jobs:services")).content.decode()
    client.force_login(listing.freelancer)
    assert client.get(page).status_code == 200


def test_unhide_shows_it_again_and_tells_the_author(staff, django_capture_on_commit_callbacks, client):
    listing = make_listing()
    two_reports(listing)
    moderation.content_hide(actor=staff, obj=listing, reason="spam")

    with django_capture_on_commit_callbacks(execute=True):
        moderation.content_unhide(actor=staff, obj=listing, note="Appeal accepted")

    listing.refresh_from_db()
    assert listing.hidden_at is None
    assert list(ModerationDecision.objects.order_by("pk").values_list("action", flat=True)) == [
        "hide",
        "unhide",
    ]
    assert notes_of(listing.freelancer)[-1] == "A moderator reviewed your service again: it is visible again."
    assert client.get(reverse("jobs:service_detail", args=[listing.public_id])).status_code == 200
    with pytest.raises(ConflictError) as again:
        moderation.content_unhide(actor=staff, obj=listing)
    assert again.value.code == "not_hidden"


def test_dismiss_closes_the_reports_and_changes_nothing(staff, django_capture_on_commit_callbacks):
    job = make_job()
    first, _second = two_reports(job)

    with django_capture_on_commit_callbacks(execute=True):
        moderation.content_dismiss(actor=staff, obj=job, note="Normal job")

    job.refresh_from_db()
    assert job.status == Job.Status.OPEN
    assert set(ContentFlag.objects.values_list("status", flat=True)) == {"dismissed"}
    assert ModerationDecision.objects.get().action == "dismiss"
    assert notes_of(first) == [
        "We reviewed your report of a job and found that it does not break our rules, so it stays up. "
        "Thank you for telling us."
    ]
    assert notes_of(job.client) == []  # the author is not told about dismissed reports
    with pytest.raises(ConflictError) as nothing:
        moderation.content_dismiss(actor=staff, obj=job)
    assert nothing.value.code == "nothing_open"


def test_hide_a_job_cancels_it_as_removed_by_staff(staff):
    job = make_job()
    two_reports(job)

    moderation.content_hide(actor=staff, obj=job, reason="scam")

    job.refresh_from_db()
    assert (job.status, job.close_reason) == (Job.Status.CANCELLED, Job.CloseReason.REMOVED_BY_STAFF)
    assert set(ContentFlag.objects.values_list("status", flat=True)) == {"actioned"}
    with pytest.raises(ApplicationError) as restore:
        moderation.content_unhide(actor=staff, obj=job)
    assert restore.value.code == "cannot_restore"


def test_warn_counts_a_warning_and_tells_the_author(staff, django_capture_on_commit_callbacks):
    author, reader = factories.make_freelancer(), factories.make_client()
    message = chat_message(author, reader)
    moderation.flag_create(actor=reader, obj=message, reason="off_platform")

    with django_capture_on_commit_callbacks(execute=True):
        moderation.author_warn(actor=staff, obj=message, reason="off_platform", note="First time")

    author.refresh_from_db()
    assert author.warnings_count == 1
    assert UserModerationEvent.objects.get(user=author).action == "warn"
    assert ModerationDecision.objects.get().target_user == author
    assert notes_of(author)[-1].startswith(
        "You received a warning from our moderators about your message: Asks to pay or talk outside the marketplace."
    )
    assert notes_of(reader)[-1] == (
        "We reviewed your report of a message and warned its author. Thank you for telling us."
    )
    message.refresh_from_db()
    assert message.hidden_at is None  # a warning hides nothing


def test_suspend_the_author_through_user_suspend(staff, django_capture_on_commit_callbacks):
    review = public_review()
    reporter = review.reviewee
    moderation.flag_create(actor=reporter, obj=review, reason="harassment")

    with django_capture_on_commit_callbacks(execute=True):
        moderation.author_suspend(actor=staff, obj=review, reason="harassment", note="Threats")

    author = User.objects.get(pk=review.reviewer_id)
    assert (author.is_suspended, author.suspension_reason, author.suspension_note) == (
        True,
        "harassment",
        "Threats",
    )
    assert ModerationDecision.objects.get().action == "suspend"
    assert notes_of(author)[-1].startswith(
        "Your account was suspended by our moderators: Harassment or abuse."
    )
    assert notes_of(reporter)[-1] == (
        "We reviewed your report of a review and suspended its author's account. Thank you for telling us."
    )
    with pytest.raises(ApplicationError) as flag_reason:
        moderation.author_suspend(actor=staff, obj=review, reason="spam_links")
    assert flag_reason.value.code == "reason_required"


def test_hide_a_review_uses_the_reviews_service_and_tells_the_author_once(
    staff, django_capture_on_commit_callbacks
):
    review = public_review()
    moderation.flag_create(actor=review.reviewee, obj=review, reason="inappropriate")
    before = len(notes_of(review.reviewer))

    with django_capture_on_commit_callbacks(execute=True):
        moderation.content_hide(actor=staff, obj=review, reason="inappropriate")

    review.refresh_from_db()
    assert review.hidden_at is not None and review.hidden_reason == "Inappropriate or offensive"
    new_notes = notes_of(review.reviewer)[before:]
    assert len(new_notes) == 1  # the reviews service's own notice, not a second one from the queue
    assert "was hidden by the marketplace: Inappropriate or offensive" in new_notes[0]


def test_hide_a_message_shows_removed_by_a_moderator_to_everyone(staff, client):
    author, reader = factories.make_freelancer(), factories.make_client()
    message = chat_message(author, reader, body="Secret bank details 12345")
    moderation.flag_create(actor=reader, obj=message, reason="off_platform")

    moderation.content_hide(actor=staff, obj=message, reason="off_platform")

    for user in (author, reader):
        client.force_login(user)
        page = client.get(reverse("messaging:conversation", args=[message.conversation_id])).content.decode()
        assert "Removed by a moderator" in page
        assert "Secret bank details" not in page
    api = APIClient()
    api.force_authenticate(reader)
    body = api.get(f"/api/v1/conversations/{message.conversation_id}/messages/").json()
    item = next(m for m in body["results"] if m["seq"] == message.seq)
    assert (item["body"], item["hidden"], item["attachments"]) == ("Removed by a moderator", True, [])


def test_hide_a_profile_removes_it_for_others(staff, client):
    freelancer = factories.make_published_freelancer()
    profile = freelancer.freelancer_profile
    moderation.flag_create(actor=factories.make_client(), obj=profile, reason="fake")

    moderation.content_hide(actor=staff, obj=profile, reason="fake")

    page = reverse("accounts:freelancer_detail", args=[profile.public_id])
    assert client.get(page).status_code == 404
    assert profile.public_id not in client.get(reverse("accounts:freelancer_list")).content.decode()
    client.force_login(freelancer)
    assert client.get(page).status_code == 200


def test_staff_actions_are_staff_only(freelancer):
    job = make_job()
    moderation.flag_create(actor=freelancer, obj=job, reason="spam")
    for action in ("dismiss", "hide", "warn", "suspend", "unhide"):
        with pytest.raises(PermissionDeniedError):
            moderation.moderate(actor=freelancer, action=action, obj=job, reason="spam")
    assert ModerationDecision.objects.count() == 0
    assert ContentFlag.objects.get().status == "open"


def test_actions_need_a_reason(staff):
    job = make_job()
    for action in ("hide", "warn"):
        with pytest.raises(ApplicationError) as caught:
            moderation.moderate(actor=staff, action=action, obj=job, reason="")
        assert caught.value.code == "reason_required"
    with pytest.raises(ApplicationError) as unknown:
        moderation.moderate(actor=staff, action="delete", obj=job)
    assert unknown.value.code == "invalid_action"


# --- the queue ----------------------------------------------------------------------------------


def test_queue_groups_by_content_oldest_report_first(staff):
    old_job, new_listing = make_job(), make_listing()
    two_reports(old_job)
    moderation.flag_create(actor=factories.make_client(), obj=new_listing, reason="spam")

    items = moderation.queue_items()

    assert [(i.label, i.object_id, i.reports) for i in items] == [
        ("job", old_job.pk, 2),
        ("service", new_listing.pk, 1),
    ]
    assert items[0].reasons == [("Scam or fraud", 1), ("Spam or advertising", 1)]
    assert items[0].notes == ["Asked me for a wire transfer"]
    assert items[0].owner == old_job.client
    assert items[0].url == reverse("jobs:detail", kwargs={"public_id": old_job.public_id})
    moderation.content_dismiss(actor=staff, obj=old_job)
    assert [i.object_id for i in moderation.queue_items()] == [new_listing.pk]


def test_staff_page_lists_the_queue_and_acts(client, staff):
    job = make_job()
    two_reports(job)
    client.force_login(staff)

    page = client.get(reverse("accounts:moderation_queue"))
    assert page.status_code == 200
    assert "Build a Django booking site" in page.content.decode()
    response = client.post(
        reverse("accounts:moderation_act", args=["jobs.job", job.pk]),
        {"decision": "warn", "reason": "spam", "note": "Ads"},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == ["Warned the author (job); 2 reports closed."]
    assert 'data-testid="queue-empty"' in response.content.decode()
    job.client.refresh_from_db()
    assert job.client.warnings_count == 1


def test_staff_page_refuses_bad_input_and_non_staff(client, staff, freelancer):
    job = make_job()
    moderation.flag_create(actor=freelancer, obj=job, reason="spam")
    client.force_login(staff)
    act = reverse("accounts:moderation_act", args=["jobs.job", job.pk])

    missing_reason = client.post(act, {"decision": "hide", "reason": ""}, follow=True)
    assert "This field is required." in missing_reason.content.decode()
    assert client.post(act, {"decision": "explode"}).status_code == 302
    assert client.post(reverse("accounts:moderation_act", args=["jobs.nothing", 1]), {}).status_code == 404
    assert ModerationDecision.objects.count() == 0
    client.force_login(freelancer)
    assert client.get(reverse("accounts:moderation_queue")).status_code == 302
    client.post(act, {"decision": "hide", "reason": "spam"})
    assert ModerationDecision.objects.count() == 0


def test_admin_action_asks_for_a_reason_then_hides(client, staff, freelancer):
    listing = make_listing()
    flag = moderation.flag_create(actor=freelancer, obj=listing, reason="spam")
    client.force_login(staff)
    changelist = reverse("admin:accounts_contentflag_changelist")

    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:accounts_contentflag_change", args=[flag.pk])).status_code == 200
    assert client.get(reverse("admin:accounts_moderationdecision_changelist")).status_code == 200
    form_page = client.post(changelist, {"action": "hide_content", "_selected_action": [flag.pk]})
    assert form_page.status_code == 200 and "Hide the reported content" in form_page.content.decode()
    client.post(
        changelist,
        {"action": "hide_content", "_selected_action": [flag.pk], "apply": "1", "reason": "spam", "note": ""},
    )

    listing.refresh_from_db()
    flag.refresh_from_db()
    assert listing.hidden_at is not None and flag.status == "actioned"


# --- the report page and the API ----------------------------------------------------------------


def test_report_page_for_a_service(client, freelancer):
    listing = make_listing()
    client_user = factories.make_client()
    client.force_login(client_user)

    assert client.get(report_url(listing)).status_code == 200
    response = client.post(report_url(listing), {"reason": "scam", "note": "Fake reviews"})

    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:service_detail", args=[listing.public_id])
    assert ContentFlag.objects.get().reporter == client_user
    again = client.post(report_url(listing), {"reason": "spam"})
    assert again.status_code == 400
    assert "You have already reported this service." in again.content.decode()


def test_can_report_follows_the_report_pages_rule(freelancer):
    """What pages use to offer "Report": signed in, not the author, reportable content."""
    listing = make_listing(freelancer)
    other = factories.make_client()
    assert moderation.can_report(listing, other)
    assert not moderation.can_report(listing, freelancer)  # own: the page answers 403
    assert not moderation.can_report(listing, AnonymousUser())
    assert not moderation.can_report(listing, None)
    assert not moderation.can_report(other, factories.make_freelancer())  # a user: not reportable


def test_report_page_refuses_own_invisible_and_unknown_content(client, freelancer):
    listing = make_listing(freelancer)
    draft = make_job(publish=False)
    message = chat_message(factories.make_freelancer(), factories.make_client())
    client.force_login(freelancer)

    assert client.get(report_url(listing)).status_code == 403  # own
    assert client.post(report_url(listing), {"reason": "spam"}).status_code == 403
    assert client.get(report_url(draft)).status_code == 404  # invisible
    assert client.get(report_url(message)).status_code == 404  # someone else's conversation
    assert client.get(reverse("accounts:report", args=["accounts.user", freelancer.pk])).status_code == 404
    assert client.get(reverse("accounts:report", args=["jobs.job", 999999])).status_code == 404
    assert client.get(reverse("accounts:report", args=["nonsense", 1])).status_code == 404
    bad_reason = client.post(report_url(make_listing()), {"reason": "boring"})
    assert bad_reason.status_code == 400
    assert ContentFlag.objects.count() == 0


def test_report_page_needs_login(client):
    listing = make_listing()
    assert client.get(report_url(listing)).status_code == 302


def test_report_api(freelancer):
    job = make_job()
    api = APIClient()
    api.force_authenticate(freelancer)

    created = api.post(
        "/api/v1/reports/",
        {"content_type": "jobs.job", "object_id": job.pk, "reason": "scam", "note": "Wire"},
        format="json",
    )
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("content_type", "object_id", "reason", "status")} == {
        "content_type": "jobs.job",
        "object_id": job.pk,
        "reason": "scam",
        "status": "open",
    }
    duplicate = api.post(
        "/api/v1/reports/", {"content_type": "jobs.job", "object_id": job.pk, "reason": "spam"}, format="json"
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "already_reported")


def test_report_api_refuses_foreign_invisible_own_and_bad_input(freelancer):
    draft = make_job(publish=False)
    message = chat_message(factories.make_freelancer(), factories.make_client())
    own = make_listing(freelancer)
    api = APIClient()
    api.force_authenticate(freelancer)

    def post(payload):
        return api.post("/api/v1/reports/", payload, format="json")

    assert post({"content_type": "jobs.job", "object_id": draft.pk, "reason": "spam"}).status_code == 404
    assert (
        post({"content_type": "messaging.message", "object_id": message.pk, "reason": "spam"}).status_code
        == 404
    )
    assert (
        post({"content_type": "accounts.user", "object_id": freelancer.pk, "reason": "spam"}).status_code
        == 404
    )
    own_response = post({"content_type": "jobs.servicelisting", "object_id": own.pk, "reason": "spam"})
    assert (own_response.status_code, own_response.json()["code"]) == (400, "own_content")
    assert post({"content_type": "jobs.job", "object_id": "x", "reason": "spam"}).status_code == 400
    assert post({"content_type": "jobs.job", "object_id": draft.pk, "reason": "meh"}).status_code == 400
    assert APIClient().post("/api/v1/reports/", {}, format="json").status_code in (401, 403)
    assert ContentFlag.objects.count() == 0


def test_report_links_show_to_others_only(client, published_freelancer):
    freelancer = published_freelancer
    listing = make_listing(freelancer)
    profile_page = reverse("accounts:freelancer_detail", args=[freelancer.freelancer_profile.public_id])
    service_page = reverse("jobs:service_detail", args=[listing.public_id])
    client.force_login(factories.make_client())

    assert report_url(listing) in client.get(service_page).content.decode()
    assert report_url(freelancer.freelancer_profile) in client.get(profile_page).content.decode()
    client.force_login(freelancer)
    assert 'data-testid="report-service"' not in client.get(service_page).content.decode()
    assert 'data-testid="report-profile"' not in client.get(profile_page).content.decode()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_dismissals_at_once_log_one_decision():
    # given one piece of content with open reports
    staff_members = [factories.make_staff() for _ in range(6)]
    job = make_job()
    two_reports(job)

    # when six staff dismiss it at the same moment
    results = _in_threads(6, lambda i: moderation.content_dismiss(actor=staff_members[i], obj=job))

    # then one dismissal wins, the others are told nothing is open any more
    wins = [r for r in results if isinstance(r, moderation.Outcome)]
    refused = [r for r in results if isinstance(r, ConflictError) and r.code == "nothing_open"]
    assert (len(wins), len(refused)) == (1, 5), results
    assert wins[0].flags_resolved == 2
    assert ModerationDecision.objects.filter(action="dismiss").count() == 1
