"""Pages of following on the fediverse: an account's or organisation's network (who
follows it, whom it follows), the form to follow someone elsewhere, unfollow buttons.

Thin: parse, authorise early (a visitor's click never reaches another server), call one
service, commit once, flash, redirect. The rules live in ``follows`` and ``lookup``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional

from hub.errors import FederationError, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.federation import follows, lookup
from hub.federation.models import RemoteActor
from hub.views_common import form_error, me

bp = Blueprint("follows", __name__)


class FollowForm(FlaskForm):
    # No other validator: ``lookup`` says what is wrong with an address, in one place.
    address = StringField(_l("Address on the fediverse"), validators=[Optional()])


class ConfirmForm(FlaskForm):
    """A button that changes one thing: nothing but the CSRF token."""


@bp.app_template_global()
def follower_count(kind: str, row_id: int) -> int:
    """Accepted followers of a local account or organisation (for the organisation page)."""
    return follows.count_followers((kind, row_id))


@bp.app_template_global()
def fediverse_address(handle: str) -> str:
    """"@handle@host", the address people type on Mastodon to find this actor."""
    host = urlsplit(current_app.config["HUB_BASE_URL"]).netloc
    return f"@{handle}@{host}"


@bp.app_template_filter()
def web_link(url: str) -> str:
    """A remote actor's page, only when it is a web address (never ``javascript:``)."""
    return url if isinstance(url, str) and url.lower().startswith(("https://", "http://")) else ""


def _viewer() -> Any:
    return me() if current_user.is_authenticated else None


def _owner(handle: str) -> tuple[follows.Party, Any]:
    """The organisation or active account at ``/@handle`` and its party, or 404."""
    from hub.accounts.queries import find_account_by_handle
    from hub.orgs.queries import find_organisation

    org = find_organisation(handle)
    if org is not None:
        return ("organisation", org.id), org
    account = find_account_by_handle(handle)
    if account is None or account.status != "active":
        abort(404)
    return ("account", account.id), account


def _cursor(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _network_url(owner: Any) -> str:
    return url_for("follows.network", handle=owner.handle)


def _render(party: follows.Party, owner: Any, form: FollowForm | None = None,
            status: int = 200):
    viewer = _viewer()
    manage = follows.may_manage(viewer, party)
    followers = follows.list_follows(party, "followers", before=_cursor("followers_before"))
    following = follows.list_follows(party, "following", before=_cursor("following_before"),
                                     statuses=("pending", "accepted", "rejected"))
    requests = (follows.list_follows(party, "followers", statuses=("pending",)).entries
                if manage else [])

    def more(name: str, cursor: int | None) -> str | None:
        return (url_for("follows.network", handle=owner.handle, **{name: cursor})
                if cursor is not None else None)

    return render_template(
        "federation/network.html", owner=owner, is_org=party[0] == "organisation",
        manage=manage, followers=followers.entries, following=following.entries,
        requests=requests,
        followers_total=follows.count_follows(party, "followers"),
        following_total=follows.count_follows(party, "following"),
        followers_more=more("followers_before", followers.next_cursor),
        following_more=more("following_before", following.next_cursor),
        form=form or FollowForm(formdata=None), confirm_form=ConfirmForm()), status


@bp.get("/@<handle>/network")
def network(handle: str):
    party, owner = _owner(handle)
    return _render(party, owner)


@bp.get("/settings/network")
@login_required
def settings_network():
    """An account's own network page, from its settings."""
    return redirect(_network_url(me()))


def _managed(handle: str) -> tuple[follows.Party, Any]:
    party, owner = _owner(handle)
    if not follows.may_manage(me(), party):
        raise PermissionDenied(_("Only its admins may choose whom %(name)s follows.",
                                 name=owner.name) if party[0] == "organisation" else
                               _("You may only manage your own network."))
    return party, owner


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        raise ValidationFailed(_("The form has expired. Please try again."))


@bp.post("/@<handle>/network/follow")
@login_required
def follow(handle: str):
    party, owner = _managed(handle)
    form = FollowForm()
    if not form.validate_on_submit():
        return _render(party, owner, form, 400)
    try:
        uri = lookup.resolve(form.address.data or "")
        row = follows.follow_remote(me(), party, uri)
        remote = db.session.get(RemoteActor, row.followed_id)
        db.session.commit()
    except (ValidationFailed, FederationError) as exc:
        db.session.rollback()
        if not isinstance(exc, ValidationFailed):
            exc = ValidationFailed(_("This address could not be followed: %(reason)s",
                                     reason=exc.message[:200]), field="address")
        form_error(form, exc)
        return _render(party, owner, form, 400)
    shown = (remote.name or remote.handle or remote.uri) if remote else uri
    if row.status == "accepted":
        flash(_("%(name)s is already followed.", name=shown), "info")
    else:
        flash(_("A follow request was sent to %(name)s. It shows as accepted once their "
                "server answers.", name=shown), "success")
    return redirect(_network_url(owner))


@bp.post("/@<handle>/network/following/<int:follow_id>/unfollow")
@login_required
def unfollow(handle: str, follow_id: int):
    party, owner = _managed(handle)
    _confirmed()
    _row, remote = follows.get_follow_of(party, follow_id)
    shown = remote.name or remote.handle or remote.uri
    follows.unfollow_remote(me(), party, remote.uri)
    db.session.commit()
    flash(_("%(name)s is no longer followed.", name=shown), "success")
    return redirect(_network_url(owner))


@bp.post("/@<handle>/network/approval")
@login_required
def approval(handle: str):
    """The "approve new followers by hand" setting of the network page."""
    party, owner = _managed(handle)
    _confirmed()
    value = request.form.get("approves_followers") == "1"
    follows.set_approves_followers(me(), party, value)
    db.session.commit()
    flash(_("New followers now wait for your approval.") if value else
          _("New followers are now accepted automatically."), "success")
    return redirect(_network_url(owner))


@bp.post("/@<handle>/network/followers/<int:follow_id>/<any(accept, reject):decision>")
@login_required
def decide(handle: str, follow_id: int, decision: str):
    party, owner = _managed(handle)
    _confirmed()
    if decision == "accept":
        follows.accept_follower(me(), party, follow_id)
        message = _("The follower was accepted.")
    else:
        follows.reject_follower(me(), party, follow_id)
        message = _("The follower was removed.")
    db.session.commit()
    flash(message, "success")
    return redirect(_network_url(owner))
