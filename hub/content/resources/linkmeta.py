"""Title and description of a web page, read from its <head>.

Pure: no Flask, database or network — the bytes of a page and its Content-Type header in,
a ``LinkMeta`` out. Open Graph (``og:title``, ``og:description``) wins over ``<title>`` and
``<meta name="description">``, as link previews in Mastodon and chat applications do.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from html.parser import HTMLParser

MAX_TITLE = 300
MAX_DESCRIPTION = 2000
#: Where a <meta charset> must appear (the HTML standard looks in the first 1024 bytes).
PRESCAN_BYTES = 4096

_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_HEADER_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


@dataclass(frozen=True)
class LinkMeta:
    title: str = ""
    description: str = ""


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        found = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    # Browsers read "iso-8859-1" and "ascii" labels as windows-1252 (WHATWG Encoding).
    return "cp1252" if found in {"latin_1", "iso8859-1", "ascii"} else found


def guess_encoding(body: bytes, content_type: str = "") -> str:
    """BOM, then the header's charset, then <meta charset>, then UTF-8 if it decodes,
    else windows-1252 (what browsers fall back to for Western pages)."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    header = _HEADER_CHARSET_RE.search(content_type or "")
    from_header = _codec(header.group(1)) if header else None
    if from_header:
        return from_header
    meta = _CHARSET_RE.search(body[:PRESCAN_BYTES])
    from_meta = _codec(meta.group(1).decode("ascii", "ignore")) if meta else None
    if from_meta and not from_meta.startswith("utf_16"):  # a UTF-16 page cannot say so in ASCII
        return from_meta
    try:
        body[:PRESCAN_BYTES * 16].decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start < len(body[:PRESCAN_BYTES * 16]) - 4:
            return "cp1252"
    return "utf-8"


class _HeadParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_title = False
        self.title_parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "title" and not self.title_parts:
            self.in_title = True
        elif tag == "meta":
            values = {name.lower(): (value or "") for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key in {"og:title", "og:description", "description", "twitter:title",
                       "twitter:description"} and key not in self.meta:
                self.meta[key] = values.get("content", "")
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self.in_title and not self.done:
            self.title_parts.append(data)


def _clean(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text


def parse_head(body: bytes, content_type: str = "") -> LinkMeta:
    """The title and description a page gives of itself ("" for what it does not say)."""
    text = body.decode(guess_encoding(body, content_type), errors="replace")
    parser = _HeadParser()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    meta = parser.meta
    title = (meta.get("og:title") or meta.get("twitter:title") or "".join(parser.title_parts))
    description = (meta.get("og:description") or meta.get("description")
                   or meta.get("twitter:description") or "")
    return LinkMeta(_clean(title, MAX_TITLE), _clean(description, MAX_DESCRIPTION))
