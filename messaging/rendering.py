"""Message bodies as HTML: escaped first, then links made clickable, newlines kept.

The order matters: the text is escaped before anything is added, so a message can never
carry markup of its own; the only tags in the result are the ``<a>`` and ``<br>`` made here.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# In escaped text a URL ends at white space or at an escaped quote or angle bracket.
_URL = re.compile(r"\b(?:https?://|www\.)(?:(?!&quot;|&#x27;|&lt;|&gt;)[^\s])+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def _link(match: re.Match[str]) -> str:
    url = match.group(0)
    trail = ""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a balanced parenthesis belongs to the URL (Wikipedia links)
        trail = url[-1] + trail
        url = url[:-1]
    href = url if url.lower().startswith("http") else f"https://{url}"
    return f'<a href="{href}" rel="nofollow noopener noreferrer" target="_blank">{url}</a>{trail}'


def render_body(text: str) -> SafeString:
    """``text`` as safe HTML: escaped, links clickable, line breaks as ``<br>``."""
    escaped = escape(text)
    linked = _URL.sub(_link, escaped)
    return mark_safe(linked.replace("\r\n", "\n").replace("\n", "<br>"))  # noqa: S308 - escaped above


def excerpt(text: str, limit: int = 120) -> str:
    """A one-line plain-text preview."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
