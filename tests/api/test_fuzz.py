"""Every operation of the OpenAPI schema (drf-spectacular), fuzzed by schemathesis in-process
through the WSGI application, as the owner client and as the owner freelancer of a small
marketplace (tests/marketplace/world.py): no 5xx, no status code the schema does not
document, no body or header that breaks the schema.

CI runs it with a fixed seed (``derandomize``) and ``FUZZ_EXAMPLES`` (default 50) examples per
operation and actor; ``make fuzz`` runs it longer with a random seed. Path parameters are
mostly the ids of the world's objects (so operations reach real rows), sometimes random."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import PASSWORD
from tests.marketplace.world import World, world_in_rollback

pytestmark = [pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
RANDOM_SEED = os.environ.get("FUZZ_RANDOM") == "1"  # make fuzz: a new seed each run

RAW_SCHEMA: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
SCHEMA = schemathesis.openapi.from_dict(RAW_SCHEMA)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]

# Invalid input (negative mode) is held to the same checks: a 4xx envelope, never a 5xx. Whether
# an invalid value is *rejected* (schemathesis' negative_data_rejection) is left out: several
# inputs are deliberately lenient (unknown fields ignored, long names trimmed).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# the current world's ids; set by the module fixture, read at draw time
KNOWN: dict[str, Any] = {}


def known_path_parameters(path: str, names: list[str]) -> dict[str, Any]:
    """Real ids for the path parameters of ``path`` (the world's objects)."""
    values: dict[str, Any] = {}
    for name in names:
        if name == "public_id":
            if path.startswith("/api/v1/freelancers/"):
                values[name] = KNOWN["freelancer_public_id"]
            elif path.startswith("/api/v1/clients/"):
                values[name] = KNOWN["client_public_id"]
            elif path.startswith("/api/v1/services/orders/"):
                values[name] = KNOWN["order_public_id"]
            elif path.startswith("/api/v1/services/"):
                values[name] = KNOWN["listing_public_id"]
            else:
                values[name] = KNOWN["job_public_id"]
        elif name == "proposal_id" and path.startswith("/api/v1/dispute-proposals/"):
            values[name] = KNOWN["settlement_id"]
        elif name == "slug":
            prefix = path.split("/")[3]  # /api/v1/<prefix>/...
            values[name] = KNOWN.get(f"{prefix}_slug")
        elif name == "invitation_id" and path.startswith("/api/v1/teams/"):
            values[name] = KNOWN["team_invitation_id"]
        elif name in KNOWN:
            values[name] = KNOWN[name]
    return {k: v for k, v in values.items() if v is not None}


def world_ids(world: World) -> dict[str, Any]:
    today = world.contract.started_at
    return {
        "freelancer_public_id": world.freelancer.freelancer_profile.public_id,
        "client_public_id": world.client.client_profile.public_id,
        "order_public_id": world.order.public_id,
        "listing_public_id": world.listing.public_id,
        "job_public_id": world.job.public_id,
        "settlement_id": world.settlement.pk,
        "contract_id": world.contract.pk,
        "milestone_id": world.milestone.pk,
        "segment_id": world.segment.pk,
        "conversation_id": world.conversation.pk,
        "attachment_id": world.attachment.pk,
        "seq": world.message.seq,
        "proposal_id": world.proposal.pk,
        "dispute_id": world.dispute.pk,
        "invitation_id": world.own_invitation.pk,
        "offer_id": world.offer.pk,
        "notification_id": world.notification.pk,
        "card_id": world.card.pk,
        "method_id": world.payout_method.pk,
        "search_id": world.saved_search.pk,
        "year": today.year,
        "month": today.month,
        "agencies_slug": world.agency.slug,
        "help_slug": world.article.slug,
        "events_slug": world.event.slug,
        "team_id": world.team.pk,
        "team_invitation_id": world.team_invitation.pk,
        "user_id": world.client.pk,
        "thread_id": world.thread.pk,
        "post_id": world.post.pk,
        "review_id": world.review.pk,
        "timesheet_id": world.timesheet.pk,
    }


def _strategy(operation) -> st.SearchStrategy:
    names = [p.name for p in operation.path_parameters]
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    negative = operation.as_strategy(GenerationMode.NEGATIVE)

    @st.composite
    def cases(draw):
        negative_case = draw(st.integers(0, 3)) == 0
        case = draw(negative if negative_case else positive)
        if names and not negative_case and draw(st.integers(0, 4)) > 0:  # mostly real rows
            case.path_parameters = {**case.path_parameters, **known_path_parameters(operation.path, names)}
        return negative_case, case

    return cases()


def test_the_schema_generates_without_warnings_or_errors():
    """Two serializers with one component name, an unresolvable field, an operationId used
    twice: drf-spectacular warns and writes a schema that lies. None of that is allowed."""
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        SchemaGenerator().get_schema(request=None, public=True)
    problems = sorted([*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache])
    GENERATOR_STATS.reset()
    assert problems == []


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """The world, built once for the module inside a transaction rolled back at its end; each
    test's own (rolled back) transaction nests in it, so every operation starts from it."""
    from django.test import Client

    with world_in_rollback(django_db_blocker) as world:
        tokens = {}
        for actor, user in (("client", world.client), ("freelancer", world.freelancer)):
            cache.clear()
            response = Client().post(
                "/api/v1/auth/token/",
                {"email": user.email, "password": PASSWORD},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content
            tokens[actor] = response.json()["token"]
        KNOWN.clear()
        KNOWN.update(world_ids(world))
        yield {"world": world, "tokens": tokens}
        KNOWN.clear()


@pytest.fixture
def wsgi_app(db):
    """The WSGI application, without the per-request connection closing that would end the
    test's transaction (Django's own test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_operation_conforms_to_schema(operation, fuzz_world, wsgi_app, settings) -> None:
    settings.PAYMENTS_GATEWAY = "local"
    tokens = fuzz_world["tokens"]

    @settings_for_run
    @given(actor=st.sampled_from(sorted(tokens)), drawn=_strategy(operation))
    def run(actor: str, drawn) -> None:
        _negative, case = drawn
        cache.clear()  # throttling counts would turn later examples into 429s
        response = case.call(app=wsgi_app, headers={"Authorization": f"Token {tokens[actor]}"})
        case.validate_response(response, checks=CHECKS)

    run()


settings_for_run = settings(
    max_examples=EXAMPLES,
    derandomize=not RANDOM_SEED,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
