"""Review pieces other apps' templates show without importing reviews in their views:

- ``{% contract_feedback contract user %}``: the feedback box of an ended contract's page;
- ``{% feedback_to_give user %}``: the "Feedback to give" list (dashboard, contract list);
- ``{% freelancer_reviews user_id viewer %}``: the reviews on a freelancer's profile;
- ``{% client_reviews client_id %}``: what freelancers said about a client, on their job
  posts. It depends on nothing of the viewer, so the job page may cache it for visitors.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template

from .. import selectors
from ..models import Review

register = template.Library()


def _stars(rating: Decimal | None) -> int:
    return int(rating.quantize(Decimal("1"), rounding=ROUND_HALF_UP)) if rating is not None else 0


@register.inclusion_tag("reviews/_contract_feedback.html")
def contract_feedback(contract: Any, user: Any) -> dict[str, Any]:
    return {"feedback": selectors.contract_feedback(contract=contract, viewer=user), "user": user}


@register.inclusion_tag("reviews/_feedback_to_give.html")
def feedback_to_give(
    user: Any, role: str = "", hide_empty: bool = False, link: bool = True
) -> dict[str, Any]:
    """``role``: only the contracts where the user is that side; ``hide_empty``: render
    nothing when there is nothing to review (dashboards, lists); ``link``: to the
    feedback page."""
    items = selectors.pending_feedback_for_user(user=user)
    if role:
        items = [item for item in items if item.role == role]
    return {
        "items": items,
        "window_days": selectors.window_days(),
        "show": bool(items) or not hide_empty,
        "link": link,
    }


@register.inclusion_tag("reviews/_profile_reviews.html")
def freelancer_reviews(user_id: int, viewer: Any = None) -> dict[str, Any]:
    rating, count = selectors.rating_summary(user_id=user_id, direction=Review.Direction.CLIENT_TO_FREELANCER)
    cards = selectors.freelancer_recent_reviews(freelancer_id=user_id, viewer=viewer)
    return {"cards": cards, "rating": rating, "count": count, "stars": _stars(rating), "viewer": viewer}


@register.inclusion_tag("reviews/_client_reviews.html")
def client_reviews(client_id: int, public_id: str = "") -> dict[str, Any]:
    rating, count = selectors.rating_summary(
        user_id=client_id, direction=Review.Direction.FREELANCER_TO_CLIENT
    )
    cards = selectors.client_recent_reviews(client_id=client_id)
    return {"cards": cards, "rating": rating, "count": count, "stars": _stars(rating), "public_id": public_id}
