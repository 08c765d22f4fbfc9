"""Markdown for members' posts and staff's help articles, rendered to HTML that is safe to
show as is.

Two layers, so that a mistake in one is caught by the other:

1. markdown-it-py parses a small subset of CommonMark: paragraphs, emphasis, strikethrough,
   inline code and code blocks, lists, block quotes, rules and links. Raw HTML is not
   passed through (it shows as text), images are off, and a link is kept only when its
   target is an absolute ``http``, ``https`` or ``mailto`` address.
2. nh3 (the ammonia sanitiser) then keeps only the tags and attributes that subset can
   produce, drops any other URL scheme, and gives every link
   ``rel="nofollow ugc noopener"``.

Mentions: ``@handle`` in ordinary text (not in code or inside a link) becomes a link to
the member's profile when the caller passes ``mentions``, a map from the handle (case
folded) to the profile's path; unknown handles stay plain text. This module knows nothing
of members: ``community.forums`` decides who a handle names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "s", "code", "pre", "ul", "ol", "li", "blockquote", "a", "hr"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
LINK_REL = "nofollow ugc noopener"

# "@" not preceded by a word character or another "@" (so "bob@example.com" is no mention),
# then 2 to 40 letters, digits or underscores; a profile's public id ("@~1a2b...") too.
MENTION_RE = re.compile(r"(?<![\w@~])@(~[0-9a-f]{16}|\w{2,40})")
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _link_is_allowed(url: str) -> bool:
    """Absolute http(s) and mailto only: no javascript:, data:, relative or protocol-relative
    links (markdown-it has already decoded entities and normalised the URL)."""
    text = url.strip()
    match = _SCHEME_RE.match(text)
    if match is None:
        return False
    scheme = match.group(1).lower()
    if scheme not in ALLOWED_SCHEMES:
        return False
    return scheme == "mailto" or text[len(scheme) + 1 :].startswith("//")


link_is_allowed = _link_is_allowed  # the help center's articles use the same rule


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("strikethrough")
    md.disable(["image", "heading", "lheading", "html_block", "html_inline"])
    md.validateLink = _link_is_allowed  # type: ignore[method-assign]
    return md


def _text_tokens(tokens: list[Token]) -> Iterator[tuple[Token, list[Token], int]]:
    """Each text token outside links, with the list that holds it and its index."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        depth = 0
        for index, child in enumerate(block.children):
            if child.type == "link_open":
                depth += 1
            elif child.type == "link_close":
                depth -= 1
            elif child.type == "text" and depth == 0:
                yield child, block.children, index


def mention_handles(text: str) -> list[str]:
    """The handles mentioned in ``text`` (case folded, in order, once each), ignoring code
    and link text."""
    seen: dict[str, None] = {}
    for token, _children, _index in _text_tokens(_parser().parse(text or "")):
        for match in MENTION_RE.finditer(token.content):
            seen.setdefault(match.group(1).casefold(), None)
    return list(seen)


def _link_mentions(tokens: list[Token], mentions: Mapping[str, str]) -> None:
    replacements: list[tuple[list[Token], int, list[Token]]] = []
    for token, children, index in _text_tokens(tokens):
        content = token.content
        pieces: list[Token] = []
        position = 0
        for match in MENTION_RE.finditer(content):
            url = mentions.get(match.group(1).casefold())
            if not url:
                continue
            if match.start() > position:
                pieces.append(_text(content[position : match.start()]))
            opening = Token("link_open", "a", 1)
            opening.attrs = {"href": url, "class": "mention"}
            pieces += [opening, _text(match.group(0)), Token("link_close", "a", -1)]
            position = match.end()
        if pieces:
            if position < len(content):
                pieces.append(_text(content[position:]))
            replacements.append((children, index, pieces))
    for children, index, pieces in reversed(replacements):  # later indexes first
        children[index : index + 1] = pieces


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def sanitize_html(html: str) -> str:
    """Keep only the tags, attributes and URL schemes of the subset (see module docstring)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={"a": {"mention"}},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(text: str, *, mentions: Mapping[str, str] | None = None) -> str:
    """Markdown to sanitised HTML. ``mentions`` maps case-folded handles to profile paths
    (paths on this site, like ``/freelancers/~1a2b.../``)."""
    md = _parser()
    tokens = md.parse(text or "")
    if mentions:
        _link_mentions(tokens, mentions)
    html = md.renderer.render(tokens, md.options, {})
    return sanitize_html(html)
