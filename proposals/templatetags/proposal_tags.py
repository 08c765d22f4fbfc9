"""Template helpers of proposals for pages other apps own (the job page; the navigation's
Connects balance comes from ``marketplace.navigation``).

Read-only: they never create a wallet or change anything.
"""

from __future__ import annotations

from typing import Any

from django import template

from proposals import selectors

register = template.Library()


@register.simple_tag
def proposal_apply_state(job: Any, user: Any = None) -> selectors.ApplyState:
    """``{% proposal_apply_state job user as apply %}``: can ``user`` apply, at what cost.

    On the cached page for anonymous visitors ``user`` is empty: the state is "anonymous".
    """
    return selectors.apply_state(job=job, user=user or None)
