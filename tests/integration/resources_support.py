"""Helpers shared by the catalogue tests: sample files, sharing through the web form,
database snapshots read with plain column queries."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.content.models import Resource, Shelf
from hub.extensions import db

FILES = Path(__file__).parent.parent / "data" / "files"

EMPTY_FORM = {"kind": "link", "source_url": "", "title": "", "body": "", "authors": "",
              "publisher": "", "date_published": "", "language": "", "doc_type": "",
              "licence": "", "keywords": "", "abstract": "", "visibility": "public",
              "folder_id": ""}


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, whatever the instance default, so messages can be asserted."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def sample(name: str) -> bytes:
    return (FILES / name).read_bytes()


def multipart(fields: dict, upload: tuple[bytes, str] | None) -> tuple[bytes, str]:
    """A multipart body built by hand: the test client would spool large files to a
    temporary file that it never closes (a ResourceWarning in a later test)."""
    boundary = "hubresourceboundary"
    out = io.BytesIO()
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n"
                      f"\r\n{item}\r\n".encode())
    if upload is not None:
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                  f"filename=\"{upload[1]}\"\r\nContent-Type: application/octet-stream"
                  "\r\n\r\n".encode())
        out.write(upload[0])
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post_form(client, url: str, fields: dict, upload: tuple[bytes, str] | None = None):
    body, content_type = multipart({**fields, "csrf_token": client.csrf_token()}, upload)
    return client.post(url, data=body, content_type=content_type)


def share(client, handle: str, *, upload: tuple[bytes, str] | None = None, **fields):
    """POST the share form of an organisation; returns the response (not followed)."""
    data: dict = {**EMPTY_FORM, **fields}
    if upload is not None:
        data["kind"] = fields.get("kind", "file")
    return post_form(client, f"/@{handle}/library/new", data, upload)


def resource_ids() -> list[int]:
    return list(db.session.scalars(select(Resource.id).order_by(Resource.id)))


def resource_row(resource_id: int) -> dict:
    row = db.session.execute(select(Resource.__table__).where(Resource.id == resource_id)).one()
    return dict(row._mapping)


def shelf_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Shelf)) or 0


def stored_files(app) -> list[Path]:
    folder = Path(app.config["HUB_INSTANCE_PATH"]) / "files"
    return sorted(folder.iterdir()) if folder.exists() else []


def new_resource(org, author, **values) -> Resource:
    """A resource and its shelf, straight in the database (for list and query-count tests)."""
    from hub.content.resources.services import ResourceDraft, share_resource

    draft = ResourceDraft(**{"kind": "note", "title": "Une note", "body": "Texte.", **values})
    resource = share_resource(author, org, draft)
    db.session.commit()
    return resource
