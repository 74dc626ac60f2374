"""The hostile-HTML corpus through every renderer of hub/sanitize.py: nothing executable.

Pure: no app, no database. Each corpus file (tests/data/html/*.html) is rendered whole and
case by case through ``clean_html``, ``render_markdown`` and ``render_text`` (with theme
and mention linkers, as pages use it), and the output is judged by the same
``assert_nothing_executable`` that page-level tests use.
"""

from __future__ import annotations

import time

import pytest

from hub.sanitize import MAX_SOURCE_CHARS, clean_html, render_markdown, render_text
from tests.plugins.hostile import (
    CORPUS_CASES,
    assert_nothing_executable,
    corpus_files,
    problems,
    url_scheme,
)

IDS = [name for name, _ in CORPUS_CASES]


def tag_url(tag: str) -> str:
    return f"/themes/{tag.lower()}"


def mention_url(handle: str, domain: str | None) -> str | None:
    return None if domain else f"/@{handle}"


RENDERERS = {
    "clean_html": lambda s: clean_html(s),
    "clean_html_local": lambda s: clean_html(s, local_host="hub.example"),
    "render_markdown": lambda s: render_markdown(s),
    "render_markdown_local": lambda s: render_markdown(s, local_host="hub.example"),
    "render_text": lambda s: render_text(s, local_host="hub.example", tag_url=tag_url,
                                         mention_url=mention_url).html,
    "render_text_bare": lambda s: render_text(s).html,
}


def test_the_corpus_covers_what_the_issue_lists():
    names = {path.stem for path in corpus_files()}
    assert {"script_tags", "event_handlers", "dangerous_urls", "url_encodings", "svg_mathml",
            "style_css", "css_more", "broken_nesting", "entity_tricks", "markdown_tricks",
            "autolinks", "image_onerror", "mutation_xss"} <= names
    assert len(CORPUS_CASES) > 300


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
@pytest.mark.parametrize(("name", "source"), CORPUS_CASES, ids=IDS)
def test_nothing_executable_survives(renderer, name, source):
    assert_nothing_executable(RENDERERS[renderer](source), page=False)


@pytest.mark.parametrize(("name", "source"), CORPUS_CASES, ids=IDS)
def test_rendering_twice_stays_inert(name, source):
    """Output fed back in (an edit form, a re-import) is still inert."""
    once = render_text(source, tag_url=tag_url, mention_url=mention_url).html
    assert_nothing_executable(clean_html(once), page=False)
    assert_nothing_executable(render_markdown(once), page=False)


def test_very_long_hostile_input_is_bounded_and_inert():
    """Every file repeated past the size limit: cut, not choked on, still inert."""
    whole = "\n\n".join(path.read_text(encoding="utf-8") for path in corpus_files())
    source = (whole * (MAX_SOURCE_CHARS * 3 // len(whole) + 1))
    assert len(source) > MAX_SOURCE_CHARS * 3
    for name, render in RENDERERS.items():
        started = time.monotonic()
        out = render(source)
        assert time.monotonic() - started < 30, name
        assert len(out) < MAX_SOURCE_CHARS * 10, name
        assert_nothing_executable(out, page=False)


def test_links_that_stay_are_web_or_mail_links():
    out = render_text("[a](https://ok.example/) <mailto:x@example.org> #theme @alice",
                      tag_url=tag_url, mention_url=mention_url).html
    assert 'href="https://ok.example/"' in out and 'href="mailto:x@example.org"' in out
    assert 'href="/themes/theme"' in out and 'href="/@alice"' in out
    assert_nothing_executable(out)


# -- the judge itself ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" JaVa&#x09;ScRiPt:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<img src="data:image/svg+xml,x">',
    '<img srcset="https://ok.example/a.png 1x, javascript:alert(1) 2x">',
    '<p style="color:red">x</p>',
    "<style>p{}</style>",
    "<iframe></iframe>",
    "<object></object>",
    "<embed>",
    "<svg></svg>",
    "<math></math>",
    '<form action="javascript:alert(1)"></form>',
    '<iframe srcdoc="x"></iframe>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
])
def test_the_judge_catches_each_danger(bad):
    assert problems(bad, page=False)
    with pytest.raises(AssertionError):
        assert_nothing_executable(bad)


@pytest.mark.parametrize("good", [
    '<p><a href="https://ok.example/" rel="nofollow noopener ugc">x</a></p>',
    '<a href="/themes/x" class="hashtag" rel="tag">#x</a>',
    '<a href="mailto:x@example.org">m</a>',
    '<img src="/media/a.webp" alt="a">',
    "<p>javascript:alert(1) as plain text is harmless</p>",
    '<a href="https://ok.example/?next=javascript:alert(1)">query</a>',
])
def test_the_judge_lets_inert_markup_through(good):
    assert problems(good, page=False) == []


def test_a_whole_page_may_load_its_own_assets_but_nothing_else():
    page = ('<!doctype html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width">'
            '<link rel="stylesheet" href="/static/hub.css">'
            '<script src="/static/preview.js" defer></script></head>'
            '<body><form method="post" action="/x"><input name="a"></form></body></html>')
    assert problems(page) == []
    assert problems(page.replace("</body>", "<script>alert(1)</script></body>"))
    assert problems(page.replace("/static/preview.js", "https://cdn.example/x.js"))
    assert problems(page.replace('action="/x"', 'action="javascript:alert(1)"'))
    assert problems(page.replace("<body>", '<body onload="alert(1)">'))


@pytest.mark.parametrize(("url", "scheme"), [
    ("https://ok.example/", "https"), ("/local", ""), ("relative/x", ""),
    (" \tjava\nscript:alert(1)", "javascript"), ("\x01javascript:x", "javascript"),
    ("JAVASCRIPT:x", "javascript"), ("%6Aavascript:x", ""),
])
def test_url_schemes_are_read_as_a_browser_reads_them(url, scheme):
    assert url_scheme(url) == scheme
