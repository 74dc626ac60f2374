"""Pages of moderation: reporting, the queue and its cases, actions, appeals, the audit
log, and each person's record (what was decided about them, what they reported).

Thin: parse, call one service, commit once, flash, redirect. Who may do what is decided
in ``cases``, ``actions`` and ``appeals``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from hub.admin.models import AdminAction
from hub.errors import Conflict, HubError, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation import actions, appeals, cases, limits
from hub.moderation.charter import current_version
from hub.moderation.forms import (
    ActionForm,
    AppealForm,
    ConfirmForm,
    DecisionForm,
    NoteForm,
    ReportForm,
)
from hub.moderation.models import TARGET_TYPES, Appeal
from hub.views_common import form_error, me

bp = Blueprint("moderation", __name__)
LOG_PAGE = 50

ACTION_LABELS = {
    "hide": _l("Hide"), "reinstate": _l("Reinstate (show again)"), "delete": _l("Delete"),
    "lock": _l("Lock the discussion"), "sensitive": _l("Mark sensitive (content warning)"),
    "warn": _l("Warn (a strike)"), "limit": _l("Limit (contributions need approval)"),
    "unlimit": _l("Lift the limit"), "suspend": _l("Suspend the account"),
    "unsuspend": _l("Lift the suspension"),
    "remove_member": _l("Remove from the organisation"),
    "ban": _l("Ban from the organisation's spaces"), "unban": _l("Lift the ban"),
    "dismiss": _l("Dismiss: no action needed"),
    "appeal_granted": _l("Appeal granted"), "appeal_denied": _l("Appeal denied"),
    "forward": _l("Forward the report to its server"),
}


@bp.app_template_global()
def action_label(name: str) -> str:
    return str(ACTION_LABELS.get(name.removeprefix("moderation."), name))


@bp.app_template_global()
def moderation_reason(target_type: str, target_id: int) -> str:
    """Why an item is hidden: the reason of the last hide (shown to its author only)."""
    return db.session.scalar(
        select(AdminAction.reason).where(
            AdminAction.action == "moderation.hide", AdminAction.target_type == target_type,
            AdminAction.target_id == target_id).order_by(AdminAction.id.desc()).limit(1)) or ""


@bp.app_template_global()
def may_see_moderation() -> bool:
    return current_user.is_authenticated and cases.may_see_queue(current_user)


def _article_choices() -> list[tuple[int, str]]:
    version = current_version()
    if version is None:
        return []
    return [(a.position, _("Article %(n)d — %(title)s", n=a.position, title=a.title))
            for a in version.articles]


# -- reporting -----------------------------------------------------------------------------


@bp.route("/report/<target_type>/<int:target_id>", methods=["GET", "POST"])
@limits.reporting
def report(target_type: str, target_id: int):
    if target_type not in TARGET_TYPES:
        abort(404)
    viewer = me() if current_user.is_authenticated else None
    target = cases.load_target(target_type, target_id)
    if target is None or not cases.may_see_target(target_type, target, viewer):
        abort(404)
    form = ReportForm()
    form.articles.choices = _article_choices()
    status = 200
    if request.method == "POST":
        if form.website.data:  # the honeypot was filled: a bot; say nothing useful
            abort(400)
        if form.validate_on_submit():
            draft = cases.ReportDraft(target_type, target_id,
                                      tuple(form.articles.data or ()),
                                      form.comment.data or "", form.email.data or "")
            try:
                cases.file_report(viewer, draft)
                db.session.commit()
            except ValidationFailed as exc:
                db.session.rollback()
                form_error(form, exc)
            else:
                flash(_("Thank you: the moderators will look at it."), "success")
                if viewer is not None:
                    return redirect(url_for("moderation.my_reports"))
                return redirect(url_for("main.home"))
        status = 400
    return render_template("moderation/report.html", form=form, target_type=target_type,
                           target=target, title=cases.title_of(target_type, target),
                           visitor=viewer is None), status


# -- the queue -----------------------------------------------------------------------------


def _queue_viewer() -> Any:
    viewer = me()
    if not cases.may_see_queue(viewer):
        raise PermissionDenied(_("Only moderators see the moderation queue."))
    return viewer


@bp.get("/moderation")
@login_required
def queue():
    from hub.moderation.models import CASE_KINDS, CASE_STATUSES
    from hub.orgs.queries import find_organisation

    viewer = _queue_viewer()
    org = find_organisation(request.args.get("org", "")[:60]) if request.args.get("org") \
        else None
    filters = cases.QueueFilters(
        status=request.args.get("status", "open"), kind=request.args.get("kind", ""),
        article=request.args.get("article", type=int), mine=bool(request.args.get("mine")),
        org_id=org.id if org is not None else None)
    page = cases.list_cases(viewer, filters)
    targets = {(c.target_type, c.target_id): cases.load_target(c.target_type, c.target_id)
               for c in page.cases}
    return render_template(
        "moderation/queue.html", page=page, filters=filters, statuses=CASE_STATUSES,
        kinds=CASE_KINDS, articles=_article_choices(), org=org,
        titles={key: cases.title_of(key[0], target) for key, target in targets.items()},
        appeals=appeals.pending_appeals(viewer))


def _case_page(case_id: int, action_form: ActionForm | None = None,
               note_form: NoteForm | None = None, status: int = 200):
    viewer = me()
    case = cases.get_case(viewer, case_id)
    target = cases.load_target(case.target_type, case.target_id)
    form = action_form or ActionForm(formdata=None)
    form.action.choices = _action_choices(viewer, case)
    form.articles.choices = _article_choices()
    history = list(db.session.scalars(
        select(AdminAction).where(AdminAction.target_type == case.target_type,
                                  AdminAction.target_id == case.target_id,
                                  AdminAction.action.like("moderation.%"))
        .order_by(AdminAction.id.desc()).limit(50)))
    return render_template(
        "moderation/case.html", case=case, target=target,
        title=cases.title_of(case.target_type, target), form=form,
        note_form=note_form or NoteForm(formdata=None), notes=cases.notes_of(case),
        history=history, confirm_form=ConfirmForm(), target_url=_target_url(case, target)
    ), status


def _action_choices(viewer: Any, case: Any) -> list[tuple[str, str]]:
    target = cases.load_target(case.target_type, case.target_id)
    remote = getattr(target, "remote_actor_id", None) is not None
    names = [name for name, types in actions.ACTIONS.items()
             if case.target_type in types and (name != "forward" or remote)
             and (name not in actions.INSTANCE_ONLY or cases.is_instance_moderator(viewer))
             and name not in actions.ORG_ACTIONS]
    if case.subject_id is not None and case.target_type != "account" \
            and cases.is_instance_moderator(viewer):
        names += ["warn_author", "suspend_author"]
    labels = {**{k: str(v) for k, v in ACTION_LABELS.items()},
              "warn_author": _("Warn its author (a strike)"),
              "suspend_author": _("Suspend its author")}
    return [(name, labels.get(name, name)) for name in names]


def _target_url(case: Any, target: Any) -> str | None:
    from hub.urls import local_path

    if target is None:
        return None
    try:
        if case.target_type == "account" or case.target_type == "organisation":
            return local_path("main.actor", handle=target.handle)
        if case.target_type == "post":
            return local_path("posts.post", handle=target.org.handle, post_id=target.id)
        if case.target_type == "event":
            return local_path("events.event", handle=target.org.handle, event_id=target.id)
        if case.target_type == "resource":
            return local_path("resources.resource", resource_id=target.id)
        if case.target_type == "discussion":
            return local_path("discussions.discussion", handle=target.org.handle,
                              discussion_id=target.id)
        return local_path("comments.comment", comment_id=target.id)
    except HubError:  # pragma: no cover - a page that cannot be built is just not linked
        return None


@bp.get("/moderation/cases/<int:case_id>")
@login_required
def case(case_id: int):
    return _case_page(case_id)


@bp.post("/moderation/cases/<int:case_id>/act")
@login_required
def act(case_id: int):
    viewer = me()
    found = cases.get_case(viewer, case_id)
    form = ActionForm()
    form.action.choices = _action_choices(viewer, found)
    form.articles.choices = _article_choices()
    if form.validate_on_submit():
        name = form.action.data or ""
        target_type, target_id = found.target_type, found.target_id
        if name in ("warn_author", "suspend_author"):
            name, target_type, target_id = name.split("_")[0], "account", found.subject_id or 0
        try:
            actions.take_action(viewer, actions.ActionDraft(
                action=name, target_type=target_type, target_id=target_id,
                reason=form.reason.data or "", articles=tuple(form.articles.data or ()),
                warning=form.warning.data or "", case_id=found.id,
                public_explanation=form.public_explanation.data or ""))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("Done: %(action)s.", action=action_label(name)), "success")
            return redirect(url_for("moderation.case", case_id=found.id))
    return _case_page(case_id, action_form=form, status=400)


@bp.post("/moderation/cases/<int:case_id>/note")
@login_required
def note(case_id: int):
    viewer = me()
    found = cases.get_case(viewer, case_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            cases.add_note(viewer, found, form.body.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            return redirect(url_for("moderation.case", case_id=found.id, _anchor="notes"))
    return _case_page(case_id, note_form=form, status=400)


@bp.post("/moderation/cases/<int:case_id>/assign")
@login_required
def assign(case_id: int):
    viewer = me()
    found = cases.get_case(viewer, case_id)
    if not ConfirmForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    cases.assign(viewer, found, None if request.form.get("release") else viewer)
    db.session.commit()
    return redirect(url_for("moderation.case", case_id=found.id))


# -- appeals -------------------------------------------------------------------------------


@bp.route("/moderation/appeals/<int:appeal_id>", methods=["GET", "POST"])
@login_required
def appeal(appeal_id: int):
    viewer = me()
    found = db.session.get(Appeal, appeal_id)
    if found is None:
        abort(404)
    row = db.session.get(AdminAction, found.action_id)
    if row is None or not cases.may_moderate_space(viewer, row.org_id):
        raise PermissionDenied(_("You do not moderate this space."))
    form = DecisionForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                appeals.decide(viewer, found, request.form.get("grant") == "1",
                               form.decision.data or "")
                db.session.commit()
            except ValidationFailed as exc:
                db.session.rollback()
                form_error(form, exc)
            else:
                flash(_("The appeal is decided; the person is told."), "success")
                return redirect(url_for("moderation.queue"))
        status = 400
    return render_template("moderation/appeal.html", appeal=found, action=row, form=form,
                           refusal=appeals.may_decide(viewer, found)), status


# -- the person's side --------------------------------------------------------------------


@bp.get("/me/moderation")
@login_required
def my_record():
    account = me()
    rows = actions.record_of(account)
    return render_template("moderation/my_record.html", rows=rows,
                           appeals=appeals.appeals_of(account),
                           refusals={row.id: appeals.may_appeal(account, row) for row in rows},
                           form=AppealForm(formdata=None))


@bp.post("/me/moderation/<int:action_id>/appeal")
@login_required
def appeal_action(action_id: int):
    form = AppealForm()
    if not form.validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    try:
        appeals.file_appeal(me(), action_id, form.text.data or "")
        db.session.commit()
    except (ValidationFailed, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Your appeal is sent: another moderator will decide."), "success")
    return redirect(url_for("moderation.my_record"))


@bp.route("/appeal/<token>", methods=["GET", "POST"])
def appeal_by_link(token: str):
    """Appeal from the link of a moderation e-mail, without logging in (a suspended account
    cannot): the signed link names the person and the decision."""
    account, row = appeals.read_link(token)
    form = AppealForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            raise PermissionDenied(_("The form expired: try again."))
        try:
            appeals.file_appeal(account, row.id, form.text.data or "")
            db.session.commit()
        except (ValidationFailed, Conflict, PermissionDenied) as exc:
            db.session.rollback()
            form_error(form, exc)
            status = 400
        else:
            flash(_("Your appeal is sent: another moderator will decide."), "success")
            return redirect(url_for("moderation.appeal_by_link", token=token))
    return render_template("moderation/appeal_by_link.html", account=account, row=row,
                           appeal=appeals.appeals_of(account).get(row.id),
                           refusal=appeals.may_appeal(account, row), form=form), status


@bp.get("/me/reports")
@login_required
def my_reports():
    return render_template("moderation/my_reports.html", reports=cases.reports_by(me()))


# -- the audit log -------------------------------------------------------------------------


@bp.get("/moderation/log")
@login_required
def log():
    """Every moderation and administration action, newest first (moderators)."""
    from hub.admin.queries import list_admin_actions

    viewer = _queue_viewer()
    org_ids = None if cases.is_instance_moderator(viewer) else cases.moderated_org_ids(viewer)
    rows = list_admin_actions(limit=LOG_PAGE + 1, before_id=request.args.get("before", type=int),
                              org_ids=org_ids)
    more = rows[LOG_PAGE - 1].id if len(rows) > LOG_PAGE else None
    return render_template("moderation/log.html", rows=rows[:LOG_PAGE], more=more)
