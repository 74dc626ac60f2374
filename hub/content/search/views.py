"""The search page: one GET form, results of every kind the visitor may see."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from babel import Locale
from flask import Blueprint, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from hub.content.search import queries
from hub.views_common import current_locale_code
from hub.web import reader_days

bp = Blueprint("search", __name__)

KIND_LABELS = {
    "post": _l("News"),
    "resource": _l("Resource"),
    "discussion": _l("Discussion"),
    "comment": _l("Comment"),
    "event": _l("Event"),
    "organisation": _l("Organisation"),
    "remote": _l("From the network"),
}


@bp.app_template_global()
def has_endpoint(endpoint: str) -> bool:
    """Links to pages that may not exist in every build (features land one at a time)."""
    return endpoint in current_app.view_functions


@bp.app_template_global()
def content_url(kind: str, obj) -> str | None:
    """The page of a post, resource, discussion, event or organisation (None while that
    page does not exist), whatever its URL arguments are named."""
    urls = g.get("_item_urls")
    if urls is None:
        urls = g._item_urls = queries.ItemUrls()
    if kind == "organisation":
        return urls.item(kind, obj.id, obj.handle)
    org = getattr(obj, "org", None)
    return urls.item(kind, obj.id, org.handle if org is not None else None)


def _date(name: str, errors: list[str]) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(_("Give dates as YYYY-MM-DD."))
        return None


def _language_names() -> dict[str, str]:
    return _language_names_in(current_locale_code())


@lru_cache(maxsize=32)
def _kind_labels_in(locale_code: str) -> dict[str, str]:
    """Translated once per locale: each lazy string asks Flask-Babel for the locale and its
    catalogue again, which cost more than the search query itself."""
    from flask_babel import force_locale

    with force_locale(locale_code):
        return {kind: str(label) for kind, label in KIND_LABELS.items()}


@lru_cache(maxsize=32)
def _language_names_in(locale_code: str) -> dict[str, str]:
    """Parsing a Babel locale costs more than the rest of the form: once per locale."""
    try:
        names = Locale.parse(locale_code).languages
    except (ValueError, TypeError):
        names = {}
    return {code: names.get(code, code) for code in queries.LANGUAGES}


@bp.get("/search")
def search():
    errors: list[str] = []
    language = request.args.get("lang", "").strip().lower()
    sort = request.args.get("sort", "newest")
    filters = queries.SearchFilters(
        q=request.args.get("q", "").strip()[:200],
        kinds=tuple(k for k in request.args.getlist("kind") if k in queries.KINDS),
        theme=request.args.get("theme", "").strip()[:60],
        org_handle=request.args.get("org", "").strip().lstrip("@")[:30],
        language=language if len(language) == 2 and language.isalpha() else "",
        date_from=_date("from", errors),
        date_to=_date("to", errors),
        sort=sort if sort in queries.SORTS else "newest",
        page=min(max(request.args.get("page", 1, type=int) or 1, 1), 10_000),
    )
    results = queries.search(filters, current_user)
    if filters.q and not results.searched:
        errors.append(_("Type at least one word to search for."))
    if results.unknown_org:
        errors.append(_("There is no organisation @%(handle)s.", handle=filters.org_handle))
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "page"}
    # Each result with its date as a machine reads it and as the reader does, computed
    # here for the whole page (a template filter per result costs several times more).
    dates = [hit.date for hit in results.hits]
    shown = list(zip(results.hits, [d.isoformat() for d in dates], reader_days(dates),
                     strict=True))
    return render_template(
        "content/search/search.html", filters=filters, results=results, errors=errors,
        shown=shown,
        # Translated once here rather than once per result.
        kind_labels=_kind_labels_in(current_locale_code()),
        languages=_language_names(), base_args=args,
        kinds=[k for k in queries.KINDS])
