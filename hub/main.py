"""Pages that belong to no feature: home, health check, language switch, media files."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from sqlalchemy import text

from hub.extensions import db
from hub.pagecache import public_page
from hub.views_common import is_local_path
from hub.web import LOCALES

bp = Blueprint("main", __name__)
#: Objects from followed actors on the home page (the rest on /network).
HOME_NETWORK_ITEMS = 5


@bp.get("/")
@public_page
def home():
    from flask_login import current_user

    from hub.content.home_queries import home_content
    from hub.federation.network_queries import network_items
    from hub.models_base import utcnow
    from hub.orgs.queries import list_recent_organisations

    return render_template("home.html", organisations=list_recent_organisations(limit=6),
                           content=home_content(current_user, utcnow()),
                           network=network_items(limit=HOME_NETWORK_ITEMS).items)


@bp.get("/@<handle>")
@public_page
def actor(handle: str):
    """Accounts and organisations share one handle namespace, and so one URL space."""
    from hub.accounts.queries import find_account_by_handle
    from hub.accounts.views import render_profile
    from hub.orgs.queries import find_organisation
    from hub.orgs.views import render_org_page

    org = find_organisation(handle)
    if org is not None:
        return render_org_page(org)
    account = find_account_by_handle(handle)
    if account is None or account.status not in {"active", "suspended"}:
        abort(404)
    return render_profile(account)


@bp.get("/healthz")
def healthz():
    """Liveness for deployments and the benchmarks' trivial reference."""
    from hub.jobs import jobs

    state = {"status": "ok", "database": "ok", "queue": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # report, never raise: this page is read by monitors
        state["database"] = "error"
        state["status"] = "error"
    try:
        state["queue_pending"] = jobs.pending_count()
    except Exception:
        state["queue"] = "error"
        state["status"] = "error"
    return jsonify(state), 200 if state["status"] == "ok" else 503


@bp.route("/locale", methods=["GET", "POST"])
def set_locale():
    """Remember the visitor's language (the footer form uses GET; POST stays accepted)."""
    locale = request.values.get("locale", "")
    if locale not in LOCALES:
        abort(400)
    session["locale"] = locale
    target = request.values.get("next", "")
    if not is_local_path(target):  # "/<TAB>/evil.example" became "//evil.example"
        target = url_for("main.home")
    return redirect(target)


@bp.get("/media/<path:name>")
def media(name: str):
    """Uploaded images, stored under random names; never served as HTML."""
    folder = Path(current_app.config["HUB_MEDIA_PATH"])
    response = send_from_directory(folder, name, max_age=86400)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
