"""The named routes of the URL resolver, with the arguments their patterns take."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class NamedRoute:
    name: str  # "namespace:name"
    pattern: str  # the full pattern, for messages
    arguments: tuple[str, ...]  # the arguments of the pattern (converters and regex groups)

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")


def _arguments(pattern: str) -> tuple[str, ...]:
    converters = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
    groups = re.findall(r"\(\?P<(\w+)>", pattern)
    return tuple(converters + groups)


def named_routes() -> list[NamedRoute]:
    """Every named route, outermost first; a name that appears twice keeps the first."""
    found: dict[str, NamedRoute] = {}

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = entry.namespace
                ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
                walk(entry, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                pattern = prefix + str(entry.pattern)
                found.setdefault(name, NamedRoute(name, pattern, _arguments(pattern)))

    walk(get_resolver(), "", None)
    return list(found.values())
