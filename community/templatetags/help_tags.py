"""``{% help_link "fees" %}``: a small link to the help article that explains the page's
topic (keys in ``community.help.HELP_TOPICS``). No database query."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from community.help import HELP_TOPICS, help_topic_url

register = template.Library()

DEFAULT_LABELS = {
    "fees": "How fees work",
    "escrow": "How escrow and holds work",
    "holds": "How escrow and holds work",
    "billing": "How weekly billing works",
    "disputes": "How disputes work",
    "jss": "How the Job Success Score works",
}


@register.simple_tag
def help_link(topic: str, label: str = "") -> str:
    if topic not in HELP_TOPICS:
        raise template.TemplateSyntaxError(f"help_link: unknown topic {topic!r}")
    text = label or DEFAULT_LABELS.get(topic, "Learn more")
    return format_html(
        '<a class="help-link small" href="{}" data-testid="help-link-{}"><i class="bi bi-question-circle" '
        'aria-hidden="true"></i> {}</a>',
        help_topic_url(topic),
        topic,
        text,
    )
