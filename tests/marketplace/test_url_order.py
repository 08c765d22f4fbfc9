"""The site's pages are included at the root from each app (``path("", include(...))``)
and Django tries them in order, so the hottest ones (jobs: the search page) come first.
That order must not matter: no path may be matched by two of these apps' URL
configurations, or moving one would hand its paths to another app's view."""

from __future__ import annotations

import itertools
import re

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver

CONVERTER = re.compile(r"<(?:(\w+):)?\w+>")


def _routes(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def _root_includes() -> list[URLResolver]:
    return [
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and str(entry.pattern) == ""
    ]


def _sample_paths(routes: list[str]) -> set[str]:
    """A path for each route, its arguments filled in with plain values and with every fixed
    path segment of the site ("search", "new", "mine"...), where a fixed path of one app
    could be taken for another's argument."""
    words = {seg for route in routes for seg in route.split("/") if seg and not re.search(r"[<(^$\\]", seg)}
    values = {"str": ["x1", *sorted(words)], "slug": ["s1", *sorted(words)], "int": ["7"], "path": ["a/b"]}
    paths: set[str] = set()
    for route in routes:
        if "(?P" in route or "^" in route:  # regular expressions: none among the root apps
            continue
        kinds = [kind or "str" for kind in CONVERTER.findall(route)]
        options = [values.get(kind, ["x1"]) for kind in kinds]
        combos = itertools.product(*options) if len(kinds) <= 2 else [tuple(o[0] for o in options)]
        for combo in combos:
            pieces = CONVERTER.split(route)[::2]  # the fixed text between the arguments
            paths.add(
                "/"
                + "".join(itertools.chain.from_iterable(itertools.zip_longest(pieces, combo, fillvalue="")))
            )
    return paths


def _matches(include: URLResolver, path: str) -> bool:
    try:
        include.resolve(path.lstrip("/"))
    except Resolver404:
        return False
    return True


def test_no_path_is_matched_by_two_root_apps():
    includes = _root_includes()
    assert len(includes) >= 8 and includes[0].urlconf_name.__name__ == "jobs.urls"  # jobs first
    paths = _sample_paths([route for include in includes for route in _routes(include.url_patterns)])
    assert len(paths) > 1000

    claimed = {
        path: [include.urlconf_name.__name__ for include in includes if _matches(include, path)]
        for path in paths
    }

    assert {path: apps for path, apps in claimed.items() if len(apps) > 1} == {}
    assert all(claimed[path] for path in ("/jobs/search/", "/jobs/x1/apply/", "/invitations/"))
