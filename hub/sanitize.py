"""The one place where HTML is cleaned and Markdown rendered.

Pure: no Flask, database or network. Everything shown as markup — bios, descriptions,
later posts, comments and remote content — comes out of ``clean_html`` or
``render_markdown``; nothing else marks text as safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from html import unescape
from urllib.parse import urlsplit

import bleach
from bleach import html5lib_shim
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


def _allowed_attribute(tag: str, name: str, value: str, *, local_host: str | None,
                       proxied: bool = False) -> bool:
    if tag == "a":
        return name in {"href", "title"}
    if tag == "img":
        if name in {"alt", "title"}:
            return True
        if name == "src":
            parts = urlsplit(value)
            if proxied:  # the page shows this instance's copy: plain http may be fetched
                return parts.scheme in {"http", "https"} and bool(parts.netloc)
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


#: "#écologie", "#accès-aux-droits": a letter or digit first, no "#" inside words or URLs.
HASHTAG_RE = re.compile(r"(?<![\w/#&?=.-])#(\w[\w-]{0,58}\w|\w)", re.UNICODE)
#: "@handle" or "@handle@domain.tld", not inside an e-mail address.
MENTION_RE = re.compile(
    r"(?<![\w/@.+-])@([A-Za-z0-9_]{1,30})(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}))?"
    r"(?![\w@])")

TagLinker = Callable[[str], str]
#: (handle, domain or None) → URL of the profile, or None to leave the text as it is.
MentionLinker = Callable[[str, str | None], str | None]


@dataclass
class Rendered:
    """Clean HTML and what it names: themes (as written) and mentions (handle, domain)."""

    html: str
    tags: list[str] = field(default_factory=list)
    mentions: list[tuple[str, str | None]] = field(default_factory=list)


class _TagMentionFilter(html5lib_shim.Filter):
    """Turns #theme and @handle in text (not in links or code) into links."""

    SKIP = frozenset({"a", "code", "pre"})

    def __init__(self, source, *, tag_url: TagLinker | None, mention_url: MentionLinker | None,
                 found: Rendered) -> None:
        super().__init__(source)
        self.tag_url, self.mention_url, self.found = tag_url, mention_url, found

    def __iter__(self):
        skipping = 0
        for token in super().__iter__():
            kind = token["type"]
            if kind == "StartTag" and token["name"] in self.SKIP:
                skipping += 1
            elif kind == "EndTag" and token["name"] in self.SKIP:
                skipping = max(0, skipping - 1)
            if kind == "Characters" and not skipping:
                yield from self._split(token["data"])
            else:
                yield token

    def _split(self, text: str):
        pattern = re.compile(f"{HASHTAG_RE.pattern}|{MENTION_RE.pattern}", re.UNICODE)
        last = 0
        for match in pattern.finditer(text):
            tag, handle, domain = match.group(1), match.group(2), match.group(3)
            href, css = None, ""
            if tag:
                if tag.isdigit():  # "#1" is a number, not a theme
                    continue
                self.found.tags.append(tag)
                href, css = (self.tag_url(tag) if self.tag_url else None), "hashtag"
            elif handle:
                self.found.mentions.append((handle, domain))
                href, css = (self.mention_url(handle, domain) if self.mention_url else None,
                             "mention")
            if not href:
                continue
            if match.start() > last:
                yield {"type": "Characters", "data": text[last:match.start()]}
            attrs = {(None, "href"): href, (None, "class"): css}
            if css == "hashtag":
                attrs[(None, "rel")] = "tag"
            yield {"type": "StartTag", "name": "a", "data": attrs}
            yield {"type": "Characters", "data": match.group(0)}
            yield {"type": "EndTag", "name": "a"}
            last = match.end()
        if last < len(text):
            yield {"type": "Characters", "data": text[last:]}


def clean_html(html: str, *, local_host: str | None = None, images: bool = True,
               image_url: Callable[[str], str | None] | None = None) -> str:
    """Keep only the allow-listed markup; links get ``rel="nofollow noopener ugc"``.

    ``images=False`` drops every ``<img>``: HTML read from other sites (watched feeds)
    would otherwise make visitors' browsers fetch third-party images. ``image_url`` maps
    each image's (already allowed) address to the one to show — a copy served by this
    instance — or to None to drop the image.
    """
    proxied = bool(image_url and images)
    extra = (partial(_ImageRewriter, image_url=image_url),) if proxied else ()
    return _clean(html[:MAX_SOURCE_CHARS * 2], local_host, images=images, extra_filters=extra,
                  proxied=proxied)


class _ImageRewriter(html5lib_shim.Filter):
    """Runs after the sanitiser: every ``<img>`` left gets its address from ``image_url``
    (or goes)."""

    def __init__(self, source, *, image_url: Callable[[str], str | None]):
        super().__init__(source)
        self.image_url = image_url

    def __iter__(self):
        for token in super().__iter__():
            if token.get("type") in {"StartTag", "EmptyTag"} and token.get("name") == "img":
                attrs = dict(token.get("data") or {})
                src = attrs.get((None, "src"), "")
                new = self.image_url(src) if src else None
                if new is None:
                    continue
                attrs[(None, "src")] = new
                token = {**token, "data": attrs}
            yield token


def _clean(html: str, local_host: str | None, *, extra_filters: tuple = (),
           images: bool = True, proxied: bool = False) -> str:
    # One html5lib pass: sanitise, then linkify bare URLs as a filter of the same pass
    # (bleach's separate Linker re-parses, and escapes entities inside its skip_tags
    # twice: "a &lt; b" in <code> came out as "a &amp;lt; b").
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS if images else ALLOWED_TAGS - {"img"},
        attributes=partial(_allowed_attribute, local_host=local_host, proxied=proxied),
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"},
                         url_re=_URL_RE, parse_email=False), *extra_filters],
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


def render_text(source: str, *, local_host: str | None = None,
                tag_url: TagLinker | None = None,
                mention_url: MentionLinker | None = None) -> Rendered:
    """Markdown to clean HTML where #themes and @mentions become links.

    The linkers are given by the caller (this module knows no URLs): a theme always gets
    a link, a mention only when ``mention_url`` knows the person. Links added here are
    made after cleaning, from our own URLs, so they keep their ``class`` and ``rel``.
    """
    found = Rendered(html="")
    parser = _markdown()
    tokens = parser.parse(source[:MAX_SOURCE_CHARS])
    for token in _walk(tokens):
        token.tag = RETAG.get(token.tag, token.tag)
    html = parser.renderer.render(tokens, parser.options, {})
    found.html = _clean(html, local_host, extra_filters=(
        partial(_TagMentionFilter, tag_url=tag_url, mention_url=mention_url, found=found),))
    return found


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def plain_text(html: str) -> str:
    """Text content of clean HTML, for summaries, excerpts and search.

    Text, not HTML: bleach returns its output escaped ("&amp;"), and templates (and text
    e-mails) escape again, so "Tom & Jerry" showed as "Tom &amp;amp; Jerry".
    """
    return unescape(bleach.clean(html, tags=set(), strip=True))
