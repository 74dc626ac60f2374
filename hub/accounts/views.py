"""Account pages: sign-up, confirmation, login, password reset, profile and settings."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from hub.accounts import services
from hub.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    EmailForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from hub.accounts.models import Account
from hub.errors import HubError, ValidationFailed
from hub.extensions import db, limiter
from hub.views_common import current_locale_code, form_error, me, safe_next

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["HUB_LOGIN_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register():
    from hub.admin.queries import instance_settings

    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    form = RegisterForm()
    if request.method == "GET":
        form.invitation.data = request.args.get("invitation", "")
    mode = instance_settings().registration_mode
    if form.validate_on_submit():
        if form.website.data:  # the honeypot was filled: a bot; say nothing useful
            abort(400)
        draft = services.Registration(
            handle=form.handle.data, email=form.email.data, password=form.password.data,
            locale=current_locale_code(), motivation=form.motivation.data or "",
            invitation_token=form.invitation.data or "",
            accepted_charter=bool(form.charter.data))
        try:
            account = services.register(draft)
            db.session.commit()
        except HubError as exc:
            db.session.rollback()
            if exc.status == 403 or not exc.field:
                form.form_errors.append(exc.message)
            else:
                form_error(form, exc)
        else:
            if account.status == "pending":
                flash(_("Thank you! An administrator will read your request; "
                        "you will get an e-mail."), "success")
            elif account.email_confirmed_at is None:
                flash(_("Almost there: we sent you an e-mail with a link to confirm "
                        "your address."), "success")
            else:
                flash(_("Your account is ready: you can log in."), "success")
            from hub.orgs.queries import find_pending_org_invitation

            target = url_for("accounts.login")
            # After an organisation invitation, log in straight to its answer page; an
            # instance invitation is used up by the sign-up itself.
            if draft.invitation_token and find_pending_org_invitation(draft.invitation_token):
                target = url_for("accounts.login",
                                 next=url_for("orgs.invitation", token=draft.invitation_token))
            return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/register.html", form=form, mode=mode), status


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    try:
        services.confirm_email(token)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        return render_template("accounts/token_error.html", message=exc.message,
                               resend=True), 400
    flash(_("Your e-mail address is confirmed."), "success")
    if current_user.is_authenticated:
        logout_user()  # the security stamp may have changed: log in again
    return redirect(url_for("accounts.login"))


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def resend_confirmation():
    form = EmailForm()
    if form.validate_on_submit():
        services.resend_confirmation(form.email.data)
        db.session.commit()
        flash(_("If this address is waiting for confirmation, a new link is on its way."),
              "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/resend.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(url_for("accounts.dashboard")))
    form = LoginForm()
    unconfirmed = False
    if form.validate_on_submit():
        try:
            account = services.authenticate(form.login.data, form.password.data)
            db.session.commit()
        except services.LoginRefused as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            unconfirmed = exc.reason == "unconfirmed"
        else:
            login_user(account, remember=form.remember.data)
            flash(_("Welcome, %(name)s!", name=account.name), "success")
            return redirect(safe_next(url_for("accounts.dashboard")))
    from hub.accounts.providers import list_providers

    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, unconfirmed=unconfirmed,
                           providers=list_providers(), next_url=safe_next("")), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account uses this address, we sent it a link to choose a new "
                "password."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.check_reset_token(token)
    except ValidationFailed as exc:
        return render_template("accounts/token_error.html", message=exc.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            logout_user()
            flash(_("Your password is changed: you can log in."), "success")
            return redirect(url_for("accounts.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset.html", form=form), status


@bp.get("/me")
@login_required
def dashboard():
    from hub.orgs.queries import list_invitations_for, list_memberships_of
    from hub.orgs.services import may_found

    return render_template("accounts/dashboard.html",
                           memberships=list_memberships_of(me()),
                           invitations=list_invitations_for(me()),
                           may_found=may_found(me()))


def render_profile(account: Account):
    from hub.orgs.queries import list_memberships_of

    return render_template("accounts/profile.html", account=account,
                           memberships=list_memberships_of(account))


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    form = ProfileForm(obj=None)
    if request.method == "GET":
        form.display_name.data = current_user.display_name
        form.bio.data = current_user.bio_source
        form.locale.data = current_user.locale or ""
        form.timezone.data = current_user.timezone or "Europe/Paris"
    if form.validate_on_submit():
        upload = form.avatar.data
        stream = upload.stream if upload and getattr(upload, "filename", "") else None
        try:
            services.update_profile(
                me(), services.ProfileChange(form.display_name.data or "",
                                             form.bio.data or "", form.locale.data,
                                             form.timezone.data or ""),
                avatar=stream, remove_avatar=form.remove_avatar.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("main.actor", handle=current_user.handle))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/edit_profile.html", form=form), status


@bp.get("/settings")
@login_required
def settings():
    return render_template("accounts/settings.html", password_form=ChangePasswordForm(),
                           email_form=ChangeEmailForm(), delete_form=DeleteAccountForm(),
                           **_identity_context())


def _identity_context() -> dict:
    """The settings page's "Sign-in providers" section: linked identities, providers."""
    from hub.accounts.forms import UnlinkForm
    from hub.accounts.providers import list_providers, provider_labels
    from hub.accounts.queries import list_links

    return {"links": list_links(me()), "providers": list_providers(),
            "provider_labels": provider_labels(), "unlink_form": UnlinkForm()}


def _settings_page(status: int = 400, **forms):
    context = {"password_form": ChangePasswordForm(formdata=None),
               "email_form": ChangeEmailForm(formdata=None),
               "delete_form": DeleteAccountForm(formdata=None), **_identity_context(), **forms}
    return render_template("accounts/settings.html", **context), status


@bp.post("/settings/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(me(), form.current_password.data,
                                     form.password.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            # The stamp changed: refresh this session only. Pass the account, not the proxy:
            # Flask-Login stores what it gets as the current user, and a proxy to itself
            # recursed until the interpreter crashed.
            login_user(me())
            flash(_("Your password is changed; other sessions are logged out."), "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(password_form=form)


@bp.post("/settings/email")
@login_required
def change_email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            services.change_email(me(), form.current_password.data, form.email.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("We sent a confirmation link to %(email)s. Your address changes once "
                    "you follow it.", email=form.email.data), "success")
            return redirect(url_for("accounts.settings"))
    return _settings_page(email_form=form)


@bp.post("/settings/delete")
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            services.delete_account(me(), form.current_password.data,
                                    keep_content=form.content.data == "keep")
            db.session.commit()
        except HubError as exc:
            db.session.rollback()
            if exc.field:
                form_error(form, exc)
            else:
                form.form_errors.append(exc.message)
        else:
            logout_user()
            flash(_("Your account is deleted. Goodbye!"), "info")
            return redirect(url_for("main.home"))
    return _settings_page(delete_form=form)


@bp.get("/settings/export")
@login_required
def export():
    data = services.export_data(me())
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="maillage-{current_user.handle}.json"'})
