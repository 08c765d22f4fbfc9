"""Contract services: pause, resume, weekly limit, end, milestones, files, and the contract
and milestone transition tables."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contracts import services
from contracts.models import Contract, ContractEvent, ContractFile, Milestone
from contracts.services import MilestoneInput
from marketplace.errors import ApplicationError, NotFoundError, PermissionDeniedError
from messaging.models import Message, Notification

pytestmark = pytest.mark.django_db


def _code(excinfo) -> str:
    return excinfo.value.code


def _pdf(name: str = "brief.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", content_type="application/pdf"
    )


# --- the contract transition table -----------------------------------------------------------------


def test_the_contract_transition_table():
    assert {
        "active": {"paused", "ended"},
        "paused": {"active", "ended"},
        "ended": set(),
    } == Contract.TRANSITIONS


def test_pause_resume_and_end_an_hourly_contract(hourly_contract, django_capture_on_commit_callbacks):
    client, freelancer = hourly_contract.client, hourly_contract.freelancer
    with django_capture_on_commit_callbacks(execute=True):
        contract = services.contract_pause(actor=client, contract_id=hourly_contract.pk)
    assert (contract.status, contract.paused_at is not None) == ("paused", True)
    assert Notification.objects.filter(
        recipient=freelancer, kind="contract", text__contains="paused"
    ).exists()

    with django_capture_on_commit_callbacks(execute=True):
        contract = services.contract_resume(actor=client, contract_id=contract.pk)
    assert (contract.status, contract.paused_at) == ("active", None)
    assert Notification.objects.filter(recipient=freelancer, text__contains="resumed").exists()

    services.contract_pause(actor=client, contract_id=contract.pk)
    contract = services.contract_end(
        actor=freelancer, contract_id=contract.pk, reason="completed", note="Thanks!"
    )
    assert (contract.status, contract.ended_by, contract.end_reason, contract.end_note) == (
        "ended",
        freelancer,
        "completed",
        "Thanks!",
    )
    assert list(contract.events.values_list("kind", "from_status", "to_status")) == [
        ("started", "", "active"),
        ("paused", "active", "paused"),
        ("resumed", "paused", "active"),
        ("paused", "active", "paused"),
        ("ended", "paused", "ended"),
    ]
    bodies = list(
        Message.objects.filter(conversation=contract.conversation, kind="system").values_list(
            "body", flat=True
        )
    )
    assert any("paused" in b for b in bodies) and any("ended the contract" in b for b in bodies)


def test_illegal_contract_moves(hourly_contract):
    client = hourly_contract.client
    with pytest.raises(ApplicationError) as excinfo:  # active -> active
        services.contract_resume(actor=client, contract_id=hourly_contract.pk)
    assert _code(excinfo) == "illegal_transition"
    services.contract_pause(actor=client, contract_id=hourly_contract.pk)
    with pytest.raises(ApplicationError) as excinfo:  # paused -> paused
        services.contract_pause(actor=client, contract_id=hourly_contract.pk)
    assert _code(excinfo) == "illegal_transition"
    services.contract_end(actor=client, contract_id=hourly_contract.pk, reason="no_longer_needed")
    for move in (
        lambda: services.contract_pause(actor=client, contract_id=hourly_contract.pk),
        lambda: services.contract_resume(actor=client, contract_id=hourly_contract.pk),
        lambda: services.contract_end(actor=client, contract_id=hourly_contract.pk, reason="other"),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            move()
        assert _code(excinfo) == "illegal_transition"
        assert excinfo.value.extra["from"] == "ended"
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_set_weekly_limit(
            actor=client, contract_id=hourly_contract.pk, weekly_limit_hours=10
        )
    assert _code(excinfo) == "contract_ended"


def test_active_to_ended_directly(fixed_contract, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract = services.contract_end(
            actor=fixed_contract.client, contract_id=fixed_contract.pk, reason="terms"
        )
    assert contract.status == "ended"
    # pending milestones stay pending: nothing was paid
    assert set(contract.milestones.values_list("status", flat=True)) == {"pending"}
    assert Notification.objects.filter(recipient=fixed_contract.freelancer, text__contains="ended").exists()


def test_only_the_client_pauses_and_only_hourly_contracts(hourly_contract, fixed_contract):
    with pytest.raises(PermissionDeniedError):
        services.contract_pause(actor=hourly_contract.freelancer, contract_id=hourly_contract.pk)
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_pause(actor=fixed_contract.client, contract_id=fixed_contract.pk)
    assert _code(excinfo) == "not_hourly"


def test_end_needs_a_reason(fixed_contract):
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_end(actor=fixed_contract.client, contract_id=fixed_contract.pk, reason="bored")
    assert _code(excinfo) == "reason_required"
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_end(
            actor=fixed_contract.client, contract_id=fixed_contract.pk, reason="other", note="x" * 501
        )
    assert _code(excinfo) == "note_too_long"


def _stranger_calls(stranger, fixed: Contract, hourly: Contract) -> list:
    milestone = fixed.milestones.first()
    assert milestone is not None
    pause_target = fixed if stranger == hourly.client else hourly
    return [
        lambda: services.contract_end(actor=stranger, contract_id=fixed.pk, reason="other"),
        lambda: services.contract_pause(actor=stranger, contract_id=pause_target.pk),
        lambda: services.contract_set_weekly_limit(
            actor=stranger, contract_id=fixed.pk, weekly_limit_hours=5
        ),
        lambda: services.milestone_add(
            actor=stranger, contract_id=fixed.pk, data=MilestoneInput("Extra", 1000)
        ),
        lambda: services.milestone_update(
            actor=stranger, milestone_id=milestone.pk, data=MilestoneInput("X", 1000)
        ),
        lambda: services.milestone_delete(actor=stranger, milestone_id=milestone.pk),
        lambda: services.contract_file_add(actor=stranger, contract_id=fixed.pk, upload=_pdf()),
    ]


def test_strangers_cannot_touch_a_contract(
    fixed_contract, hourly_contract, stranger_client, stranger_freelancer
):
    # hourly_contract's client is a party of another contract, not of this one
    for stranger in (stranger_client, stranger_freelancer, hourly_contract.client):
        for call in _stranger_calls(stranger, fixed_contract, hourly_contract):
            with pytest.raises(NotFoundError):
                call()
    fixed_contract.refresh_from_db()
    assert fixed_contract.status == "active"
    assert fixed_contract.milestones.count() == 2


# --- weekly limit ------------------------------------------------------------------------------------


def test_the_client_changes_the_weekly_limit(hourly_contract, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract = services.contract_set_weekly_limit(
            actor=hourly_contract.client, contract_id=hourly_contract.pk, weekly_limit_hours=40
        )
    assert contract.weekly_limit_hours == 40
    contract = services.contract_set_weekly_limit(
        actor=hourly_contract.client, contract_id=hourly_contract.pk, weekly_limit_hours=None
    )
    assert contract.weekly_limit_hours is None
    events = ContractEvent.objects.filter(contract=contract, kind="weekly_limit_changed")
    assert [e.data for e in events] == [{"from": 20, "to": 40}, {"from": 40, "to": None}]
    assert Notification.objects.filter(
        recipient=hourly_contract.freelancer, text__contains="from 20 hrs/week to 40 hrs/week"
    ).exists()


@pytest.mark.parametrize("hours", [0, 81, 500, -1])
def test_weekly_limit_bounds(hourly_contract, hours):
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_set_weekly_limit(
            actor=hourly_contract.client, contract_id=hourly_contract.pk, weekly_limit_hours=hours
        )
    assert _code(excinfo) == "weekly_limit_out_of_range"
    hourly_contract.refresh_from_db()
    assert hourly_contract.weekly_limit_hours == 20


def test_weekly_limit_is_the_clients_and_hourly_only(hourly_contract, fixed_contract):
    with pytest.raises(PermissionDeniedError):
        services.contract_set_weekly_limit(
            actor=hourly_contract.freelancer, contract_id=hourly_contract.pk, weekly_limit_hours=10
        )
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_set_weekly_limit(
            actor=fixed_contract.client, contract_id=fixed_contract.pk, weekly_limit_hours=10
        )
    assert _code(excinfo) == "not_hourly"


# --- milestones ------------------------------------------------------------------------------------


def test_the_milestone_transition_table_has_the_full_state_set():
    assert set(Milestone.Status.values) == {
        "pending",
        "funded",
        "submitted",
        "changes_requested",
        "released",
        "refunded",
        "disputed",
        "resolved",
    }
    assert {
        "pending": {"funded"},
        "funded": {"submitted", "refunded", "disputed"},
        "submitted": {"changes_requested", "released", "refunded", "disputed"},
        "changes_requested": {"submitted", "refunded", "disputed"},
        "released": set(),
        "refunded": set(),
        "disputed": {"resolved"},
        "resolved": set(),
    } == Milestone.TRANSITIONS


def test_milestone_transition_allows_exactly_the_table(fixed_contract):
    milestone = fixed_contract.milestones.first()
    for source, target in itertools.product(Milestone.Status.values, repeat=2):
        milestone.status = source
        if target in Milestone.TRANSITIONS[source]:
            services.milestone_transition(milestone, to=target, actor=None, kind="test")
            assert milestone.status == target
        else:
            with pytest.raises(ApplicationError) as excinfo:
                services.milestone_transition(milestone, to=target, actor=None, kind="test")
            assert _code(excinfo) == "illegal_transition"
            assert excinfo.value.extra == {"from": source, "to": target}
    allowed = sum(len(targets) for targets in Milestone.TRANSITIONS.values())
    assert ContractEvent.objects.filter(contract=fixed_contract, kind="test").count() == allowed


def test_the_client_adds_changes_and_removes_pending_milestones(
    fixed_contract, django_capture_on_commit_callbacks
):
    client, freelancer = fixed_contract.client, fixed_contract.freelancer
    due = timezone.localdate() + timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        added = services.milestone_add(
            actor=client, contract_id=fixed_contract.pk, data=MilestoneInput("Extra page", 20_000, due)
        )
    assert (added.position, added.status, added.added_by, added.due_date) == (3, "pending", client, due)
    assert Notification.objects.filter(recipient=freelancer, text__contains="added a milestone").exists()

    with django_capture_on_commit_callbacks(execute=True):
        changed = services.milestone_update(
            actor=client, milestone_id=added.pk, data=MilestoneInput("Two pages", 30_000)
        )
    assert (changed.description, changed.amount_cents, changed.due_date) == ("Two pages", 30_000, None)
    assert Notification.objects.filter(recipient=freelancer, text__contains="changed a milestone").exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.milestone_delete(actor=client, milestone_id=added.pk)
    assert not Milestone.objects.filter(pk=added.pk).exists()
    assert Notification.objects.filter(recipient=freelancer, text__contains="removed the milestone").exists()
    kinds = list(fixed_contract.events.values_list("kind", flat=True))
    assert kinds == ["started", "milestone_added", "milestone_updated", "milestone_deleted"]
    deleted = fixed_contract.events.get(kind="milestone_deleted")
    assert deleted.data["description"] == "Two pages"


def test_an_unchanged_milestone_is_not_logged(fixed_contract):
    milestone = fixed_contract.milestones.first()
    services.milestone_update(
        actor=fixed_contract.client,
        milestone_id=milestone.pk,
        data=MilestoneInput(milestone.description, milestone.amount_cents, milestone.due_date),
    )
    assert not fixed_contract.events.filter(kind="milestone_updated").exists()


def test_the_freelancer_proposes_a_milestone_and_manages_only_their_own(
    fixed_contract, django_capture_on_commit_callbacks
):
    freelancer, client = fixed_contract.freelancer, fixed_contract.client
    with django_capture_on_commit_callbacks(execute=True):
        proposed = services.milestone_add(
            actor=freelancer, contract_id=fixed_contract.pk, data=MilestoneInput("Extra", 5_000)
        )
    assert proposed.added_by == freelancer
    assert Notification.objects.filter(recipient=client, text__contains="proposed a milestone").exists()
    services.milestone_update(
        actor=freelancer, milestone_id=proposed.pk, data=MilestoneInput("Extra work", 6_000)
    )

    from_offer = fixed_contract.milestones.get(position=1)
    with pytest.raises(PermissionDeniedError):
        services.milestone_update(
            actor=freelancer, milestone_id=from_offer.pk, data=MilestoneInput("Cheaper", 1)
        )
    with pytest.raises(PermissionDeniedError):
        services.milestone_delete(actor=freelancer, milestone_id=from_offer.pk)

    services.milestone_delete(actor=freelancer, milestone_id=proposed.pk)
    assert fixed_contract.milestones.count() == 2


def test_only_pending_milestones_change(fixed_contract):
    milestone = fixed_contract.milestones.first()
    Milestone.objects.filter(pk=milestone.pk).update(status=Milestone.Status.FUNDED)
    for call in (
        lambda: services.milestone_update(
            actor=fixed_contract.client, milestone_id=milestone.pk, data=MilestoneInput("X", 100)
        ),
        lambda: services.milestone_delete(actor=fixed_contract.client, milestone_id=milestone.pk),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            call()
        assert _code(excinfo) == "milestone_not_pending"


def test_a_fixed_contract_keeps_at_least_one_milestone(fixed_contract):
    first, second = fixed_contract.milestones.all()
    services.milestone_delete(actor=fixed_contract.client, milestone_id=first.pk)
    with pytest.raises(ApplicationError) as excinfo:
        services.milestone_delete(actor=fixed_contract.client, milestone_id=second.pk)
    assert _code(excinfo) == "last_milestone"
    assert fixed_contract.milestones.count() == 1


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (MilestoneInput("Nothing", 0), "milestone_amount_invalid", "amount"),
        (MilestoneInput("Less", -100), "milestone_amount_invalid", "amount"),
        (MilestoneInput("", 100), "milestone_description_required", "description"),
        (MilestoneInput("x" * 100_000, 100), "milestone_description_too_long", "description"),
        (
            MilestoneInput("Past", 100, timezone.localdate() - timedelta(days=1)),
            "milestone_due_date_invalid",
            "due_date",
        ),
        (
            MilestoneInput("Far", 100, timezone.localdate() + timedelta(days=3650)),
            "milestone_due_date_invalid",
            "due_date",
        ),
        (MilestoneInput("Too much", 99_900_000), "total_out_of_range", "amount"),
    ],
)
def test_milestone_validation(fixed_contract, data, code, field):
    with pytest.raises(ApplicationError) as excinfo:
        services.milestone_add(actor=fixed_contract.client, contract_id=fixed_contract.pk, data=data)
    assert _code(excinfo) == code
    assert excinfo.value.extra["field"] == field
    assert fixed_contract.milestones.count() == 2


def test_milestones_need_an_active_fixed_contract(fixed_contract, hourly_contract):
    with pytest.raises(ApplicationError) as excinfo:
        services.milestone_add(
            actor=hourly_contract.client, contract_id=hourly_contract.pk, data=MilestoneInput("M", 100)
        )
    assert _code(excinfo) == "not_fixed"
    services.contract_end(actor=fixed_contract.client, contract_id=fixed_contract.pk, reason="completed")
    milestone = fixed_contract.milestones.first()
    for call in (
        lambda: services.milestone_add(
            actor=fixed_contract.client, contract_id=fixed_contract.pk, data=MilestoneInput("M", 100)
        ),
        lambda: services.milestone_update(
            actor=fixed_contract.client, milestone_id=milestone.pk, data=MilestoneInput("M", 100)
        ),
        lambda: services.milestone_delete(actor=fixed_contract.client, milestone_id=milestone.pk),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            call()
        assert _code(excinfo) == "contract_ended"


# --- files ----------------------------------------------------------------------------------------------


def test_a_party_shares_a_file(fixed_contract, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = services.contract_file_add(
            actor=fixed_contract.freelancer, contract_id=fixed_contract.pk, upload=_pdf()
        )
    assert (item.original_name, item.uploaded_by) == ("brief.pdf", fixed_contract.freelancer)
    assert item.file.name.endswith(".pdf") and "brief" not in item.file.name  # stored under a random name
    assert fixed_contract.events.filter(kind="file_added").exists()
    assert Notification.objects.filter(recipient=fixed_contract.client, text__contains="brief.pdf").exists()


def test_files_are_checked_and_refused_on_ended_contracts(fixed_contract):
    fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_file_add(actor=fixed_contract.client, contract_id=fixed_contract.pk, upload=fake)
    assert excinfo.value.extra["field"] == "file"
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_file_add(actor=fixed_contract.client, contract_id=fixed_contract.pk, upload=None)
    assert _code(excinfo) == "file_missing"
    services.contract_end(actor=fixed_contract.client, contract_id=fixed_contract.pk, reason="completed")
    with pytest.raises(ApplicationError) as excinfo:
        services.contract_file_add(actor=fixed_contract.client, contract_id=fixed_contract.pk, upload=_pdf())
    assert _code(excinfo) == "contract_ended"
    assert not ContractFile.objects.exists()
