"""The access matrix (tests/marketplace/access_matrix.py) checked against the running site:
every route of the URL resolver that names an object, by every kind of user, with every
method (the API's from its OpenAPI schema); routes without arguments refuse anonymous
visitors unless they are public. The websockets: test_access_websockets.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache as memoize
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.marketplace import access_matrix as matrix
from tests.marketplace.routes import NamedRoute, named_routes
from tests.marketplace.world import World, rolled_back, world_in_rollback

PAGE_METHODS = ["get", "post"]
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")  # the site's and the admin's (staff pages)
REAUTH_PATH = "/accounts/reauthenticate/"


@memoize
def _schema_paths() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)["paths"]


def schema_path(route: NamedRoute) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.pattern)


def schema_methods(route: NamedRoute) -> set[str]:
    """The methods of the route's operations in the OpenAPI schema."""
    operations = _schema_paths().get(schema_path(route), {})
    return {m for m in operations if m in ("get", "post", "put", "patch", "delete")}


def methods_of(route: NamedRoute) -> list[str]:
    return sorted(schema_methods(route)) if route.is_api else PAGE_METHODS


def status_of(response: Any) -> int | str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(LOGIN_PATHS):
            return matrix.LOGIN
        if location.startswith(REAUTH_PATH):
            return matrix.REAUTH
    return response.status_code


def request_as(
    world: World, user: User | None, method: str, url: str, api: bool, data: dict[str, Any] | None = None
) -> int | str:
    """One request by ``user`` (None: anonymous), its effects rolled back afterwards."""
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    cache.clear()  # rate limits and throttles count per user; every request starts fresh
    kwargs: dict[str, Any] = {}
    if api and method in ("post", "put", "patch"):
        kwargs = {"data": json.dumps(data or {}), "content_type": "application/json"}
    elif method == "post" and data:
        kwargs = {"data": data}
    with rolled_back():
        return status_of(getattr(client, method)(url, **kwargs))


ROUTES = {route.name: route for route in named_routes()}


def _exempt(route: NamedRoute) -> bool:
    return route.name.startswith(matrix.EXEMPT_PREFIXES) or route.name in matrix.EXEMPT


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with world_in_rollback(django_db_blocker) as built:
        yield built


# --- the table covers every route ------------------------------------------------------------


def test_every_route_that_names_an_object_has_a_row():
    """A new route with arguments fails here until its row says who may do what."""
    missing = sorted(
        f"{r.name} ({r.pattern})"
        for r in ROUTES.values()
        if r.arguments and not _exempt(r) and r.name not in matrix.ROUTES
    )
    assert missing == [], "routes with no row in tests/marketplace/access_matrix.py:\n" + "\n".join(missing)


def test_every_row_names_a_route_and_covers_its_methods():
    stale = sorted(set(matrix.ROUTES) - set(ROUTES))
    assert stale == [], f"rows for routes that no longer exist: {stale}"
    gaps = []
    for name, row in matrix.ROUTES.items():
        route = ROUTES[name]
        for method in methods_of(route):
            if row.statuses(method) is None:
                gaps.append(f"{name}: {method.upper()}")
    assert gaps == [], "rows without statuses for a method the route answers:\n" + "\n".join(gaps)
    # An API route whose path the schema does not know (a converter written differently, an
    # operation left out) would have no method to try: its row would check nothing.
    unchecked = sorted(name for name in matrix.ROUTES if not methods_of(ROUTES[name]))
    assert unchecked == [], f"rows whose route answers no method (not in the OpenAPI schema?): {unchecked}"
    # Statuses for a method the route does not answer are never compared: a stale expectation.
    stale_methods = sorted(
        f"{name}: {method.upper()}"
        for name, row in matrix.ROUTES.items()
        for method in ("get", "post", "put", "patch", "delete")
        if row.statuses(method) is not None and method not in methods_of(ROUTES[name])
    )
    assert stale_methods == [], f"statuses for methods the route does not answer: {stale_methods}"


# --- every object URL by every kind of user --------------------------------------------------------


@pytest.mark.parametrize("name", sorted(matrix.ROUTES))
def test_access(name: str, world: World, db) -> None:
    row = matrix.ROUTES[name]
    route = ROUTES[name]
    url = reverse(name, kwargs=row.kwargs(world))
    owner = world.client if row.owner == "client" else world.freelancer
    wrong = []
    for method in methods_of(route):
        expected = row.statuses(method)
        assert expected is not None, f"{name} has no statuses for {method.upper()}"
        for actor, want in zip(matrix.ACTORS, expected, strict=True):
            user = owner if actor == "owner" else world.actor(actor)
            got = request_as(world, user, method, url, route.is_api, row.data)
            if got != want:
                wrong.append(f"{method.upper()} {url} as {actor}: {got!r}, expected {want!r}")
    assert wrong == [], "\n".join(wrong)


# --- routes without arguments ------------------------------------------------------------------


def test_routes_without_arguments_refuse_anonymous_visitors_unless_public(world: World, db) -> None:
    wrong = []
    for route in ROUTES.values():
        if route.arguments or _exempt(route):
            continue
        methods = methods_of(route)
        if not methods:
            continue  # an API route outside the schema (none today)
        method = "get" if "get" in methods else methods[0]
        got = request_as(world, None, method, reverse(route.name), route.is_api)
        if route.name in matrix.PUBLIC:
            if got != matrix.PUBLIC[route.name]:
                wrong.append(f"{route.name}: {got!r}, expected {matrix.PUBLIC[route.name]!r} (public)")
        elif got not in ((401, 403) if route.is_api else (matrix.LOGIN,)):
            wrong.append(f"{route.name} ({route.pattern}) answers an anonymous {method.upper()} with {got!r}")
    assert wrong == [], "\n".join(wrong)


# --- hostile query strings on every page ----------------------------------------------------------

# The query parameters the pages and the API read: search terms, filters, ids, page positions.
HOSTILE_PARAMETERS = (
    "q", "search", "category", "subcategory", "skills", "page", "cursor", "sort", "tab", "status",
    "before", "after", "team", "quote", "job", "freelancer", "proposal", "limit", "offset",
)  # fmt: skip
# NUL bytes (PostgreSQL refuses them), quotes and markup; and "²", which ``str.isdigit`` takes
# for a digit and ``int`` refuses (``int(x) if x.isdigit()`` answered it with a 500).
HOSTILE_VALUES = {"nul-and-markup": "\x00'\"<script>", "superscript-digit": "\u00b2"}


@pytest.mark.parametrize("value_name", sorted(HOSTILE_VALUES))
def test_no_page_answers_a_hostile_query_string_with_a_server_error(
    value_name: str, world: World, db
) -> None:
    """Hostile values in the usual query parameters of every GET route without arguments (as
    a visitor and as the world's users) and of every object page (as its owner)."""
    query = dict.fromkeys(HOSTILE_PARAMETERS, HOSTILE_VALUES[value_name])
    errors = []
    for route in ROUTES.values():
        if route.arguments or _exempt(route) or (route.is_api and "get" not in schema_methods(route)):
            continue
        url = reverse(route.name)
        for user in (None, world.client, world.freelancer, world.staff):
            client = Client(raise_request_exception=False)
            if user is not None:
                client.force_login(user)
            cache.clear()
            with rolled_back():
                status = client.get(url, query).status_code
            if status >= 500:
                errors.append(f"GET {url} as {user or 'anonymous'}: {status}")
    for name, row in matrix.ROUTES.items():  # and every object page, as its owner
        if row.get is None:
            continue
        url = reverse(name, kwargs=row.kwargs(world))
        client = Client(raise_request_exception=False)
        client.force_login(world.client if row.owner == "client" else world.freelancer)
        cache.clear()
        with rolled_back():
            status = client.get(url, query).status_code
        if status >= 500:
            errors.append(f"GET {url} as the owner: {status}")
    assert errors == [], "\n".join(errors)
