"""Publishing and unpublishing staff-written content (help articles and events): one
locked, staff-only toggle shared by ``community.help`` and ``community.events``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models, transaction

from marketplace.errors import NotFoundError, PermissionDeniedError

if TYPE_CHECKING:
    from accounts.models import User

M = TypeVar("M", bound=models.Model)


@transaction.atomic
def published_set(
    *,
    actor: User,
    model: type[M],
    object_id: Any,
    published: bool,
    noun: str,
    not_found_code: str,
    also_save: tuple[str, ...] = (),
) -> M:
    """Set ``is_published`` on one ``model`` row (staff only). Locks the row; saving the
    value it already has writes nothing. ``also_save`` names extra fields to save with it
    (``updated_at`` for articles)."""
    if not actor.is_staff:
        raise PermissionDeniedError(f"Only staff publish {noun}s.", code="not_staff")
    obj = model._default_manager.select_for_update().filter(pk=object_id).first()
    if obj is None:
        raise NotFoundError(f"No such {noun}.", code=not_found_code)
    if getattr(obj, "is_published") != published:  # noqa: B009 (any model with the field)
        setattr(obj, "is_published", published)  # noqa: B010
        obj.save(update_fields=["is_published", *also_save])
    return obj
