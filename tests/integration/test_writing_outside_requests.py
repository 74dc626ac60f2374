"""Content rendered by jobs and the CLI (no request) links themes and mentions the same way."""

from hub.content.writing import render_content


def test_render_content_links_themes_and_mentions_without_a_request(app, make_account):
    make_account(handle="camille")
    rendered = render_content("Bonjour @camille, voir #Écologie")
    assert 'href="/themes/ecologie"' in rendered.html
    assert 'href="/@camille"' in rendered.html
    assert rendered.tags == ["Écologie"]
