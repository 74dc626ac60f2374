"""The one place where HTML is cleaned and Markdown rendered.

Pure: no Flask, database or network. Everything shown as markup — bios, descriptions,
later posts, comments and remote content — comes out of ``clean_html`` or
``render_markdown``; nothing else marks text as safe.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

import bleach
import markdown as md
from bleach.linkifier import Linker

ALLOWED_TAGS = frozenset({
    "p", "br", "em", "strong", "b", "i", "a", "ul", "ol", "li", "blockquote",
    "code", "pre", "h2", "h3", "h4", "hr", "img", "del", "sup", "sub",
})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener ugc"
MAX_SOURCE_CHARS = 100_000


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
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=partial(_allowed_attribute, local_host=local_host),
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    cleaned = cleaner.clean(html[:MAX_SOURCE_CHARS * 2])
    return Linker(callbacks=[_set_rel], skip_tags={"pre", "code"}).linkify(cleaned)


def render_markdown(source: str, *, local_host: str | None = None) -> str:
    """Markdown to clean HTML. Raw HTML in the source is escaped, never passed through."""
    source = source[:MAX_SOURCE_CHARS]
    html = md.markdown(
        _escape_raw_html(source),
        extensions=["sane_lists", "nl2br", "fenced_code"],
        output_format="html",
    )
    # Markdown headings start at h1; the page owns h1, so shift h1 → h2.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    html = html.replace("<h5>", "<h4>").replace("</h5>", "</h4>")
    html = html.replace("<h6>", "<h4>").replace("</h6>", "</h4>")
    return clean_html(html, local_host=local_host)


def _escape_raw_html(source: str) -> str:
    # Markdown passes raw HTML through; escaping "<" keeps autolinks (<https://…>) working
    # only when they are plain URLs, which we then let the linkifier handle.
    return source.replace("&", "&amp;").replace("<", "&lt;")


def plain_text(html: str) -> str:
    """Text content of clean HTML, for summaries and search."""
    return bleach.clean(html, tags=set(), strip=True)
