"""Reviews through the real services: double-blind reveal, one review per side, the
feedback and reply windows, foreign users, bad input, staff hiding, the beat tasks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction

from contracts.models import Contract
from marketplace.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from messaging.models import Notification, NotificationKind
from reviews import selectors, services
from reviews.models import Review, ReviewEvent
from tests import factories

from .conftest import Ended, about_client, about_freelancer, end_contract, ended_for

pytestmark = pytest.mark.django_db


def _submit_both(ended: Ended) -> tuple[Review, Review]:
    first = services.review_submit(actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer())
    second = services.review_submit(
        actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client()
    )
    first.refresh_from_db()
    second.refresh_from_db()
    return first, second


# --- double-blind -------------------------------------------------------------------------------------


def test_one_side_submits_review_stays_hidden_from_the_other(ended):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )

    assert review.revealed_at is None
    assert review.direction == Review.Direction.CLIENT_TO_FREELANCER
    assert review.reviewee == ended.freelancer
    assert review.categories["availability"] == 4
    # the freelancer does not see it, only that the client has left theirs
    theirs = selectors.contract_feedback(contract=ended.contract, viewer=ended.freelancer)
    assert theirs.theirs is None and theirs.their_card is None
    assert theirs.other_submitted is True
    assert theirs.can_submit is True
    # nor does anyone else
    assert list(selectors.reviews_received(user_id=ended.freelancer.pk)) == []
    assert selectors.freelancer_recent_reviews(freelancer_id=ended.freelancer.pk) == []
    # the author sees their own
    mine = selectors.contract_feedback(contract=ended.contract, viewer=ended.client)
    assert mine.mine == review and mine.can_submit is False
    assert list(ReviewEvent.objects.filter(review=review).values_list("kind", flat=True)) == ["submitted"]


def test_both_submit_reveals_both_at_the_second_submission(ended, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client_review, freelancer_review = _submit_both(ended)

    assert client_review.revealed_at is not None
    assert client_review.revealed_at == freelancer_review.revealed_at
    assert [c.id for c in selectors.freelancer_recent_reviews(freelancer_id=ended.freelancer.pk)] == [
        client_review.pk
    ]
    assert [c.id for c in selectors.client_recent_reviews(client_id=ended.client.pk)] == [
        freelancer_review.pk
    ]
    seen_by_freelancer = selectors.contract_feedback(contract=ended.contract, viewer=ended.freelancer)
    assert seen_by_freelancer.theirs == client_review
    assert seen_by_freelancer.their_card.rating == 5
    assert selectors.rating_summary(
        user_id=ended.freelancer.pk, direction=Review.Direction.CLIENT_TO_FREELANCER
    ) == (client_review.rating, 1)
    kinds = list(ReviewEvent.objects.filter(review=client_review).values_list("kind", flat=True))
    assert kinds == ["submitted", "revealed"]
    # each side is told the other's feedback is public
    assert Notification.objects.filter(recipient=ended.freelancer, kind=NotificationKind.REVIEW).exists()
    assert Notification.objects.filter(
        recipient=ended.client, kind=NotificationKind.REVIEW, text__contains="left you feedback"
    ).exists()


def test_window_close_reveals_the_lone_review_by_the_task(ended, settings):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    ended_at = ended.contract.ended_at

    with time_machine.travel(ended_at + timedelta(days=settings.REVIEW_WINDOW_DAYS) - timedelta(minutes=1)):
        assert services.reviews_reveal_due() == 0
    review.refresh_from_db()
    assert review.revealed_at is None

    with time_machine.travel(ended_at + timedelta(days=settings.REVIEW_WINDOW_DAYS, minutes=1)):
        from reviews.tasks import reveal_due_reviews

        assert reveal_due_reviews() == 1
        assert services.reviews_reveal_due() == 0  # safe to run twice
    review.refresh_from_db()
    assert review.revealed_at is not None
    assert [c.id for c in selectors.freelancer_recent_reviews(freelancer_id=ended.freelancer.pk)] == [
        review.pk
    ]
    assert ReviewEvent.objects.filter(review=review, kind="revealed", actor=None).count() == 1


def test_submission_after_the_window_is_refused(ended, settings):
    later = ended.contract.ended_at + timedelta(days=settings.REVIEW_WINDOW_DAYS, seconds=1)
    with time_machine.travel(later), pytest.raises(ApplicationError) as error:
        services.review_submit(actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer())
    assert error.value.code == "feedback_window_closed"
    assert not Review.objects.exists()


def test_contract_not_ended_is_refused(db):
    from tests.contracts.conftest import Hire

    hire = Hire()
    contract = hire.contract()
    with pytest.raises(ApplicationError) as error:
        services.review_submit(actor=hire.client, contract_id=contract.pk, data=about_freelancer())
    assert error.value.code == "contract_not_ended"
    assert selectors.contract_feedback(contract=contract, viewer=hire.client) is None


# --- one per side --------------------------------------------------------------------------------------


def test_one_review_per_side_per_contract(ended):
    services.review_submit(actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer())
    with pytest.raises(ConflictError) as error:
        services.review_submit(
            actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer(rating=1)
        )
    assert error.value.code == "already_reviewed"
    assert Review.objects.filter(contract=ended.contract, reviewer=ended.client).count() == 1
    # and the database says so too
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            contract=ended.contract,
            reviewer=ended.client,
            reviewee=ended.freelancer,
            direction=Review.Direction.CLIENT_TO_FREELANCER,
            rating=3,
        )


# --- foreign users and bad input ----------------------------------------------------------------------------


def test_foreign_user_cannot_review_nor_read(ended):
    stranger = factories.make_client()
    with pytest.raises(NotFoundError):
        services.review_submit(actor=stranger, contract_id=ended.contract.pk, data=about_freelancer())
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    with pytest.raises(NotFoundError):
        selectors.review_get_for_party(review_id=review.pk, viewer=stranger)
    with pytest.raises(NotFoundError):  # the reviewee, before the reveal
        selectors.review_get_for_party(review_id=review.pk, viewer=ended.freelancer)
    assert selectors.contract_feedback(contract=ended.contract, viewer=stranger) is None


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"rating": 0}, "rating_out_of_range"),
        ({"rating": 6}, "rating_out_of_range"),
        ({"rating": None}, "rating_required"),
        ({"rating": "five"}, "rating_required"),
        ({"recommend_score": 11}, "recommend_score_out_of_range"),
        ({"recommend_score": None}, "recommend_score_required"),
        ({"public_comment": "x" * 2001}, "public_comment_too_long"),
        ({"categories": {}}, "categories_required"),
        ({"categories": None}, "categories_required"),
    ],
)
def test_bad_input_is_refused_with_the_field(ended, overrides, code):
    with pytest.raises(ApplicationError) as error:
        services.review_submit(
            actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer(**overrides)
        )
    assert error.value.code == code
    assert not Review.objects.exists()


def test_missing_and_out_of_range_categories_name_the_category(ended):
    partial = {"skills": 5, "quality": 5, "availability": 5, "deadlines": 5, "communication": 5}
    with pytest.raises(ApplicationError) as error:
        services.review_submit(
            actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer(categories=partial)
        )
    assert error.value.code == "categories_required"
    assert error.value.extra == {"field": "categories", "category": "cooperation"}

    with pytest.raises(ApplicationError) as error:
        services.review_submit(
            actor=ended.client,
            contract_id=ended.contract.pk,
            data=about_freelancer(categories={**partial, "cooperation": 6}),
        )
    assert error.value.code == "categories_out_of_range"
    assert error.value.extra["category"] == "cooperation"

    # a client's categories are not a freelancer's
    with pytest.raises(ApplicationError) as error:
        services.review_submit(
            actor=ended.client,
            contract_id=ended.contract.pk,
            data=about_freelancer(categories={**partial, "cooperation": 5, "payment": 5}),
        )
    assert error.value.code == "categories_unknown"
    assert not Review.objects.exists()


# --- replies ----------------------------------------------------------------------------------------------


def test_reviewee_replies_once_within_28_days(ended, django_capture_on_commit_callbacks):
    client_review, _ = _submit_both(ended)

    with django_capture_on_commit_callbacks(execute=True):
        replied = services.review_reply(actor=ended.freelancer, review_id=client_review.pk, text="Thank you!")
    assert replied.reply == "Thank you!" and replied.replied_at is not None
    assert selectors.freelancer_recent_reviews(freelancer_id=ended.freelancer.pk)[0].reply == "Thank you!"
    with pytest.raises(ConflictError):
        services.review_reply(actor=ended.freelancer, review_id=client_review.pk, text="Again")
    assert Notification.objects.filter(recipient=ended.client, text__contains="replied").exists()


def test_reply_window_closes_after_28_days(ended, settings):
    client_review, freelancer_review = _submit_both(ended)
    revealed = client_review.revealed_at

    with time_machine.travel(revealed + timedelta(days=settings.REVIEW_REPLY_DAYS, seconds=1)):
        with pytest.raises(ApplicationError) as error:
            services.review_reply(actor=ended.freelancer, review_id=client_review.pk, text="Late")
        assert error.value.code == "reply_window_closed"
    with time_machine.travel(revealed + timedelta(days=settings.REVIEW_REPLY_DAYS) - timedelta(minutes=1)):
        services.review_reply(actor=ended.client, review_id=freelancer_review.pk, text="Just in time")
    client_review.refresh_from_db()
    assert client_review.reply == ""


def test_only_the_reviewee_replies_and_only_to_a_public_review(ended):
    review = services.review_submit(
        actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer()
    )
    with pytest.raises(NotFoundError):  # not revealed yet: the reviewee cannot see it
        services.review_reply(actor=ended.freelancer, review_id=review.pk, text="Hi")
    services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    with pytest.raises(PermissionDeniedError):  # the author
        services.review_reply(actor=ended.client, review_id=review.pk, text="Hi")
    with pytest.raises(NotFoundError):
        services.review_reply(actor=factories.make_client(), review_id=review.pk, text="Hi")
    with pytest.raises(ApplicationError) as error:
        services.review_reply(actor=ended.freelancer, review_id=review.pk, text="   ")
    assert error.value.code == "reply_required"


# --- staff -----------------------------------------------------------------------------------------------


def test_staff_hide_removes_the_review_everywhere_and_tells_both(
    ended, staff, django_capture_on_commit_callbacks
):
    client_review, _ = _submit_both(ended)
    Notification.objects.all().delete()

    with pytest.raises(PermissionDeniedError):
        services.review_hide(actor=ended.freelancer, review_id=client_review.pk, reason="I dislike it")
    with pytest.raises(ApplicationError) as error:
        services.review_hide(actor=staff, review_id=client_review.pk, reason=" ")
    assert error.value.code == "reason_required"

    with django_capture_on_commit_callbacks(execute=True):
        services.review_hide(actor=staff, review_id=client_review.pk, reason="Contains contact details")

    client_review.refresh_from_db()
    assert client_review.hidden_by == staff and client_review.hidden_reason == "Contains contact details"
    assert selectors.freelancer_recent_reviews(freelancer_id=ended.freelancer.pk) == []
    assert selectors.rating_summary(
        user_id=ended.freelancer.pk, direction=Review.Direction.CLIENT_TO_FREELANCER
    ) == (None, 0)
    assert selectors.contract_feedback(contract=ended.contract, viewer=ended.freelancer).theirs is None
    event = ReviewEvent.objects.get(review=client_review, kind="hidden")
    assert event.actor == staff and event.note == "Contains contact details"
    told = set(
        Notification.objects.filter(text__contains="Contains contact details").values_list(
            "recipient", flat=True
        )
    )
    assert told == {ended.client.pk, ended.freelancer.pk}
    with pytest.raises(ConflictError):
        services.review_hide(actor=staff, review_id=client_review.pk, reason="again")

    services.review_unhide(actor=staff, review_id=client_review.pk)
    assert [c.id for c in selectors.freelancer_recent_reviews(freelancer_id=ended.freelancer.pk)] == [
        client_review.pk
    ]


# --- beat: feedback requests ------------------------------------------------------------------------------


def test_feedback_requests_are_sent_once_to_each_side(ended):
    from reviews.tasks import send_feedback_requests

    assert [c.pk for c in selectors.contracts_awaiting_request()] == [ended.contract.pk]
    assert send_feedback_requests() == 2
    assert list(selectors.contracts_awaiting_request()) == []  # the work is done
    assert services.feedback_requests_send() == 0  # safe to run twice
    ct = ContentType.objects.get_for_model(Contract)
    asked = Notification.objects.filter(
        kind=NotificationKind.REVIEW, subject_type=ct, subject_id=ended.contract.pk
    )
    assert set(asked.values_list("recipient", flat=True)) == {ended.client.pk, ended.freelancer.pk}
    assert all(n.url == f"/contracts/{ended.contract.pk}/feedback/" for n in asked)


def test_feedback_requests_skip_reviewed_sides_and_closed_windows(db, settings):
    reviewed = Ended()
    services.review_submit(actor=reviewed.client, contract_id=reviewed.contract.pk, data=about_freelancer())
    Notification.objects.all().delete()
    assert services.feedback_requests_send() == 1  # only the freelancer still owes feedback
    assert Notification.objects.get(kind=NotificationKind.REVIEW).recipient == reviewed.freelancer

    old = Ended()
    with time_machine.travel(old.contract.ended_at + timedelta(days=settings.REVIEW_WINDOW_DAYS, minutes=1)):
        assert services.feedback_requests_send() == 0


def test_pending_feedback_lists_what_the_user_owes(ended):
    other = Ended()
    items = selectors.pending_feedback_for_user(user=ended.client)
    assert [i.contract.pk for i in items] == [ended.contract.pk]
    assert items[0].role == "client" and items[0].other_party == ended.freelancer
    services.review_submit(actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer())
    assert selectors.pending_feedback_for_user(user=ended.client) == []
    freelancer_items = selectors.pending_feedback_for_user(user=ended.freelancer)
    assert [(i.contract.pk, i.other_submitted) for i in freelancer_items] == [(ended.contract.pk, True)]
    assert [i.contract.pk for i in selectors.pending_feedback_for_user(user=other.freelancer)] == [
        other.contract.pk
    ]


def test_fixed_contract_card_shows_what_was_earned(db, local_gateway):
    from contracts import services as contract_services
    from tests.contracts.conftest import Hire, save_card

    hire = Hire()
    contract = hire.contract()
    save_card(hire.client)
    first = contract.milestones.order_by("pk").first()
    contract_services.milestone_fund(actor=hire.client, contract_id=contract.pk, milestone_ids=[first.pk])
    contract_services.milestone_submit(actor=hire.freelancer, milestone_id=first.pk, message="Done", files=[])
    contract_services.milestone_approve(actor=hire.client, milestone_id=first.pk)
    end_contract(Contract.objects.get(pk=contract.pk))
    services.review_submit(actor=hire.client, contract_id=contract.pk, data=about_freelancer())
    services.review_submit(actor=hire.freelancer, contract_id=contract.pk, data=about_client())

    [card] = selectors.freelancer_recent_reviews(freelancer_id=hire.freelancer.pk)
    assert card.contract_title == contract.title
    assert card.earned_cents == first.amount_cents
    assert card.hours is None


def test_hourly_contract_card_shows_billed_hours_and_rate(db):
    from datetime import date

    from contracts.models import Timesheet

    hourly = Ended(hourly=True)
    # billed weeks, as contracts.billing leaves them (a paid one, one in review, an empty one)
    for week, status, minutes in (
        (date(2026, 11, 2), Timesheet.Status.RELEASED, 390),
        (date(2026, 11, 9), Timesheet.Status.IN_REVIEW, 120),
        (date(2026, 11, 16), Timesheet.Status.EMPTY, 0),
        (date(2026, 11, 23), Timesheet.Status.OPEN, 50),
    ):
        Timesheet.objects.create(
            contract=hourly.contract, week_start=week, status=status, billed_minutes=minutes, rate_cents=4500
        )
    services.review_submit(actor=hourly.client, contract_id=hourly.contract.pk, data=about_freelancer())
    services.review_submit(actor=hourly.freelancer, contract_id=hourly.contract.pk, data=about_client())
    [card] = selectors.freelancer_recent_reviews(freelancer_id=hourly.freelancer.pk)
    assert (card.hours, card.rate_cents) == (Decimal("8.50"), 4500)


def test_hourly_contract_card_shows_the_rate(db):
    hourly = Ended(hourly=True)
    services.review_submit(actor=hourly.client, contract_id=hourly.contract.pk, data=about_freelancer())
    services.review_submit(actor=hourly.freelancer, contract_id=hourly.contract.pk, data=about_client())
    [card] = selectors.freelancer_recent_reviews(freelancer_id=hourly.freelancer.pk)
    assert card.contract_type == "hourly"
    assert card.rate_cents == 4500
    assert card.earned_cents is None and card.hours is None  # no billed week


def test_refresh_for_user_runs_for_both_reviewees_on_reveal(
    ended, monkeypatch, django_capture_on_commit_callbacks
):
    """The reveal recomputes both people's figures through ``reviews.reputation``, on commit."""
    from reviews import reputation

    called: list[int] = []
    monkeypatch.setattr(
        reputation, "refresh_for_user", lambda *, user_id, **kw: called.append(user_id), raising=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit(actor=ended.client, contract_id=ended.contract.pk, data=about_freelancer())
    assert called == []  # nothing public changed yet
    with django_capture_on_commit_callbacks(execute=True):
        services.review_submit(actor=ended.freelancer, contract_id=ended.contract.pk, data=about_client())
    assert sorted(called) == sorted([ended.client.pk, ended.freelancer.pk])


def test_profile_reviews_cost_the_same_queries_for_one_or_many(ended, django_assert_num_queries):
    def review_both(contract):
        services.review_submit(actor=contract.client, contract_id=contract.pk, data=about_freelancer())
        services.review_submit(actor=contract.freelancer, contract_id=contract.pk, data=about_client())

    review_both(ended.contract)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert len(selectors.freelancer_recent_reviews(freelancer_id=ended.freelancer.pk)) == 1
    for _ in range(3):
        review_both(ended_for(ended.freelancer))
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(selectors.freelancer_recent_reviews(freelancer_id=ended.freelancer.pk)) == 4
