"""The word filters of the instance, managed by its administrators (``/admin/word-filters``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from hub.admin.services import record_action
from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db, login
from hub.moderation import prevention
from hub.moderation.forms import ConfirmForm, FilterTestForm, WordFilterForm
from hub.views_common import form_error, me

bp = Blueprint("word_filters", __name__, url_prefix="/admin/word-filters")


@bp.before_request
def require_admin():
    if not current_user.is_authenticated:
        return login.unauthorized()
    if not current_user.is_admin:
        raise PermissionDenied(_("Only instance administrators may see this page."))
    return None


def _page(form: WordFilterForm | None = None, test_form: FilterTestForm | None = None,
          tried: list | None = None, status: int = 200):
    return render_template("moderation/word_filters.html", filters=prevention.list_filters(),
                           form=form or WordFilterForm(formdata=None),
                           test_form=test_form or FilterTestForm(formdata=None),
                           tried=tried, confirm_form=ConfirmForm()), status


@bp.route("", methods=["GET", "POST"])
def index():
    if request.method == "GET":
        return _page()
    form = WordFilterForm()
    if form.validate_on_submit():
        try:
            row = prevention.add_filter(me(), form.pattern.data or "", bool(form.is_regex.data),
                                        form.effect.data or "", form.message.data or "")
            record_action(me(), "word_filter.add", "word_filter", row.id, pattern=row.pattern,
                          regex=row.is_regex, effect=row.effect)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The filter is saved."), "success")
            return redirect(url_for(".index"))
    return _page(form=form, status=400)


@bp.post("/try")
def try_text():
    """Which filters a sample text trips, without saving anything."""
    test_form = FilterTestForm()
    if not test_form.validate_on_submit():
        return _page(test_form=test_form, status=400)
    return _page(test_form=test_form, tried=prevention.matches([test_form.sample.data or ""]))


@bp.post("/<int:filter_id>/delete")
def delete(filter_id: int):
    if not ConfirmForm().validate_on_submit():
        raise ValidationFailed(_("The form has expired. Please try again."))
    row = prevention.remove_filter(me(), filter_id)
    record_action(me(), "word_filter.remove", "word_filter", filter_id, pattern=row.pattern,
                  effect=row.effect)
    db.session.commit()
    flash(_("The filter is removed."), "success")
    return redirect(url_for(".index"))
