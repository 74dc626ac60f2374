"""Theme pages: the index of themes and one page per theme across organisations."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from hub.content import theme_queries
from hub.content.themes import theme_label
from hub.federation.network_queries import network_items
from hub.models_base import utcnow
from hub.pagecache import public_page
from hub.views_common import current_locale_code

bp = Blueprint("themes", __name__)


@bp.app_template_global("theme_name")
def theme_name(tag) -> str:
    """A theme's label in the reader's language."""
    return theme_label(tag, current_locale_code())


@bp.get("/themes")
@public_page
def index():
    return render_template("content/themes/index.html",
                           themes=theme_queries.list_theme_index(current_user))


#: Objects from followed actors shown on a theme's page (the rest on /network?theme=).
NETWORK_ON_THEME = 5


@bp.get("/themes/<slug>")
@public_page
def theme(slug: str):
    tag = theme_queries.get_theme(slug)
    if tag.slug != slug:  # "Écologie" and "ECOLOGIE" are one theme with one address
        return redirect(url_for("themes.theme", slug=tag.slug), 301)
    page = theme_queries.theme_page(tag, current_user, utcnow())
    network = network_items(theme=tag.slug, limit=NETWORK_ON_THEME).items
    return render_template("content/themes/theme.html", page=page, theme=tag, network=network)
