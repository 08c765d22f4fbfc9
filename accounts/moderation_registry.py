"""What the moderation queue knows about each kind of content.

Each app registers the models people can report (in its ``AppConfig.ready``) with the
functions the queue needs: who wrote it, what it says, where it lives, and how staff hide
and show it again. ``accounts.moderation`` (the queue's services) calls only these, so
that it never reaches into another app's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models


@dataclass(frozen=True)
class Moderated:
    label: str  # "job", "service", "profile", "message", "review", "forum post"
    owner: Callable[[Any], Any]  # obj -> the User who wrote it (or None)
    snapshot: Callable[[Any], str]  # obj -> the text as reported
    url: Callable[[Any], str]  # obj -> a path where staff can see it in context
    # hide(actor, obj, reason) / unhide(actor, obj): the owning app's own services; they
    # change the content's visibility and nothing else (the queue logs and notifies)
    hide: Callable[[Any, Any, str], None]
    unhide: Callable[[Any, Any], None]
    is_hidden: Callable[[Any], bool]
    # (obj, user) -> may this signed-in user see it (and so report it)? None: anyone may
    # unless it is hidden (the owner always may)
    visible_to: Callable[[Any, Any], bool] | None = None
    # True when the app's own hide/unhide already tell the author (reviews do: both sides
    # are told), so the queue does not send the author a second notification
    notifies_owner: bool = False


_registry: dict[str, Moderated] = {}


def register(model: type[models.Model], entry: Moderated) -> None:
    _registry[model._meta.label_lower] = entry


def entry_for(model: type[models.Model]) -> Moderated | None:
    return _registry.get(model._meta.label_lower)


def registered() -> dict[str, Moderated]:
    return dict(_registry)
