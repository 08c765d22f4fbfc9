"""Private file storage for chat attachments.

Files live outside ``MEDIA_ROOT`` (which the proxy serves publicly), in
``settings.PRIVATE_MEDIA_ROOT`` or, when that is not set, in a sibling folder
``<MEDIA_ROOT>-private``. They have no URL: ``messaging.views.attachment_download`` streams
them to participants only.
"""

from __future__ import annotations

import functools
import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def private_root() -> str:
    configured = getattr(settings, "PRIVATE_MEDIA_ROOT", None)
    if configured:
        return str(configured)
    return f"{str(settings.MEDIA_ROOT).rstrip(os.sep)}-private"


class PrivateStorage(FileSystemStorage):
    """A file system storage whose location follows the settings and which has no URL."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return private_root()

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(private_root())

    def url(self, name: str | None) -> str:
        raise ValueError("Chat attachments have no public URL; link to messaging:attachment_download.")


@functools.cache
def private_storage() -> PrivateStorage:
    return PrivateStorage()
