"""Organisation pages: directory, organisation page, founding, editing, members, invitations.

Thin: parse a form, call one service, commit once, flash, redirect. The services decide who
may do what; the checks here (the pure table in ``permissions``) only choose which links
and pages to show, and refuse a page early so nobody fills in a form they cannot send.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from hub.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow
from hub.orgs import services
from hub.orgs.forms import (
    ROLE_CHOICES,
    ConfirmForm,
    EditOrgForm,
    InvitationAnswerForm,
    InviteForm,
    NewOrgForm,
    RoleForm,
    TransferForm,
)
from hub.orgs.models import Organisation
from hub.orgs.permissions import ACTIONS, can, can_grant
from hub.orgs.queries import (
    get_organisation,
    list_directory,
    list_members,
    list_pending_invitations,
    list_themes_in_use,
    role_of,
)
from hub.pagecache import public_page
from hub.views_common import form_error, me
from hub.web import role_label

bp = Blueprint("orgs", __name__)


def _permissions(org: Organisation) -> tuple[str | None, dict[str, bool]]:
    role = role_of(org, current_user)
    admin = bool(current_user.is_authenticated and current_user.is_admin)
    return role, {action: can(action, role, instance_admin=admin) for action in ACTIONS}


def _refuse_unless(may: dict[str, bool], action: str) -> None:
    if not may[action]:
        raise PermissionDenied(_("You are not allowed to do this in this organisation."))


def _page_url(org: Organisation) -> str:
    return url_for("main.actor", handle=org.handle)


def _members_url(org: Organisation) -> str:
    return url_for(".members", handle=org.handle)


def _upload(field):
    data = field.data
    return data.stream if data is not None and getattr(data, "filename", "") else None


# -- directory and organisation page -------------------------------------------------------


@bp.get("/orgs")
@public_page
def directory():
    search = request.args.get("q", "").strip()[:100]
    theme = request.args.get("theme", "").strip()[:60]
    after = request.args.get("after", "")[:200]
    page = list_directory(search=search, theme=theme, after=after)
    next_url = None
    if page.next_cursor:
        next_url = url_for(".directory", q=search or None, theme=theme or None,
                           after=page.next_cursor)
    first_url = url_for(".directory", q=search or None, theme=theme or None) if after else None
    return render_template("orgs/directory.html", page=page, themes=list_themes_in_use(),
                           search=search, theme=theme, next_url=next_url, first_url=first_url)


def render_org_page(org: Organisation):
    """GET /@<handle> for an organisation (hub.main owns the shared URL)."""
    role, may = _permissions(org)
    # Only members get the (session-bound) leave form, so visitors' pages stay cacheable.
    from hub.content.org_sections import org_page_content

    viewer = me() if current_user.is_authenticated else None
    return render_template("orgs/page.html", org=org, role=role, may=may,
                           members=list_members(org),
                           leave_form=ConfirmForm() if role else None,
                           **org_page_content(org, viewer))


# -- founding and editing -----------------------------------------------------------------


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def new():
    if not services.may_found(me()):
        raise PermissionDenied(_("Only administrators may found organisations here."))
    form = NewOrgForm()
    if form.validate_on_submit():
        try:
            org = services.found_organisation(me(), form.handle.data, form.draft())
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("%(name)s is founded, and you are its owner.", name=org.name), "success")
            return redirect(_page_url(org))
    status = 400 if request.method == "POST" else 200
    return render_template("orgs/new.html", form=form), status


@bp.route("/orgs/<handle>/edit", methods=["GET", "POST"])
@login_required
def edit(handle: str):
    org = get_organisation(handle)
    _refuse_unless(_permissions(org)[1], "edit")
    form = EditOrgForm()
    if request.method == "GET":
        form.fill_from(org)
    if form.validate_on_submit():
        try:
            services.update_organisation(
                me(), org, form.draft(), logo=_upload(form.logo), banner=_upload(form.banner),
                remove_logo=form.remove_logo.data, remove_banner=form.remove_banner.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The organisation page is saved."), "success")
            return redirect(_page_url(org))
    status = 400 if request.method == "POST" else 200
    return render_template("orgs/edit.html", form=form, org=org), status


# -- members ------------------------------------------------------------------------------


@bp.get("/orgs/<handle>/members")
@login_required
def members(handle: str):
    return _members_page(get_organisation(handle))


def _members_page(org: Organisation, invite_form: InviteForm | None = None, status: int = 200):
    role, may = _permissions(org)
    _refuse_unless(may, "view_members")
    admin = current_user.is_admin
    rows = list_members(org)
    # Admins manage members, editors and admins; only owners (and instance admins)
    # touch owners. The services enforce it; here it only hides buttons that would fail.
    manageable = {m.account_id for m in rows
                  if can_grant(role, m.role, instance_admin=admin, current_role=m.role)}
    grantable = [choice for choice in ROLE_CHOICES
                 if can_grant(role, choice.value, instance_admin=admin)]
    invite_form = invite_form or InviteForm(formdata=None)
    invite_form.role.choices = grantable
    transfer_form = TransferForm(formdata=None)
    transfer_form.account_id.choices = [
        SelectChoice(m.account_id, f"{m.account.name} (@{m.account.handle})")
        for m in rows if m.account_id != current_user.id and m.account.status == "active"]
    return render_template(
        "orgs/members.html", org=org, role=role, may=may, members=rows,
        manageable=manageable, grantable=grantable,
        invitations=list_pending_invitations(org) if may["invite"] else [],
        invite_form=invite_form, transfer_form=transfer_form, confirm_form=ConfirmForm(),
        now=utcnow(),
    ), status


def _act(org: Organisation, action: str, form, run, done: str):
    """Shared shape of the small member-management POSTs: refused → 403, a broken form →
    400, a rule that says no (last owner, already done…) → flashed, then back to the list."""
    _refuse_unless(_permissions(org)[1], action)
    if not form.validate_on_submit():
        errors = [e for messages in form.errors.values() for e in messages]
        raise ValidationFailed(str(errors[0]) if errors else _("The form is not valid."))
    try:
        run()
        db.session.commit()
    except (Conflict, ValidationFailed) as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(_members_url(org))


@bp.post("/orgs/<handle>/invitations")
@login_required
def invite(handle: str):
    org = get_organisation(handle)
    _refuse_unless(_permissions(org)[1], "invite")
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite(me(), org, form.who.data, form.role.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        except Conflict as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(_members_url(org))
        else:
            flash(_("Invitation sent to %(who)s as %(role)s.", who=form.who.data.strip(),
                    role=role_label(form.role.data)), "success")
            return redirect(_members_url(org))
    return _members_page(org, invite_form=form, status=400)


@bp.post("/orgs/<handle>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(handle: str, invitation_id: int):
    org = get_organisation(handle)
    return _act(org, "revoke_invitation", ConfirmForm(),
                lambda: services.revoke_invitation(me(), org, invitation_id),
                _("The invitation is revoked."))


@bp.post("/orgs/<handle>/members/<int:account_id>/role")
@login_required
def change_role(handle: str, account_id: int):
    org = get_organisation(handle)
    form = RoleForm()
    return _act(org, "change_role", form,
                lambda: services.change_role(me(), org, account_id, form.role.data),
                _("The role is changed to %(role)s.", role=role_label(form.role.data or "")))


@bp.post("/orgs/<handle>/members/<int:account_id>/remove")
@login_required
def remove_member(handle: str, account_id: int):
    org = get_organisation(handle)
    return _act(org, "remove_member", ConfirmForm(),
                lambda: services.remove_member(me(), org, account_id),
                _("The member is removed."))


@bp.post("/orgs/<handle>/transfer")
@login_required
def transfer(handle: str):
    org = get_organisation(handle)
    form = TransferForm()
    return _act(org, "transfer_ownership", form,
                lambda: services.transfer_ownership(me(), org, form.account_id.data),
                _("Ownership is transferred; you are now an admin of this organisation."))


@bp.post("/orgs/<handle>/leave")
@login_required
def leave(handle: str):
    org = get_organisation(handle)
    try:
        services.leave(me(), org)
        db.session.commit()
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("You left %(name)s.", name=org.name), "success")
    return redirect(_page_url(org))


# -- answering an invitation --------------------------------------------------------------


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """The link in the invitation e-mail: see who invites you, then accept or decline."""
    logged_in = current_user.is_authenticated
    if request.method == "POST" and not logged_in:
        return current_app.login_manager.unauthorized()
    try:
        found = (services.open_invitation(me(), token) if logged_in
                 else services.get_invitation(token))
    except (ValidationFailed, NotFound) as exc:
        return _invitation_invalid(exc)
    if found.org_id is None:  # an invitation to the instance: it is answered by signing up
        if logged_in:
            return _invitation_invalid(ValidationFailed(
                _("This invitation is for signing up, not for an organisation.")))
        return redirect(url_for("accounts.register", invitation=token))
    form = InvitationAnswerForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            raise ValidationFailed(_("Choose to accept or decline the invitation."))
        try:
            if form.action.data == "accept":
                membership = services.accept_invitation(me(), token)
                db.session.commit()
                flash(_("Welcome to %(name)s! Your role: %(role)s.", name=membership.org.name,
                        role=role_label(membership.role)), "success")
                return redirect(_page_url(membership.org))
            services.decline_invitation(me(), token)
            db.session.commit()
        except (ValidationFailed, NotFound) as exc:
            db.session.rollback()
            return _invitation_invalid(exc)
        flash(_("You declined the invitation."), "info")
        return redirect(url_for("accounts.dashboard"))
    return render_template("orgs/invitation.html", invitation=found, token=token, form=form)


def _invitation_invalid(exc: ValidationFailed | NotFound):
    return render_template("orgs/invitation_invalid.html", message=exc.message), exc.status
