"""A remote ActivityPub server on loopback for inbox tests, and signed POSTs to our inboxes.

``serve_peer`` serves actor documents (and raw files) by path and records the POSTs its
inboxes receive; ``post`` signs a request as a remote actor would (draft-cavage or RFC 9421).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select

from hub.extensions import db
from hub.federation.models import Activity
from hub.federation.signatures import sign_cavage, sign_rfc9421

KEYS = Path(__file__).resolve().parents[1] / "data" / "ap" / "signatures"
ALICE_KEY = (KEYS / "test-key-rsa.pem").read_text()
OTHER_KEY = (KEYS / "actor-key.pem").read_text()
AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
ORG = "http://localhost/@collectif"
_seq = itertools.count(1)


def public_pem(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass
class Peer:
    """A remote server: actor documents by path, and the POSTs its inboxes received."""

    port: int
    documents: dict[str, tuple[int, dict]] = field(default_factory=dict)
    received: list[tuple[str, dict]] = field(default_factory=list)
    fetches: list[str] = field(default_factory=list)
    #: Seconds each GET takes (a slow origin, so that concurrent requests overlap).
    delay: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def actor(self, handle: str, private_pem: str = ALICE_KEY, **fields) -> str:
        uri = f"{self.base}/users/{handle}"
        self.documents[f"/users/{handle}"] = (200, {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": uri, "type": "Person", "preferredUsername": handle, "name": handle.title(),
            "summary": "<p>Hello <script>alert(1)</script></p>",
            "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": f"{uri}#main-key", "owner": uri,
                          "publicKeyPem": public_pem(private_pem)},
            **fields,
        })
        return uri


@contextmanager
def serve_peer() -> Iterator[Peer]:
    """A remote server on a loopback port, serving ``documents`` and recording POSTs."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            server.fetches.append(self.path)
            if server.delay:
                time.sleep(server.delay)
            status, doc = server.documents.get(self.path, (404, {"error": "not found"}))
            raw = isinstance(doc, bytes)  # a file (an avatar), served as it is
            body = doc if raw else json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type",
                             "application/octet-stream" if raw else "application/activity+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            server.received.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = Peer(httpd.server_port)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def activity(actor: str, kind: str = "Follow", obj=ORG, **fields) -> dict:
    return {"@context": AS, "id": f"{actor}/activities/{kind.lower()}-{next(_seq)}",
            "type": kind, "actor": actor, "object": obj, **fields}


def post(client, path: str, doc: dict | None = None, *, body: bytes | None = None,
         key: str = ALICE_KEY, key_id: str | None = None, now: datetime | None = None,
         content_type: str = "application/activity+json", scheme: str = "cavage",
         headers: dict | None = None, signed: bool = True):
    body = body if body is not None else json.dumps(doc).encode()
    sent = {"Content-Type": content_type}
    if signed:
        key_id = key_id or f"{doc['actor']}#main-key"
        sign = sign_cavage if scheme == "cavage" else sign_rfc9421
        added = sign("POST", f"http://localhost{path}", sent, body, key_id, key,
                     now or datetime.now(UTC))
        sent.update({k: v for k, v in added.items() if k != "Host"})
    sent.update(headers or {})
    return client.post(path, data=body, headers=sent)


def stored() -> int:
    return db.session.scalar(select(func.count(Activity.id)))


def row(uri: str) -> Activity:
    db.session.expire_all()
    return db.session.scalar(select(Activity).where(Activity.uri == uri))


