"""Jobs and sweepers of the content package, registered by hand in ``hub.web``."""

from __future__ import annotations

from typing import Any


def register(jobs: Any) -> None:
    """Add content jobs (``jobs.register``) and sweepers (``jobs.register_sweeper``)."""
