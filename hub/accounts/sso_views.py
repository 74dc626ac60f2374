"""Sign-in with an identity provider: the redirect out, the callback, the first sign-in
page, and linking or unlinking from the account settings.

"Sign in with …" and "Link …" are plain links (GET): the content security policy's
``form-action 'self'`` would block a form whose answer redirects to the provider.
"""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from hub.accounts import sso
from hub.accounts.forms import ChooseHandleForm, UnlinkForm
from hub.accounts.oidc import Identity, PendingLogin, propose_handle
from hub.accounts.providers import find_provider
from hub.errors import HubError, NotFound, ValidationFailed
from hub.extensions import db, limiter
from hub.views_common import current_locale_code, form_error, is_local_path, me, safe_next

bp = Blueprint("sso", __name__, url_prefix="/auth")

PENDING_KEY = "sso_pending"
SIGNUP_KEY = "sso_signup"


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["HUB_LOGIN_RATE_LIMIT"]


@bp.get("/<slug>/login")
@limiter.limit(_login_limit)
def login(slug: str):
    if current_user.is_authenticated:
        return redirect(safe_next(url_for("accounts.dashboard")))
    url, pending = sso.begin(slug, "login", safe_next(""))
    session[PENDING_KEY] = pending.to_dict()
    session.pop(SIGNUP_KEY, None)
    return redirect(url)


@bp.get("/<slug>/link")
@login_required
def link(slug: str):
    url, pending = sso.begin(slug, "link")
    session[PENDING_KEY] = pending.to_dict()
    return redirect(url)


@bp.get("/callback")
@limiter.limit(_login_limit)
def callback():
    # Forgotten before anything else: a state (and its code) is good for one callback only.
    pending = PendingLogin.from_dict(session.pop(PENDING_KEY, None))
    identity = sso.finish(pending, request.args.to_dict())
    assert pending is not None
    if pending.purpose == "link":
        if not current_user.is_authenticated:
            raise sso.SignInFailed("state")
        try:
            sso.link(me(), identity)
            db.session.commit()
        except HubError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("%(provider)s is linked to your account: you can sign in with it.",
                    provider=_label(identity.provider)), "success")
        return redirect(url_for("accounts.settings"))
    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    account = sso.sign_in(identity)
    if account is None:
        session[SIGNUP_KEY] = {**identity.to_dict(), "at": time.time(),
                               "next": pending.next_url}
        return redirect(url_for("sso.welcome"))
    db.session.commit()
    login_user(account)
    flash(_("Welcome, %(name)s!", name=account.name), "success")
    target = pending.next_url if is_local_path(pending.next_url) else ""
    return redirect(target or url_for("accounts.dashboard"))


def _label(slug: str) -> str:
    provider = find_provider(slug, enabled_only=False)
    return provider.label if provider else slug


def _signup_identity() -> Identity:
    data = session.get(SIGNUP_KEY)
    identity = Identity.from_dict(data)
    if identity is None or time.time() - float(data.get("at", 0)) > sso.MAX_PENDING_AGE:
        session.pop(SIGNUP_KEY, None)
        raise sso.SignInFailed("state")
    return identity


@bp.route("/welcome", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def welcome():
    """First sign-in: choose a handle (proposed from the claims), accept the charter."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    identity = _signup_identity()
    provider = find_provider(identity.provider)
    if provider is None:
        raise NotFound(_("No such identity provider."))
    form = ChooseHandleForm()
    if request.method == "GET":
        form.handle.data = propose_handle(identity)
    if form.validate_on_submit():
        try:
            account = sso.create_account(identity, form.handle.data, form.charter.data,
                                         current_locale_code())
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            target = session.pop(SIGNUP_KEY, {}).get("next", "")
            login_user(account)
            flash(_("Welcome, %(name)s! Your account is ready.", name=account.name),
                  "success")
            return redirect(target if is_local_path(target) else url_for("accounts.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/sso_welcome.html", form=form, identity=identity,
                           provider=provider), status


@bp.post("/links/<int:link_id>/unlink")
@login_required
def unlink(link_id: int):
    form = UnlinkForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("accounts.settings"))
    row = sso.unlink(me(), link_id)
    db.session.commit()
    flash(_("%(provider)s is no longer linked to your account.",
            provider=_label(row.provider_slug)), "success")
    return redirect(url_for("accounts.settings"))
