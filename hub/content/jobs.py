"""Jobs and sweepers of the content package, registered by hand in ``hub.web``."""

from __future__ import annotations

from typing import Any


def register(jobs: Any) -> None:
    """Add content jobs (``jobs.register``) and sweepers (``jobs.register_sweeper``)."""
    from hub.content.posts.services import due_posts, publish_post

    jobs.register("publish_post", publish_post)
    jobs.register_sweeper(due_posts)
    from hub.content.resources.work import due_resources, run_resource_work

    jobs.register("resource_work", run_resource_work)
    jobs.register_sweeper(due_resources)
