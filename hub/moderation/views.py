"""Pages of the charter: reading it (current and older versions, what changed), accepting
it, and editing it (instance admins for the instance, admins of an organisation for its
own articles).

Thin: parse, call one service, commit once, redirect.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation import charter
from hub.moderation.forms import CharterForm, ConfirmForm
from hub.orgs.access import may
from hub.orgs.queries import get_organisation
from hub.views_common import form_error, is_local_path, me

bp = Blueprint("charter", __name__)

#: Blank article fields offered under the existing ones when editing.
BLANK_ARTICLES = 3


@bp.app_template_global()
def pending_charter() -> Any:
    """The instance charter version the logged-in person still has to accept, or None."""
    return charter.pending_version(current_user) if current_user.is_authenticated else None


@bp.app_template_global()
def charter_version() -> Any:
    """The current instance charter version (None before one is published)."""
    return charter.current_version()


@bp.app_template_global()
def org_rules_pending(org_id: int) -> bool:
    """Whether the logged-in person has still to accept an organisation's own rules."""
    if not current_user.is_authenticated:
        return False
    return charter.org_refusal(current_user, org_id) is not None


def _viewer() -> Any:
    return me() if current_user.is_authenticated else None


def _back() -> str:
    target = request.values.get("next", "")
    return target if is_local_path(target) else ""


# -- the instance charter ----------------------------------------------------------------


@bp.get("/charter")
def index():
    version = charter.current_version()
    viewer = _viewer()
    pending = charter.pending_version(viewer) if viewer else None
    since = charter.last_accepted(viewer) if pending is not None else None
    changes = charter.compare(since, pending) if pending is not None and since else []
    return render_template("moderation/charter.html", version=version, pending=pending,
                           since=since, changes=changes, versions=charter.list_versions(),
                           confirm_form=ConfirmForm(), next_url=_back())


@bp.get("/charter/v<int:number>")
def version(number: int):
    found = charter.get_version(number)
    if found is None:
        abort(404)
    return render_template("moderation/charter_version.html", version=found, org=None,
                           current=charter.current_version())


@bp.get("/charter/changes")
def changes():
    newer = charter.get_version(request.args.get("to", type=int) or 0)
    older = charter.get_version(request.args.get("from", type=int) or 0)
    if newer is None:
        abort(404)
    return render_template("moderation/charter_changes.html", newer=newer, older=older,
                           changes=charter.compare(older, newer), org=None)


@bp.get("/about/moderation")
def transparency():
    """The public transparency page: counts of cases and actions, and moderated domains."""
    from hub.federation.policies import allowlist_mode
    from hub.models_base import utcnow
    from hub.moderation import transparency as report

    now = utcnow()
    current = charter.current_version()
    titles = {a.position: a.title for a in (current.articles if current else [])}
    return render_template(
        "moderation/transparency.html", months=report.count_by_month(now),
        articles=report.count_by_article(now), kinds=report.count_actions_by_kind(now),
        domains=report.list_moderated_domains(), titles=titles,
        allowlist=allowlist_mode(), period=report.MONTHS)


@bp.post("/charter/accept")
@login_required
def accept():
    if not ConfirmForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    version = charter.accept_current(me())
    db.session.commit()
    if version is not None:
        flash(_("Thank you: you accepted version %(n)d of the charter.", n=version.number),
              "success")
    return redirect(_back() or url_for("charter.index"))


def _drafts() -> list[charter.ArticleDraft]:
    drafts = []
    for n in range(1, charter.MAX_ARTICLES + BLANK_ARTICLES + 1):
        title = request.form.get(f"title_{n}")
        body = request.form.get(f"body_{n}")
        if title is None and body is None:
            continue
        drafts.append(charter.ArticleDraft(title or "", body or ""))
    return drafts


def _editor(org: Any, form: CharterForm, drafts: list[charter.ArticleDraft] | None,
            status: int = 200):
    current = charter.current_version(org.id if org is not None else None)
    if drafts is None:
        drafts = [charter.ArticleDraft(a.title, a.body_source)
                  for a in (current.articles if current else [])]
    rows = [*drafts, *(charter.ArticleDraft("", "") for _ in range(BLANK_ARTICLES))]
    return render_template("moderation/charter_edit.html", org=org, form=form, rows=rows,
                           current=current), status


def _save(org: Any):
    form = CharterForm()
    drafts = _drafts()
    if form.validate_on_submit():
        try:
            version = charter.publish_version(me(), drafts, form.note.data or "", org=org)
            if org is None:
                from hub.admin.services import record_action

                record_action(me(), "charter.publish", "charter", version.id,
                              number=version.number)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("Version %(n)d is published.", n=version.number), "success")
            return redirect(url_for("charter.index") if org is None
                            else url_for("charter.org_rules", handle=org.handle))
    return _editor(org, form, drafts, 400)


@bp.route("/admin/charter", methods=["GET", "POST"])
@login_required
def edit():
    if not me().is_admin:
        raise PermissionDenied(_("Only instance administrators may edit the charter."))
    if request.method == "GET":
        return _editor(None, CharterForm(formdata=None), None)
    return _save(None)


# -- an organisation's own articles --------------------------------------------------------


@bp.get("/@<handle>/rules")
def org_rules(handle: str):
    org = get_organisation(handle)
    viewer = _viewer()
    version = charter.current_version(org.id)
    accepted = bool(viewer and version and charter.has_accepted(viewer, version))
    return render_template("moderation/org_rules.html", org=org, version=version,
                           accepted=accepted, manage=may("edit_rules", viewer, org),
                           versions=charter.list_versions(org.id),
                           confirm_form=ConfirmForm(), next_url=_back())


@bp.post("/@<handle>/rules/accept")
@login_required
def accept_org_rules(handle: str):
    org = get_organisation(handle)
    if not ConfirmForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    charter.accept_current(me(), org.id)
    db.session.commit()
    flash(_("Thank you: you accepted the rules of %(name)s.", name=org.name), "success")
    return redirect(_back() or url_for("charter.org_rules", handle=org.handle))


@bp.post("/@<handle>/rules/holding")
@login_required
def hold_org_comments(handle: str):
    """An organisation's admins hold every outsider's comment in its spaces for approval."""
    from hub.moderation.prevention import set_holds_comments

    org = get_organisation(handle)
    if not ConfirmForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    value = request.form.get("holds_comments") == "1"
    set_holds_comments(me(), org, value)
    db.session.commit()
    flash(_("Comments from people outside %(name)s now wait for approval.", name=org.name)
          if value else _("Comments are now published at once."), "success")
    return redirect(url_for("charter.org_rules", handle=org.handle))


@bp.route("/@<handle>/rules/edit", methods=["GET", "POST"])
@login_required
def edit_org_rules(handle: str):
    org = get_organisation(handle)
    if not may("edit_rules", me(), org):
        raise PermissionDenied(_("Only admins of %(name)s may edit its rules.",
                                 name=org.name))
    if request.method == "GET":
        return _editor(org, CharterForm(formdata=None), None)
    return _save(org)
