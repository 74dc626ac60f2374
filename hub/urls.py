"""Absolute URLs for e-mails, feeds and federation, built from HUB_BASE_URL.

Services, jobs and the CLI have no request to build URLs from; this works everywhere and
never trusts a request's Host header.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    parts = urlsplit(current_app.config["HUB_BASE_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def local_path(endpoint: str, **values: Any) -> str:
    """A path on this site ("/@org/news/3"), with or without a request.

    Links stored in content (theme links, mentions) and in notifications are paths, so
    they stay right if the instance moves behind another host name.
    """
    parts = urlsplit(current_app.config["HUB_BASE_URL"])
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme)
    return adapter.build(endpoint, values)
