"""The organisation's view statistics, for its editors (``view_stats``).

Not cached and never shown to visitors: members-only items and their numbers appear here.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from hub.content.counters import org_stats
from hub.errors import PermissionDenied
from hub.orgs.permissions import can
from hub.orgs.queries import get_organisation, role_of
from hub.views_common import me

bp = Blueprint("stats", __name__)

STATS_DAYS = 30

#: How each kind's page is reached (endpoint, id argument, needs the handle).
ITEM_PAGES = {
    "post": ("posts.post", "post_id", True),
    "resource": ("resources.resource", "resource_id", False),
    "discussion": ("discussions.discussion", "discussion_id", True),
    "event": ("events.event", "event_id", True),
}


def item_url(kind: str, handle: str, item_id: int) -> str | None:
    endpoint, arg, with_handle = ITEM_PAGES[kind]
    values = {arg: item_id, **({"handle": handle} if with_handle else {})}
    try:
        return url_for(endpoint, **values)
    except BuildError:  # a content type whose pages are not there (yet)
        return None


@bp.get("/@<handle>/stats")
@login_required
def org_stats_page(handle: str):
    org = get_organisation(handle)
    if not can("view_stats", role_of(org, me()), instance_admin=current_user.is_admin):
        raise PermissionDenied(_("Only the organisation's editors see its statistics."))
    stats = org_stats(org.id, days=STATS_DAYS)
    peak = max((views for _, views in stats.days), default=0)
    kinds = {"post": _("News"), "resource": _("Resource"), "discussion": _("Discussion"),
             "event": _("Event")}
    return render_template("content/stats.html", org=org, stats=stats, peak=peak,
                           kinds=kinds, days=STATS_DAYS,
                           item_url=lambda item: item_url(item.kind, org.handle, item.id))
