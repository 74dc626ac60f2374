"""Rate limits on writing: posts, resources, discussions and events share one allowance,
comments another, reports a third. Counted per account (an attacker cannot spread over
addresses once logged in), per address for visitors; only successful writes count, and
Markdown previews never do."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from hub.extensions import limiter


def writer_key() -> str:
    if current_user and current_user.is_authenticated:
        return f"account:{current_user.id}"
    return f"address:{get_remote_address()}"


def _setting(name: str) -> str:
    return current_app.config[name]


def _is_preview() -> bool:
    return bool(request.form.get("preview"))


def _written(response: Response) -> bool:
    """A write that went through redirects; refusals (400, 403) do not use the allowance."""
    return response.status_code in (302, 303)


#: New posts, resources, discussions and events (one allowance for all).
writing = limiter.shared_limit(lambda: _setting("HUB_POST_RATE_LIMIT"), scope="writing",
                               key_func=writer_key, methods=["POST"], exempt_when=_is_preview,
                               deduct_when=_written)
#: New comments and replies.
commenting = limiter.shared_limit(lambda: _setting("HUB_COMMENT_RATE_LIMIT"),
                                  scope="commenting", key_func=writer_key, methods=["POST"],
                                  deduct_when=_written)
#: Reports, by members and visitors.
reporting = limiter.limit(lambda: _setting("HUB_REPORT_RATE_LIMIT"), key_func=writer_key,
                          methods=["POST"])
