"""The ``resource_work`` job: text extraction for files, title and description for links.

Durable as in ``hub.jobs``: the resource row is the truth (``job_status`` "pending",
``attempts``, ``next_attempt_at``, ``locked_until``). ``hub.jobs.due_rows``/``claim_row``
read a column named ``status``; the resource's is ``job_status`` (its ``status`` would
mean something else), so the same two steps are written here for it.

A link's page only fills what the member left empty (the title placeholder, which is the
URL itself, and the abstract). A failure leaves the resource usable, with ``job_error``
shown to its editors.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urljoin

from flask import current_app
from sqlalchemy import or_, select, update

from hub.content.models import Resource
from hub.content.resources import extract, linkmeta
from hub.content.search.index import sync
from hub.errors import FetchError
from hub.extensions import db
from hub.models_base import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
LINK_TIMEOUT = 10
LINK_MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3


class PermanentFailure(Exception):
    """Retrying would not help (blocked address, 404, broken file)."""


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["HUB_JOB_LEASE_SECONDS"])


def due_resources(now: datetime) -> Iterable[tuple[str, tuple[int]]]:
    """Sweeper: resources whose work is pending, due and not held; pushed one lease ahead."""
    ids = list(db.session.scalars(
        select(Resource.id)
        .where(Resource.job_status == "pending", Resource.next_attempt_at <= now,
               or_(Resource.locked_until.is_(None), Resource.locked_until < now))
        .order_by(Resource.next_attempt_at).limit(500)))
    if ids:
        db.session.execute(update(Resource).where(Resource.id.in_(ids))
                           .values(next_attempt_at=now + _lease()))
    return [("resource_work", (row_id,)) for row_id in ids]


def claim_resource(resource_id: int, now: datetime | None = None) -> bool:
    """Take the row for one lease; False when done or held by another job. Commits."""
    now = now or utcnow()
    result = db.session.execute(
        update(Resource)
        .where(Resource.id == resource_id, Resource.job_status == "pending",
               or_(Resource.locked_until.is_(None), Resource.locked_until < now))
        .values(locked_until=now + _lease(), attempts=Resource.attempts + 1,
                next_attempt_at=now + _lease()))
    db.session.commit()
    return result.rowcount == 1


def backoff(attempts: int) -> timedelta:
    base = min(60 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def run_resource_work(resource_id: int) -> None:
    """Job: claim the resource, do its work, record the outcome, re-index it."""
    if not claim_resource(resource_id):
        return
    resource = db.session.get(Resource, resource_id)
    if resource is None:
        return
    try:
        if resource.deleted_at is None:
            if resource.kind == "file":
                extract_file_text(resource)
            elif resource.kind == "link":
                fetch_link_metadata(resource)
    except Exception as exc:  # any failure: keep the resource usable, say why
        permanent = isinstance(exc, PermanentFailure)
        resource.locked_until = None
        resource.job_error = _describe(exc)[:500]
        if permanent or resource.attempts >= MAX_ATTEMPTS:
            resource.job_status = "failed"
            log.info("resource %s: work failed for good: %s", resource.id, resource.job_error)
        else:
            resource.next_attempt_at = utcnow() + backoff(resource.attempts)
            log.info("resource %s: work failed, retry at %s: %s", resource.id,
                     resource.next_attempt_at, resource.job_error)
        return
    resource.job_status = "done"
    resource.job_error = ""
    resource.locked_until = None
    sync("resource", resource)


def _describe(exc: Exception) -> str:
    message = str(exc) or type(exc).__name__
    return message if isinstance(exc, (PermanentFailure, FetchError)) else (
        f"{type(exc).__name__}: {message}")


def extract_file_text(resource: Resource) -> None:
    from hub.content.resources.files import file_path
    from hub.content.resources.services import files_folder

    mime = resource.file_type.split(";")[0]
    if mime not in extract.EXTRACTABLE or not resource.file_path:
        return
    path = file_path(resource.file_path, files_folder())
    if path is None:
        raise PermanentFailure("the stored file is missing")
    try:
        resource.file_text = extract.extract_text(path.read_bytes(), mime)
    except Exception as exc:  # pypdf raises many kinds of errors on broken PDFs
        raise PermanentFailure(f"no text could be read from the file ({type(exc).__name__})"
                               ) from exc


def fetch_link_metadata(resource: Resource) -> None:
    from hub.federation.client import BlockedAddress, fetch, make_session

    session = make_session(allow_private=current_app.config["HUB_OUTBOUND_ALLOW_PRIVATE"])
    url = resource.source_url
    headers = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            response = fetch(session, "GET", url, timeout=LINK_TIMEOUT,
                             max_bytes=LINK_MAX_BYTES, headers=headers)
            location = response.headers.get("Location")
            if response.status_code in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)  # each hop goes through the guard again
                continue
            break
        else:
            raise PermanentFailure("too many redirects")
    except BlockedAddress as exc:
        raise PermanentFailure(f"the address is not reachable from this server ({exc})"
                               ) from exc
    finally:
        session.close()
    status = response.status_code
    if status == 429 or status >= 500:
        raise FetchError(f"the site answered HTTP {status}")
    if status >= 400:
        raise PermanentFailure(f"the site answered HTTP {status}")
    content_type = response.headers.get("Content-Type", "")
    if "html" not in content_type.lower():
        return  # a PDF or an image: nothing to read, nothing failed
    meta = linkmeta.parse_head(response.content, content_type)
    if meta.title and resource.title == resource.source_url:
        from hub.content.resources.services import make_title_key

        resource.title = meta.title
        resource.title_key = make_title_key(meta.title)
    if meta.description and not resource.abstract_source.strip():
        from hub.sanitize import render_markdown

        resource.abstract_source = meta.description
        resource.abstract_html = render_markdown(_escape_markdown(meta.description))
    resource.updated_at = utcnow()


def _escape_markdown(text: str) -> str:
    """A page's description is plain text: no emphasis, links or headings of its own."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|~" else c for c in text)
