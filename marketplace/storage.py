"""Static files as deployed: whitenoise's compressed, hashed-name storage, remembering each
file's URL for the life of the process.

``{% static %}`` asks the storage for a URL on every use: nine times on every page of the
site (the style sheets, scripts and icon of base.html). Each ask looked the name up in the
manifest, cleaned the path and joined it to STATIC_URL again. The manifest is read once
when the process starts and does not change while it runs, so the answer for a name is
the same every time; it is kept per name (and script prefix, which a relative STATIC_URL
depends on). ``collectstatic`` (post_process) forgets them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import get_script_prefix
from whitenoise.storage import CompressedManifestStaticFilesStorage


class RememberingStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple[str, str], str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if force or name is None:
            return super().url(name, force)
        key = (get_script_prefix(), name)
        found = self._urls.get(key)
        if found is None:
            found = super().url(name)
            if len(self._urls) < 10_000:  # names come from templates, not from requests
                self._urls[key] = found
        return found

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self._urls.clear()
        yield from super().post_process(*args, **kwargs)
        self._urls.clear()
