"""What an organisation's page shows of its content: one entry per kind.

Each content package adds its entry; ``render_org_page`` passes the result to
``templates/orgs/page.html``, which includes ``content/<kind>/_org_section.html`` for each.
Every entry must run a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

from typing import Any


def org_page_content(org: Any, viewer: Any) -> dict[str, Any]:
    """Template variables for the organisation page's content sections."""
    content: dict[str, Any] = {}
    from hub.content.posts.queries import list_org_section_posts

    content["posts"] = list_org_section_posts(org, viewer)
    from hub.content.resources.queries import latest_on_shelves

    content["resources"] = latest_on_shelves(org, viewer)
    from hub.content.discussions.queries import list_org_discussions

    content["discussions"] = list_org_discussions(org, viewer, limit=5).discussions
    from hub.content.events.views import org_section_events

    content["events"] = org_section_events(org, viewer)
    return content
