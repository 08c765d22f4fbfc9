"""Errors of messaging with their stable codes (the envelope is marketplace.errors')."""

from __future__ import annotations

from marketplace.errors import NotFoundError, PermissionDeniedError


class ConversationNotFound(NotFoundError):
    """Missing, or not yours: the two are indistinguishable on purpose."""

    code = "conversation_not_found"


class BlockedError(PermissionDeniedError):
    code = "blocked"


class AttachmentNotFound(NotFoundError):
    code = "attachment_not_found"
