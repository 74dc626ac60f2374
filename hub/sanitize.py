"""The one place where HTML is cleaned and Markdown rendered.

Pure: no Flask, database or network. Everything shown as markup — bios, descriptions,
later posts, comments and remote content — comes out of ``clean_html`` or
``render_markdown``; nothing else marks text as safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, partial
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import LinkifyFilter, build_url_re
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset({
    "p", "br", "em", "strong", "b", "i", "a", "ul", "ol", "li", "blockquote",
    "code", "pre", "h2", "h3", "h4", "hr", "img", "del", "sup", "sub",
})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener ugc"
MAX_SOURCE_CHARS = 100_000
#: Deeper blocks (quotes in quotes, lists in lists) are dropped rather than recursed into.
MAX_NESTING = 20
#: Tags markdown-it emits that the page wants otherwise: the page owns h1, h5/h6 are too
#: small to read, and strikethrough is spelt <del> in ALLOWED_TAGS.
RETAG = {"h1": "h2", "h5": "h4", "h6": "h4", "s": "del"}

#: Bare URLs become links only for the protocols links may use (bleach's default list
#: includes ftp, data, ed2k…).
_URL_RE = build_url_re(protocols=ALLOWED_PROTOCOLS)


def _allowed_attribute(tag: str, name: str, value: str, *, local_host: str | None) -> bool:
    if tag == "a":
        return name in {"href", "title"}
    if tag == "img":
        if name in {"alt", "title"}:
            return True
        if name == "src":
            parts = urlsplit(value)
            return parts.scheme == "https" or (
                parts.scheme in {"http", ""} and local_host is not None
                and (parts.netloc == local_host or (not parts.netloc and value.startswith("/")))
            )
    return False


def _set_rel(attrs: dict, new: bool = False) -> dict:
    href_key = (None, "href")
    if href_key in attrs:
        attrs[(None, "rel")] = LINK_REL
    return attrs


def clean_html(html: str, *, local_host: str | None = None) -> str:
    """Keep only the allow-listed markup; links get ``rel="nofollow noopener ugc"``."""
    return _clean(html[:MAX_SOURCE_CHARS * 2], local_host)


def _clean(html: str, local_host: str | None) -> str:
    # One html5lib pass: sanitise, then linkify bare URLs as a filter of the same pass
    # (bleach's separate Linker re-parses, and escapes entities inside its skip_tags
    # twice: "a &lt; b" in <code> came out as "a &amp;lt; b").
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=partial(_allowed_attribute, local_host=local_host),
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"},
                         url_re=_URL_RE, parse_email=False)],
    )
    return cleaner.clean(html)


@cache
def _markdown() -> MarkdownIt:
    # CommonMark (markdown-it-py): linear-time on hostile input, unlike Python-Markdown,
    # where 10 000 "[" took 30 s and deeply nested lists raised RecursionError.
    # ``html: False`` escapes raw HTML in the source instead of passing it through.
    return MarkdownIt("commonmark", {"html": False, "breaks": True,
                                     "maxNesting": MAX_NESTING}).enable("strikethrough")


def render_markdown(source: str, *, local_host: str | None = None) -> str:
    """Markdown to clean HTML. Raw HTML in the source is escaped, never passed through."""
    parser = _markdown()
    tokens = parser.parse(source[:MAX_SOURCE_CHARS])
    for token in _walk(tokens):
        token.tag = RETAG.get(token.tag, token.tag)
    html = parser.renderer.render(tokens, parser.options, {})
    return _clean(html, local_host)


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def plain_text(html: str) -> str:
    """Text content of clean HTML, for summaries and search."""
    return bleach.clean(html, tags=set(), strip=True)
