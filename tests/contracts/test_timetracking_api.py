"""The tracker API: token authentication (none, wrong, revoked, someone else's), posting
segment batches (created and rejected items), screenshots (opt-in, private, parties only),
the timer, listing, editing and deleting segments, and the OpenAPI schema."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from contracts import timetracking
from contracts.models import TimerSession, TimeSegment, Timesheet
from contracts.timetracking import SegmentInput
from tests.contracts.conftest import Hire

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hire(db, clock) -> Hire:
    return Hire(hourly=True)


@pytest.fixture
def contract(hire):
    return hire.contract(weekly_limit_hours=1)


@pytest.fixture
def key(hire) -> str:
    return timetracking.tracker_token_create(actor=hire.freelancer, name="Laptop")[1]


def tracker(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Tracker {key}")
    return api


def segments_url(contract) -> str:
    return reverse("api_segments", args=[contract.pk])


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- authentication ---------------------------------------------------------------------------------------


def test_no_token_wrong_token_and_revoked_token_get_401(contract, hire, key):
    url = reverse("api_tracker_contracts")
    assert APIClient().get(url).status_code == 401
    response = tracker("trk_wrong").get(url)
    assert response.status_code == 401
    assert response.json()["message"] == "This tracker key is wrong or has been revoked."
    assert response["WWW-Authenticate"] == "Tracker"
    assert tracker(key).get(url).status_code == 200
    token = timetracking.tracker_token_authenticate(key)
    timetracking.tracker_token_revoke(actor=hire.freelancer, token_id=token.pk)
    assert tracker(key).get(url).status_code == 401
    malformed = APIClient()
    malformed.credentials(HTTP_AUTHORIZATION="Tracker two parts")
    assert malformed.get(url).status_code == 401


def test_the_token_is_not_accepted_by_other_endpoints(contract, key):
    response = tracker(key).get(reverse("api_contracts"))
    assert response.status_code in (401, 403)


def test_a_token_of_another_user_gets_404_on_a_foreign_contract(contract, clock):
    other = Hire(hourly=True)
    other_key = timetracking.tracker_token_create(actor=other.freelancer, name="Other")[1]
    clock.move_to(at(2, 12))
    api = tracker(other_key)
    body = {"segments": [{"started_at": at(2, 10).isoformat()}]}
    assert api.post(segments_url(contract), body, format="json").status_code == 404
    assert api.get(segments_url(contract)).status_code == 404
    assert api.post(reverse("api_timer_start", args=[contract.pk]), {}, format="json").status_code == 404
    assert api.get(reverse("api_tracker_contracts")).json() == []
    assert TimeSegment.objects.count() == 0


def test_tracker_contracts_lists_my_hourly_contracts_with_the_week(contract, key, clock):
    clock.move_to(at(2, 12))
    timetracking.segments_add(
        actor=contract.freelancer, contract_id=contract.pk, items=[SegmentInput(started_at=at(2, 10))]
    )
    rows = tracker(key).get(reverse("api_tracker_contracts")).json()
    assert [r["id"] for r in rows] == [contract.pk]
    assert rows[0]["week"]["logged_minutes"] == 10
    assert rows[0]["week"]["left_minutes"] == 50
    assert rows[0]["timer"] is None


# --- segments ----------------------------------------------------------------------------------------------


def test_post_a_batch_records_valid_segments_and_reports_the_others(contract, key, clock):
    clock.move_to(at(2, 12, 5))
    body = {
        "segments": [
            {"started_at": at(2, 10).isoformat(), "memo": "Cart", "activity": 7},
            {"started_at": at(2, 10, 10).isoformat(), "memo": "Cart", "activity": 3},
            {"started_at": at(2, 12, 30).isoformat(), "memo": "Future"},
        ]
    }
    response = tracker(key).post(segments_url(contract), body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert [s["started_at"] for s in data["created"]] == ["2026-03-02T10:00:00Z", "2026-03-02T10:10:00Z"]
    assert data["created"][0]["activity"] == 7 and data["created"][0]["source"] == "tracker"
    assert data["created"][0]["billable"] is True
    assert data["rejected"] == [
        {
            "index": 2,
            "started_at": "2026-03-02T12:30:00Z",
            "code": "segment_in_future",
            "message": data["rejected"][0]["message"],
        }
    ]
    assert "future" in data["rejected"][0]["message"]
    assert data["week"]["logged_minutes"] == 20

    # a retry with the same Idempotency-Key (a tracker after a timeout) gets the first answer
    retry = tracker(key).post(segments_url(contract), body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert retry.status_code == 409  # no key was sent the first time: this is a new request
    first = tracker(key).post(
        segments_url(contract),
        {"segments": [{"started_at": at(2, 11).isoformat()}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="batch-2",
    )
    replay = tracker(key).post(
        segments_url(contract),
        {"segments": [{"started_at": at(2, 11).isoformat()}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="batch-2",
    )
    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    TimeSegment.objects.filter(started_at=at(2, 11)).delete()

    # posting the same slots again: every one overlaps, so the answer is the error
    again = tracker(key).post(segments_url(contract), {"segments": body["segments"][:1]}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "segment_overlap"
    assert TimeSegment.objects.filter(contract=contract).count() == 2


def test_bad_input_gets_400(contract, key, clock):
    clock.move_to(at(2, 12))
    api = tracker(key)
    bad_activity = {"segments": [{"started_at": at(2, 10).isoformat(), "activity": 11}]}
    assert api.post(segments_url(contract), bad_activity, format="json").status_code == 400
    assert (
        api.post(
            segments_url(contract), {"segments": [{"started_at": "yesterday"}]}, format="json"
        ).status_code
        == 400
    )
    assert api.post(segments_url(contract), {"segments": []}, format="json").status_code == 400
    assert (
        api.post(segments_url(contract), [{"started_at": "2026-03-02T10:00:00Z"}], format="json").status_code
        == 400
    )
    assert TimeSegment.objects.count() == 0


def test_the_client_reads_the_diary_but_cannot_post(contract, hire, clock):
    clock.move_to(at(2, 12))
    timetracking.segments_add(
        actor=hire.freelancer,
        contract_id=contract.pk,
        items=[SegmentInput(started_at=at(2, 10) + i * timetracking.SEGMENT) for i in range(8)],
    )
    api = APIClient()
    api.force_authenticate(hire.client)
    data = api.get(segments_url(contract) + "?week=2026-03-04").json()
    assert data["week_start"] == "2026-03-02"
    assert len(data["segments"]) == 8
    assert [s["billable"] for s in data["segments"]] == [True] * 6 + [False] * 2
    assert data["summary"]["over_limit_minutes"] == 20
    response = api.post(
        segments_url(contract), {"segments": [{"started_at": at(2, 11, 30).isoformat()}]}, format="json"
    )
    assert response.status_code == 403


def test_patch_and_delete_segments(contract, hire, key, clock):
    clock.move_to(at(2, 12))
    segment = timetracking.segments_add(
        actor=hire.freelancer, contract_id=contract.pk, items=[SegmentInput(started_at=at(2, 10))]
    ).created[0]
    url = reverse("api_segment", args=[contract.pk, segment.pk])
    api = tracker(key)
    response = api.patch(url, {"memo": "Refactor"}, format="json")
    assert response.status_code == 200 and response.json()["memo"] == "Refactor"
    client = APIClient()
    client.force_authenticate(hire.client)
    assert client.delete(url).status_code == 403
    Timesheet.objects.create(
        contract=contract, week_start=date(2026, 3, 2), status=Timesheet.Status.IN_REVIEW
    )
    response = api.delete(url)
    assert response.status_code == 400 and response.json()["code"] == "segment_billed"
    Timesheet.objects.all().delete()
    assert api.delete(url).status_code == 204
    assert api.delete(url).status_code == 404


# --- screenshots ---------------------------------------------------------------------------------------------


def test_screenshots_are_refused_unless_the_request_opts_in(contract, key, clock):
    clock.move_to(at(2, 12))
    segments = '[{"started_at": "2026-03-02T10:00:00Z", "memo": "UI"}]'
    shot = io.BytesIO(png())
    shot.name = "screen.png"
    response = tracker(key).post(
        segments_url(contract), {"segments": segments, "screenshot_0": shot}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "screenshots_off"
    assert TimeSegment.objects.count() == 0


def test_screenshots_are_private_and_served_to_the_parties_only(
    contract, hire, key, clock, settings, stranger_client
):
    clock.move_to(at(2, 12))
    segments = '[{"started_at": "2026-03-02T10:00:00Z"}, {"started_at": "2026-03-02T10:10:00Z"}]'
    shot = io.BytesIO(png())
    shot.name = "screen.png"
    response = tracker(key).post(
        segments_url(contract),
        {"segments": segments, "screenshots": "true", "screenshot_1": shot},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert [s["has_screenshot"] for s in response.json()["created"]] == [False, True]
    segment = TimeSegment.objects.get(started_at=at(2, 10, 10))
    assert not segment.screenshot.path.startswith(str(settings.MEDIA_ROOT) + "/")  # not public media
    assert "screen" not in segment.screenshot.name  # a random name

    api = APIClient()
    api.force_authenticate(hire.client)
    shot_url = reverse("api_segment_screenshot", args=[contract.pk, segment.pk])
    response = api.get(shot_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    api.force_authenticate(stranger_client)
    assert api.get(shot_url).status_code == 404
    # the HTML diary: the client sees the link and may open it
    from django.test import Client

    browser = Client()
    browser.force_login(hire.client)
    html = browser.get(reverse("contracts:diary", args=[contract.pk])).content.decode()
    assert html.count('data-testid="screenshot-link"') == 1
    assert (
        browser.get(reverse("contracts:segment_screenshot", args=[contract.pk, segment.pk])).status_code
        == 200
    )
    browser.force_login(stranger_client)
    assert (
        browser.get(reverse("contracts:segment_screenshot", args=[contract.pk, segment.pk])).status_code
        == 404
    )


# --- timer ---------------------------------------------------------------------------------------------------


def test_timer_start_and_stop_through_the_api(contract, key, clock):
    api = tracker(key)
    clock.move_to(at(2, 10, 0))
    response = api.post(reverse("api_timer_start", args=[contract.pk]), {"memo": "Search"}, format="json")
    assert response.status_code == 200
    assert response.json()["running"] is True and response.json()["source"] == "tracker"
    clock.move_to(at(2, 10, 25))
    state = api.get(reverse("api_timer", args=[contract.pk])).json()
    assert state["running"] and state["timer"]["elapsed_seconds"] == 1500
    response = api.post(reverse("api_timer_stop", args=[contract.pk]), {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert [s["started_at"] for s in body["created"]] == [
        "2026-03-02T10:00:00Z",
        "2026-03-02T10:10:00Z",
        "2026-03-02T10:20:00Z",
    ]
    assert body["timer"]["running"] is False
    assert body["week"]["logged_minutes"] == 30
    assert TimerSession.objects.get().stopped_at == at(2, 10, 25)
    response = api.post(reverse("api_timer_stop", args=[contract.pk]), {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "timer_not_running"


def test_session_users_use_the_same_endpoints(contract, hire, clock):
    api = APIClient()
    api.force_authenticate(hire.freelancer)
    clock.move_to(at(2, 10, 0))
    response = api.post(reverse("api_timer_start", args=[contract.pk]), {}, format="json")
    assert response.status_code == 200 and response.json()["source"] == "timer"
    client = APIClient()
    client.force_authenticate(hire.client)
    assert client.post(reverse("api_timer_start", args=[contract.pk]), {}, format="json").status_code == 403


def test_schema_documents_the_tracker_endpoints(db):
    response = APIClient().get(reverse("schema"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/contracts/{contract_id}/segments/" in text
    assert "/api/v1/contracts/{contract_id}/timer/stop/" in text
    assert "/api/v1/tracker/contracts/" in text
    assert "trackerToken" in text
