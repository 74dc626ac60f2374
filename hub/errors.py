"""The error family raised by services, and its one mapping to HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


class HubError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(HubError):
    status = 400


class PermissionDenied(HubError):
    status = 403


class NotFound(HubError):
    status = 404


class Conflict(HubError):
    status = 409


class FederationError(HubError):
    status = 400


class SignatureError(FederationError):
    status = 401


class FetchError(FederationError):
    status = 502


class ParseError(FederationError):
    status = 400


ERROR_CODES = (400, 403, 404, 405, 413, 429, 500)


def register_error_handlers(app: Flask) -> None:
    """Map HubError and HTTP errors to an HTML page, or JSON problem details for API clients."""
    from flask import jsonify, render_template, request
    from flask_babel import gettext as _
    from werkzeug.exceptions import HTTPException

    titles = {
        400: lambda: _("Bad request"),
        403: lambda: _("Forbidden"),
        404: lambda: _("Page not found"),
        405: lambda: _("Method not allowed"),
        409: lambda: _("Conflict"),
        413: lambda: _("File too large"),
        429: lambda: _("Too many requests"),
        500: lambda: _("Something went wrong"),
    }

    def wants_json() -> bool:
        best = request.accept_mimetypes.best_match(
            ["text/html", "application/json", "application/problem+json"]
        )
        return best in {"application/json", "application/problem+json"}

    def respond(status: int, detail: str):
        from hub.extensions import db

        db.session.rollback()
        title = titles.get(status, titles[500])()
        if wants_json():
            resp = jsonify({"type": "about:blank", "title": title, "status": status,
                            "detail": detail})
            resp.status_code = status
            resp.mimetype = "application/problem+json"
            return resp
        return render_template("error.html", status=status, title=title, detail=detail), status

    @app.errorhandler(HubError)
    def handle_hub_error(err: HubError):
        return respond(err.status, err.message)

    @app.errorhandler(HTTPException)
    def handle_http_error(err: HTTPException):
        code = err.code or 500
        detail = ""
        if code == 413:
            limit = app.config["HUB_MAX_UPLOAD_MB"]
            detail = _("The file you sent is larger than the limit of %(mb)s MB.", mb=limit)
        elif code == 429:
            detail = _("You tried too often. Please wait a while and try again.")
        elif code == 400 and "CSRF" in (err.description or ""):
            detail = _("The form has expired or was not sent from this site. "
                       "Please reload the page and try again.")
        resp = respond(code, detail)
        return resp

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception):
        app.logger.exception("unhandled error")
        return respond(500, "")
