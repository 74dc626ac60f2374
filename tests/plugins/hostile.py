"""The hostile-HTML corpus and the one judge of "nothing executable survived".

``assert_nothing_executable(html)`` parses HTML the way a browser does (html5lib, the
WHATWG parser bleach itself uses) and fails on anything that could run script or load
something the page did not mean to: script-bearing elements, event handlers, style,
dangerous URL schemes (after entity decoding, as the browser sees them). It judges a
sanitiser's output (a fragment) and whole pages alike, so the same corpus can be pushed
through every page that shows user text::

    from tests.plugins.hostile import CORPUS_CASES, assert_nothing_executable

    @pytest.mark.parametrize(("name", "source"), CORPUS_CASES, ids=[c[0] for c in CORPUS_CASES])
    def test_post_page_is_inert(..., name, source):
        ... create a post whose title and body are ``source`` ...
        assert_nothing_executable(client.get(url).get_data(as_text=True))

In a whole page, the page's own ``<script src="/static/…">``, ``<link href="/static/…">``,
``<link rel="alternate">`` to its own feeds and ``<meta charset|name|content>`` are
allowed; nothing else in these lists ever is.
"""

from __future__ import annotations

import re
from pathlib import Path

from bleach._vendor import html5lib  # the browser-conformant parser bleach itself uses

CORPUS_DIR = Path(__file__).parent.parent / "data" / "html"
HTML_NS = "http://www.w3.org/1999/xhtml"
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
FEED_TYPES = frozenset({"application/atom+xml", "application/rss+xml", "application/feed+json",
                        "text/calendar"})

#: Elements that run script, embed other documents, restyle the page or change how URLs
#: and the document are read. Foreign (SVG, MathML) elements are refused by namespace.
FORBIDDEN_ELEMENTS = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "portal",
    "svg", "math", "base", "link", "meta", "noscript", "template", "xmp", "plaintext",
    "noembed", "noframes", "isindex", "handler", "listener",
})
#: Attributes that hold a URL a browser may follow or load.
URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "poster", "data", "background", "cite",
    "longdesc", "usemap", "lowsrc", "dynsrc", "codebase", "manifest", "ping", "xlink:href",
    "srcset", "imagesrcset",
})
#: Attributes that are themselves code or markup.
FORBIDDEN_ATTRIBUTES = frozenset({"style", "srcdoc", "formaction", "xmlns:xlink"})
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def url_scheme(url: str) -> str:
    """The scheme a browser's URL parser sees, lower case, "" for a relative URL.

    ``url`` is already entity-decoded (the HTML parser hands attributes over decoded);
    the WHATWG URL parser then trims C0 controls and spaces and drops tabs and newlines
    anywhere, so "java\\tscript:" is "javascript:".
    """
    url = re.sub(r"[\t\n\r]", "", url.strip(_C0_AND_SPACE))
    match = _SCHEME_RE.match(url)
    return match.group(1).lower() if match else ""


def _srcset_urls(value: str) -> list[str]:
    return [candidate.strip().split()[0] for candidate in value.split(",")
            if candidate.strip()]


def _is_page(html: str) -> bool:
    head = html.lstrip()[:200].lower()
    return head.startswith("<!doctype") or head.startswith("<html")


def _page_owned(name: str, attrs: dict[str, str], element) -> bool:
    """The page's own assets, allowed in whole pages only: local files, nothing inline."""
    if name == "script":
        src = attrs.get("src", "")
        return (src.startswith("/static/") and not (element.text or "").strip()
                and set(attrs) <= {"src", "defer", "type", "nonce", "async"})
    if name == "link":
        href = attrs.get("href", "")
        if attrs.get("rel") == "alternate":  # the page's own feeds, announced in <head>
            return (href.startswith("/") and not href.startswith("//")
                    and attrs.get("type") in FEED_TYPES
                    and set(attrs) <= {"rel", "type", "title", "href"})
        return href.startswith("/static/")
    if name == "meta":
        return "http-equiv" not in attrs and set(attrs) <= {"charset", "name", "content"}
    return False


def problems(html: str, *, page: bool | None = None) -> list[str]:
    """Everything executable or dangerous in ``html``; empty when it is inert.

    ``page``: judge a whole document (its own static assets allowed); by default guessed
    from a leading doctype or ``<html>``.
    """
    page = _is_page(html) if page is None else page
    found: list[str] = []
    if page:
        tree = html5lib.parse(html, treebuilder="etree")
    else:
        tree = html5lib.parseFragment(html, treebuilder="etree")
    for element in tree.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith("{"):
            continue  # comments, the doctype, the fragment root
        namespace, _, name = element.tag[1:].partition("}")
        # html5lib names namespaced attributes "{ns}local"; keep the local name.
        attrs = {key.rpartition("}")[2]: value for key, value in element.attrib.items()}
        if namespace != HTML_NS:
            found.append(f"foreign element <{name}> ({namespace})")
            continue
        if name in FORBIDDEN_ELEMENTS and not (page and _page_owned(name, attrs, element)):
            found.append(f"<{name}> element")
        for attr, value in attrs.items():
            attr = attr.lower()
            if attr.startswith("on"):
                found.append(f"event handler {attr}= on <{name}>")
            elif attr in FORBIDDEN_ATTRIBUTES:
                found.append(f"{attr}= on <{name}>")
            if attr in URL_ATTRIBUTES or attr.endswith(":href"):
                urls = _srcset_urls(value) if attr.endswith("srcset") else [value]
                for url in urls:
                    scheme = url_scheme(url)
                    if scheme and scheme not in SAFE_SCHEMES:
                        found.append(f"{attr}={value!r} on <{name}> ({scheme}:)")
        if name == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
            found.append("<meta http-equiv=refresh>")
    return found


def assert_nothing_executable(html: str, *, page: bool | None = None) -> None:
    """Fail, naming each problem, unless ``html`` is inert (see ``problems``)."""
    found = problems(html, page=page)
    assert not found, "executable markup survived: " + "; ".join(found) + \
        f"\n--- in ---\n{html[:3000]}"


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.html"))


def corpus_cases() -> list[tuple[str, str]]:
    """(name, source) for each corpus file whole and each of its blank-line-separated
    cases: feed them to any form that takes user text."""
    cases = []
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        cases.append((f"{path.stem}:whole", text))
        for number, chunk in enumerate(c for c in text.split("\n\n") if c.strip()):
            cases.append((f"{path.stem}:{number}", chunk))
    return cases


CORPUS_CASES = corpus_cases()
