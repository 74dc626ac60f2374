"""Content negotiation: the same page URL serves HTML to browsers and ActivityStreams JSON
to peers.

Installed as two app hooks (``init_app``): before a page of ``DOCUMENT_ENDPOINTS`` runs,
a request whose Accept header prefers ActivityStreams gets the document at once — the
HTML view, its view counter and the anonymous page cache are bypassed, so the cache can
never hand HTML to a peer or JSON to a browser; after the page, its HTML response says
``Vary: Accept`` so shared caches keep the two apart. Whether someone is logged in makes
no difference to the JSON: it is what an unauthenticated fetch may see.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_options_header

from hub.federation.vocab import ACTIVITY_JSON, AS_PROFILE, CONTENT_TYPE, LD_JSON

#: How long peers and caches may reuse a document (seconds).
MAX_AGE = 60


def _is_activity_type(value: str) -> bool:
    """``application/activity+json``, or ``application/ld+json`` with the ActivityStreams
    profile (or no profile: JSON-LD is what is served); other ld+json profiles are not."""
    mimetype, options = parse_options_header(value)
    mimetype = mimetype.lower()
    if mimetype == ACTIVITY_JSON:
        return True
    if mimetype != LD_JSON:
        return False
    profile = options.get("profile")
    return profile is None or AS_PROFILE in profile.split()


def wants_activity_json(accept_header: str) -> bool:
    """Whether an Accept header prefers an ActivityStreams document to HTML.

    Only an explicit ActivityStreams type counts (a browser's ``*/*`` never does), and it
    must weigh at least as much as ``text/html`` does for the same header.
    """
    if not accept_header:
        return False
    accept = parse_accept_header(accept_header, MIMEAccept)
    activity = max((quality for value, quality in accept if _is_activity_type(value)),
                   default=0)
    return activity > 0 and activity >= accept["text/html"]


def activity_response(body: dict[str, Any] | None, status: int = 200) -> Response:
    """A JSON document (or a bare problem for errors) with the AS media type."""
    if body is None:
        body = {"error": {403: "forbidden", 410: "gone", 400: "bad request"}.get(
            status, "not found"), "status": status}
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        content_type=CONTENT_TYPE)
    response.vary.add("Accept")
    if status in (200, 410):
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    from hub.federation.snapshots import DOCUMENT_ENDPOINTS, document_for

    @app.before_request
    def serve_activity_json() -> Response | None:
        if request.method not in ("GET", "HEAD") or request.endpoint not in DOCUMENT_ENDPOINTS:
            return None
        if not wants_activity_json(request.headers.get("Accept", "")):
            return None
        document = document_for(request.endpoint, dict(request.view_args or {}))
        return activity_response(document.body, document.status)

    @app.after_request
    def vary_on_accept(response: Response) -> Response:
        if request.endpoint in DOCUMENT_ENDPOINTS:
            response.vary.add("Accept")
        return response
