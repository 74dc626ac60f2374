"""Jobs and sweepers of federation, registered by hand in ``hub.web``."""

from __future__ import annotations

from typing import Any


def register(jobs: Any) -> None:
    """Processing of inbound activities and sending of deliveries, each with its sweeper;
    remote avatars fetched into the cache."""
    from hub.federation.delivery import deliver, due_deliveries
    from hub.federation.inbox import due_activities, process_activity, process_inbox

    jobs.register("process_inbox", process_inbox)
    jobs.register("process_activity", process_activity)
    jobs.register_sweeper(due_activities)
    jobs.register("deliver", deliver, priority=10)  # before the inbox backlog
    jobs.register_sweeper(due_deliveries)
    from hub.federation.remote_media import cache_avatar, cache_image

    jobs.register("cache_remote_avatar", cache_avatar)
    jobs.register("cache_remote_image", cache_image)
