"""Parts of pages that are the same for every visitor, rendered once per process.

The site header of a visitor (not logged in) depends only on the language and a few
instance settings; it cost a tenth of a search page. It is rendered from its template the
first time and kept, keyed by everything it shows, so a change of those settings renders
it again.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup

#: Distinct keys kept at most (languages × settings seen since the process started).
MAX_ENTRIES = 32


def visitor_header() -> Markup:
    from hub.admin.queries import instance_settings

    settings = instance_settings()
    key = (str(get_locale()), settings.name, settings.registration_mode,
           bool(settings.provider_only))
    kept: dict = current_app.extensions["hub_fragments"]
    html = kept.get(key)
    if html is None:
        if len(kept) >= MAX_ENTRIES:
            kept.clear()
        html = kept[key] = Markup(render_template("_site_header.html"))  # noqa: S704
    return html


def init_app(app: Flask) -> None:
    app.extensions["hub_fragments"] = {}
    app.add_template_global(visitor_header, "visitor_header")
