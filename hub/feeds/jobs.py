"""Jobs and sweepers of the feeds package, registered by hand in ``hub.web``."""

from __future__ import annotations

from typing import Any


def register(jobs: Any) -> None:
    """Add the polling of watched feeds: one job per source, a sweeper for due sources."""
    from hub.feeds.watch.poll import due_sources, poll_source

    jobs.register("poll_feed_source", poll_source)
    jobs.register_sweeper(due_sources)
