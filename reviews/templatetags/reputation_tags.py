"""Score pieces for other apps' templates: ``{% score_badges profile %}`` shows a
freelancer's Job Success Score and badges, each badge with the rule it stands for."""

from __future__ import annotations

from typing import Any

from django import template

from .. import reputation

register = template.Library()


@register.inclusion_tag("reviews/_score_badges.html")
def score_badges(profile: Any, viewer: Any = None) -> dict[str, Any]:
    return {
        "profile": profile,
        "badges": reputation.badge_infos(getattr(profile, "badges", None)),
        "is_owner": bool(
            viewer is not None and getattr(viewer, "pk", None) == getattr(profile, "user_id", None)
        ),
    }
