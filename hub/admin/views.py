"""The instance administration area: settings, accounts, invitations and the action log.

Every page needs an active instance administrator (checked once, before any view); the
services check again, so the CLI and future API share the rule.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from hub.admin import services
from hub.admin.forms import (
    REGISTRATION_CHOICES,
    REGISTRATION_HINTS,
    ROLE_CHOICES,
    ActionForm,
    InviteForm,
    ProviderForm,
    ProviderModeForm,
    RoleForm,
    SettingsForm,
    SuspendForm,
    ThemeForm,
)
from hub.admin.queries import (
    count_accounts_by_status,
    get_provider_row,
    instance_settings,
    list_accounts,
    list_admin_actions,
    list_instance_invitations,
    list_provider_rows,
)
from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db, login
from hub.views_common import form_error, me
from hub.web import role_label

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50
#: The statuses the account list filters on ("deleted" accounts are never listed).
STATUS_FILTERS = ("pending", "active", "suspended")
#: Query arguments of the account list that its action buttons carry back to it.
LIST_ARGS = ("q", "status", "after")

ACTION_LABELS = {
    "instance.settings": _l("changed the instance settings"),
    "instance.invite": _l("invited someone to sign up"),
    "instance.revoke_invitation": _l("revoked a sign-up invitation"),
    "account.approve": _l("approved a sign-up"),
    "account.reject": _l("rejected a sign-up"),
    "account.suspend": _l("suspended an account"),
    "account.reinstate": _l("reinstated an account"),
    "account.set_role": _l("changed an instance role"),
    "provider.create": _l("added an identity provider"),
    "provider.update": _l("changed an identity provider"),
    "instance.provider_only": _l("changed the provider-only mode"),
    "theme.create": _l("added a theme to the thesaurus"),
    "theme.update": _l("changed a thesaurus theme"),
    "theme.promote": _l("put a keyword into the thesaurus"),
    "domain.policy": _l("set a domain policy"),
    "domain.remove": _l("removed a domain policy"),
    "domain.allowlist": _l("changed the allow-list mode"),
    "charter.publish": _l("published a new version of the charter"),
    "word_filter.add": _l("added a word filter"),
    "word_filter.remove": _l("removed a word filter"),
    "org.holds_comments": _l("changed whether comments wait for approval"),
}


@bp.before_request
def require_admin():
    if not current_user.is_authenticated:
        return login.unauthorized()
    if not current_user.is_admin:
        raise PermissionDenied(_("Only instance administrators may see this page."))
    return None


@bp.context_processor
def labels() -> dict:
    modes = {choice.value: choice.label for choice in REGISTRATION_CHOICES}
    return {"action_label": lambda code: ACTION_LABELS.get(code, code),
            "status_label": status_label, "mode_label": lambda mode: modes.get(mode, mode)}


def status_label(status: str) -> str:
    return {"pending": _("waiting for approval"), "active": _("active"),
            "suspended": _("suspended")}.get(status, status)


@bp.get("/")
def index():
    return render_template("admin/index.html", counts=count_accounts_by_status())


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    form = SettingsForm(obj=instance_settings())
    if form.validate_on_submit():
        draft = services.SettingsDraft(
            name=form.name.data or "", description=form.description.data or "",
            contact_email=form.contact_email.data or "", default_locale=form.default_locale.data,
            registration_mode=form.registration_mode.data, org_creation=form.org_creation.data,
            max_upload_mb=form.max_upload_mb.data,
            new_account_holds=form.new_account_holds.data,
            appeal_days=form.appeal_days.data)
        try:
            services.update_settings(me(), draft)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The settings are saved."), "success")
            return redirect(url_for("admin.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/settings.html", form=form,
                           registration_hints=REGISTRATION_HINTS), status


# -- accounts ----------------------------------------------------------------------------


@bp.get("/accounts")
def accounts():
    search = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    if status not in STATUS_FILTERS:
        status = ""
    after = request.args.get("after", type=int)
    rows = list_accounts(search=search, status=status, after_id=after, limit=PAGE_SIZE + 1)
    next_after = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template(
        "admin/accounts.html", accounts=rows[:PAGE_SIZE], search=search, status=status,
        after=after, next_after=next_after, status_filters=STATUS_FILTERS,
        role_choices=ROLE_CHOICES,
        list_args={k: request.args[k] for k in LIST_ARGS if request.args.get(k)})


def _back_to_list() -> Response:
    """Back to the account list as it was (its arguments ride on the action's URL)."""
    return redirect(url_for("admin.accounts",
                            **{k: request.args[k] for k in LIST_ARGS if request.args.get(k)}))


def _run(form: ActionForm, action: Callable[[], str]) -> Response:
    """Validate the button's form, run one service, commit, flash, go back to the list."""
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return _back_to_list()
    try:
        message = action()
        db.session.commit()
    except (ValidationFailed, NotFound) as exc:
        # Another admin may have acted first: say so on the list rather than on an error page.
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return _back_to_list()


@bp.post("/accounts/<int:account_id>/approve")
def approve(account_id: int):
    def act() -> str:
        account = services.approve(me(), account_id)
        return _("@%(handle)s is approved and was told by e-mail.", handle=account.handle)

    return _run(ActionForm(), act)


@bp.post("/accounts/<int:account_id>/reject")
def reject(account_id: int):
    def act() -> str:
        services.reject(me(), account_id)
        return _("The sign-up is rejected.")

    return _run(ActionForm(), act)


@bp.post("/accounts/<int:account_id>/suspend")
def suspend(account_id: int):
    form = SuspendForm()

    def act() -> str:
        account = services.suspend(me(), account_id, form.reason.data or "")
        return _("@%(handle)s is suspended.", handle=account.handle)

    return _run(form, act)


@bp.post("/accounts/<int:account_id>/reinstate")
def reinstate(account_id: int):
    def act() -> str:
        account = services.reinstate(me(), account_id)
        return _("@%(handle)s is active again.", handle=account.handle)

    return _run(ActionForm(), act)


@bp.post("/accounts/<int:account_id>/role")
def set_role(account_id: int):
    form = RoleForm()

    def act() -> str:
        account = services.set_role(me(), account_id, form.role.data)
        return _("@%(handle)s is now %(role)s.", handle=account.handle,
                 role=role_label(account.role))

    return _run(form, act)


# -- invitations -------------------------------------------------------------------------


@bp.route("/invitations", methods=["GET", "POST"])
def invitations():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite_to_instance(me(), form.email.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("An invitation is on its way to %(email)s.", email=form.email.data.strip()),
                  "success")
            return redirect(url_for("admin.invitations"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/invitations.html", form=form,
                           invitations=list_instance_invitations()), status


@bp.post("/invitations/<int:invitation_id>/revoke")
def revoke_invitation(invitation_id: int):
    try:
        services.revoke_instance_invitation(me(), invitation_id)
        db.session.commit()
    except NotFound as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The invitation is revoked: its link no longer works."), "success")
    return redirect(url_for("admin.invitations"))


# -- the log -----------------------------------------------------------------------------


@bp.get("/log")
def log():
    after = request.args.get("after", type=int)
    rows = list_admin_actions(limit=PAGE_SIZE + 1, before_id=after)
    next_after = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render_template("admin/log.html", actions=rows[:PAGE_SIZE], after=after,
                           next_after=next_after)


# -- federation delivery -----------------------------------------------------------------


@bp.get("/federation")
def federation():
    """How outbound delivery is going: counts, failing hosts, the last errors."""
    from hub.federation.delivery_queries import (
        count_deliveries_by_status,
        list_failing_hosts,
        list_recent_errors,
    )
    from hub.models_base import utcnow

    return render_template("admin/federation.html", counts=count_deliveries_by_status(),
                           hosts=list_failing_hosts(), errors=list_recent_errors(),
                           now=utcnow())


def _domains_page(form=None, status: int = 200, import_form=None, import_report=None):
    from hub.admin.forms import (
        AllowlistForm,
        ConfirmDomainForm,
        DomainImportForm,
        DomainPolicyForm,
    )
    from hub.federation.policies import allowlist_mode, list_policies
    from hub.federation.policy_csv import MAX_BYTES

    return render_template("admin/domains.html", policies=list_policies(),
                           form=form or DomainPolicyForm(formdata=None),
                           confirm_form=ConfirmDomainForm(),
                           import_form=import_form or DomainImportForm(formdata=None),
                           import_report=import_report, allowlist_form=AllowlistForm(),
                           allowlist=allowlist_mode(),
                           max_import_kb=MAX_BYTES // 1024), status


@bp.route("/federation/domains", methods=["GET", "POST"])
def domains():
    """Domain policies: block, limit, reject media; applied by federation both ways."""
    from hub.admin.forms import DomainPolicyForm
    from hub.federation.policies import set_policy

    if request.method == "GET":
        return _domains_page()
    form = DomainPolicyForm()
    if form.validate_on_submit():
        try:
            row = set_policy(me(), form.domain.data or "", form.severity.data or "",
                             reject_media=bool(form.reject_media.data),
                             public_reason=form.public_reason.data or "",
                             private_note=form.private_note.data or "")
            services.record_action(me(), "domain.policy", "domain", row.id,
                                   domain=row.domain, severity=row.severity,
                                   reject_media=row.reject_media,
                                   reason=row.public_reason)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The policy for %(domain)s is saved.", domain=row.domain), "success")
            return redirect(url_for("admin.domains"))
    return _domains_page(form, 400)


@bp.get("/federation/domains.csv")
def export_domains():
    """The block list in Mastodon's domain_blocks.csv format (never the private notes)."""
    from hub.federation.policies import list_policies
    from hub.federation.policy_csv import to_csv

    return Response(to_csv(list_policies()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="domain_blocks.csv"',
                             "Cache-Control": "no-store"})


@bp.post("/federation/domains/import")
def import_domains():
    """Apply a shared block list; the page lists the rows refused, by line."""
    from hub.admin.forms import DomainImportForm
    from hub.federation.policies import import_policies
    from hub.federation.policy_csv import MAX_BYTES

    form = DomainImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [_("Choose a file to import.")]
        else:
            try:
                # One byte past the limit is enough for the parser to refuse the file.
                with upload.stream as stream:  # a large upload is a temporary file: close it
                    data = stream.read(MAX_BYTES + 1)
                report = import_policies(me(), data)
                db.session.commit()
            except ValidationFailed as exc:
                db.session.rollback()
                form_error(form, exc)
            else:
                return _domains_page(import_report=report)
    return _domains_page(import_form=form, status=400)


@bp.post("/federation/domains/allowlist")
def domains_allowlist():
    """Turn the allow-list mode on or off: then only "allow" domains federate."""
    from hub.admin.forms import AllowlistForm
    from hub.federation.policies import set_allowlist

    if not AllowlistForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    enabled = request.form.get("enabled") == "1"
    set_allowlist(me(), enabled)
    db.session.commit()
    flash(_("Only allowed domains federate now.") if enabled
          else _("Every domain without a block federates again."), "success")
    return redirect(url_for("admin.domains"))


@bp.post("/federation/domains/<path:domain>/delete")
def remove_domain(domain: str):
    from hub.admin.forms import ConfirmDomainForm
    from hub.federation.policies import remove_policy

    if not ConfirmDomainForm().validate_on_submit():
        raise PermissionDenied(_("The form expired: try again."))
    if not remove_policy(domain):
        raise NotFound("domain policy")
    services.record_action(me(), "domain.remove", "domain", None, domain=domain)
    db.session.commit()
    flash(_("%(domain)s has no policy any more.", domain=domain), "success")
    return redirect(url_for("admin.domains"))


# -- identity providers ------------------------------------------------------------------


@bp.route("/providers", methods=["GET", "POST"])
def providers():
    from flask import current_app

    from hub.accounts.sso import redirect_uri

    form = ProviderModeForm(obj=instance_settings())
    if form.validate_on_submit():
        services.set_provider_only(me(), bool(form.provider_only.data))
        db.session.commit()
        flash(_("The settings are saved."), "success")
        return redirect(url_for("admin.providers"))
    return render_template("admin/providers.html", form=form, rows=list_provider_rows(),
                           declared=current_app.config.get("HUB_OIDC_PROVIDER_LIST", ()),
                           redirect_uri=redirect_uri())


@bp.route("/providers/new", methods=["GET", "POST"])
@bp.route("/providers/<int:provider_id>", methods=["GET", "POST"])
def edit_provider(provider_id: int | None = None):
    row = get_provider_row(provider_id) if provider_id is not None else None
    form = ProviderForm(obj=row)
    if form.validate_on_submit():
        values = {name: form[name].data for name in services.PROVIDER_FIELDS}
        try:
            services.save_provider(me(), provider_id, values)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The identity provider is saved."), "success")
            return redirect(url_for("admin.providers"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/provider_form.html", form=form, row=row), status


# -- the thesaurus -----------------------------------------------------------------------


@bp.get("/themes")
def themes():
    from hub.content.theme_queries import list_theme_index, list_thesaurus

    return render_template("admin/themes.html", thesaurus=list_thesaurus(),
                           keywords=list_theme_index(None, keyword_limit=40).keywords,
                           form=ActionForm())


@bp.route("/themes/new", methods=["GET", "POST"])
@bp.route("/themes/<int:tag_id>", methods=["GET", "POST"])
def edit_theme(tag_id: int | None = None):
    from hub.content.models import Tag
    from hub.content.theme_queries import list_thesaurus
    from hub.content.themes import ThemeDraft, save_theme

    tag = db.session.get(Tag, tag_id) if tag_id is not None else None
    if tag_id is not None and (tag is None or not tag.is_thesaurus):
        raise NotFound(_("This theme is not in the thesaurus."))
    form = ThemeForm(obj=tag)
    if request.method == "GET" and tag is not None:
        form.parent_id.data = tag.parent_id or 0
    form.parent_id.choices = [(0, _("(none)"))] + [
        (t.id, t.label) for t in list_thesaurus() if tag is None or t.id != tag.id]
    if form.validate_on_submit():
        draft = ThemeDraft(label=form.label.data or "", label_fr=form.label_fr.data or "",
                           label_en=form.label_en.data or "",
                           parent_id=form.parent_id.data or None,
                           description=form.description.data or "")
        try:
            save_theme(me(), tag_id, draft)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The theme is saved."), "success")
            return redirect(url_for("admin.themes"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/theme_form.html", form=form, tag=tag), status


@bp.post("/themes/<int:tag_id>/promote")
def promote_theme(tag_id: int):
    from hub.content.themes import promote_keyword

    if not ActionForm().validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("admin.themes"))
    try:
        tag = promote_keyword(me(), tag_id)
        db.session.commit()
    except (ValidationFailed, NotFound) as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("%(label)s is now in the thesaurus.", label=tag.label), "success")
    return redirect(url_for("admin.themes"))
