"""The POST of a content form with a Markdown field: preview it, or save and go to it.

Shell code shared by the discussion and event editors (one commit per request, form errors
from the service shown on their field, nothing saved on preview).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect

from hub.content.writing import render_content
from hub.errors import ValidationFailed
from hub.extensions import db
from hub.views_common import form_error


def preview_or_save(form: Any, source: Any, run: Callable[[Any], Any], saved: str,
                    url_of: Callable[[Any], str]) -> tuple[Any, str | None]:
    """(redirect after saving or None, preview HTML or None) for ``form``.

    ``source`` is the Markdown field, ``run(draft)`` the service call, ``saved`` the flash
    message and ``url_of(row)`` where the saved row lives.
    """
    if not form.validate_on_submit():
        return None, None
    if form.preview.data:
        return None, render_content(source.data or "").html
    try:
        row = run(form.draft())
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        form_error(form, exc)
        return None, None
    flash(saved, "success")
    return redirect(url_of(row)), None
