"""Whole numbers from requests (marketplace/ids.py): digits ``int`` refuses are not ids, so
they answer 400/404 or are ignored, never a 500."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import Skill
from jobs.models import Job
from marketplace.ids import as_id, as_ids, is_id
from tests import factories


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (12, 12),
        ("0", 0),
        ("", None),
        (None, None),
        ("\u00b2", None),  # superscript two: str.isdigit() is true, int() raises
        ("\u0663", None),  # Arabic-Indic three: int() accepts it, but it is no id of ours
        ("1\u00b2", None),
        ("-1", None),
        (-1, None),
        (True, None),
        ("1" * 18, int("1" * 18)),
        ("1" * 19, None),  # past bigint
        (" 7", None),
        ("7.0", None),
    ],
)
def test_as_id(value, expected):
    assert as_id(value) == expected
    if isinstance(value, str):
        assert is_id(value) == (expected is not None)


def test_as_ids_keeps_the_whole_numbers_in_order():
    assert as_ids(["3", "\u00b2", "x", "1", ""]) == [3, 1]


@pytest.fixture
def web_dev(db):
    return Skill.objects.select_related("subcategory__category").get(name="Python").subcategory


def test_job_create_page_refuses_a_superscript_team_id(client, web_dev):
    client.force_login(factories.make_client())
    response = client.post(
        reverse("jobs:create"),
        {"title": "Build a Django booking site", "category": web_dev.category_id, "team": "\u00b2"},
    )
    assert response.status_code == 200
    assert "Choose one of your teams." in response.content.decode()
    assert Job.objects.count() == 0


def test_job_create_api_refuses_a_superscript_team_id(api_client, web_dev):
    api_client.force_login(factories.make_client())
    body = {
        "title": "Build a Django booking site",
        "category_id": web_dev.category_id,
        "description": "We need a booking site for a chain of yoga studios, with card payments.",
        "budget_type": "fixed",
        "fixed_budget_cents": 50_000,
        "team": "\u00b2",
    }
    response = api_client.post(reverse("api_job_create"), json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_team"
    assert Job.objects.count() == 0


def test_conversation_pages_refuse_a_superscript_seq(client, api_client, db):
    from messaging import services as messaging_services

    a, b = factories.make_client(), factories.make_freelancer()
    conversation = messaging_services.conversation_get_or_create_for_subject(participants=[a, b])
    client.force_login(a)
    api_client.force_login(a)
    pages = [
        client.get(reverse(name, kwargs={"conversation_id": conversation.pk}), {"before": "\u00b2"})
        for name in ("messaging:conversation", "messaging:history")
    ]
    api = api_client.get(
        reverse("api_conversation_messages", kwargs={"conversation_id": conversation.pk}),
        {"before": "\u00b2"},
    )
    # the pages show "Page positions are whole numbers." (ApplicationErrorMiddleware), the API a 400
    assert [p.status_code for p in pages] == [302, 302]
    assert api.status_code == 400
    assert "before" in api.json()["extra"]["fields"]
