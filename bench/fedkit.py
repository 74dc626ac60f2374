"""Shared pieces of the federation benchmarks (D1–D3 in d_federation.py, I1–I2 in
i_inbox.py): the fake fediverse process, an agent inside the app, and small helpers.

The agent is a child process with the app loaded (``python bench/fedkit.py --agent``)
that reads one JSON command a line and answers one JSON line prefixed with ``@@``: it
publishes posts through the posts service (what a person does), counts rows and runs the
seeding functions. One agent per deployment keeps the app's start-up (about two seconds)
out of every measured round; timings it reports are taken inside it, around the call.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import ROOT, BenchError, Deployment, Result, free_port, maillage_cmd

BENCH = Path(__file__).resolve().parent


# -- the fake fediverse ------------------------------------------------------------------


class FleetProcess:
    """``fleet.py`` started by a deployment (so it is stopped with it), and its control."""

    def __init__(self, dep: Deployment, hosts: int) -> None:
        from fleet import host_address

        self.hosts = hosts
        self.port = free_port()
        self.control_port = free_port()
        self.host_address = host_address
        self.proc = dep.spawn("fleet", [sys.executable, str(BENCH / "fleet.py"),
                                        "--hosts", str(hosts), "--port", str(self.port),
                                        "--control", str(self.control_port)])
        log = dep.tmp / "fleet.log"
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the fake fediverse did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)

    def base(self, index: int) -> str:
        return f"http://{self.host_address(index)}:{self.port}"

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.control_port, timeout=30)
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            conn.request(method, path, body=body,
                         headers={"Content-Type": "application/json"} if body else {})
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def configure(self, latency_ms: int = 0, behaviours: dict[int, str] | None = None,
                  slow_ms: int = 3000) -> None:
        self.call("POST", "/config", {"latency_ms": latency_ms, "slow_ms": slow_ms,
                                      "behaviours": {str(k): v for k, v in
                                                     (behaviours or {}).items()}})

    def stats(self, activity: str) -> dict[str, Any]:
        from urllib.parse import quote

        return self.call("GET", f"/stats?activity={quote(activity, safe='')}")

    def gets(self) -> dict[str, int]:
        return self.call("GET", "/gets")


# -- the agent -----------------------------------------------------------------------------


class Agent:
    """The app in a child process, driven by JSON lines (see the module docstring)."""

    def __init__(self, dep: Deployment) -> None:
        self.log = dep.tmp / "agent.err"
        self._err = open(self.log, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH / "fedkit.py"), "--agent"], cwd=ROOT, env=dep.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, text=True,
            start_new_session=True)

    def ask(self, cmd: str, **args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise BenchError(f"the agent died:\n{self.log.read_text()[-3000:]}")
            if line.startswith("@@"):
                answer = json.loads(line[2:])
                if "error" in answer:
                    raise BenchError(f"agent {cmd}: {answer['error']}")
                return answer["ok"]

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdin:
                self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self._err.close()


def restart_workers(dep: Deployment, pause: float = 2.0) -> int:
    """SIGKILL every worker process group of ``dep``, wait ``pause``, start as many again;
    returns how many were killed."""
    workers = [(n, p, log) for n, p, log in dep.procs if n.startswith("worker")]
    for _name, proc, _log in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    dep.procs = [entry for entry in dep.procs if entry not in workers]
    time.sleep(pause)
    for i in range(len(workers)):
        dep.spawn(f"worker{i}-restarted-{int(time.time())}", maillage_cmd("worker"))
    return len(workers)


def wait_until(found: Any, timeout: float, every: float = 0.1) -> Any:
    """Poll ``found()`` until it returns something truthy, or ``timeout`` seconds; returns
    the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def rsa_pem_pair() -> tuple[str, str]:
    """A fresh RSA-2048 key pair (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def actor_document(uri: str, public_pem: str, shared_inbox: str = "") -> dict[str, Any]:
    """A minimal Mastodon-like Person with its key, as the fake fediverse serves it."""
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams",
                     "https://w3id.org/security/v1"],
        "id": uri, "type": "Person", "preferredUsername": uri.rsplit("/", 1)[1],
        "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox", "url": uri,
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem}}
    if shared_inbox:
        doc["endpoints"] = {"sharedInbox": shared_inbox}
    return doc


def _num(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 10 and value != int(value) else f"{value:.0f}"


def print_rows(title: str, mode: str, cfg: Any, results: Sequence[Result]) -> None:
    """``harness.print_table`` with a unit column and small values kept readable (these
    rows hold seconds, counts and rates, not only req/s)."""
    from harness import MODES

    print(f"\n{title} — mode {mode}: {MODES.get(mode, mode)}")
    header = (f"  {'measure':<30} {'value [min–max]':>24} {'reference':>22} {'unit':>8} "
              f"{'ratio':>6} {'goal':>7}  result")
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        value = (f"{_num(r.value)} [{_num(r.value_min)}–{_num(r.value_max)}]"
                 if r.value_min != r.value_max else _num(r.value))
        ref = (f"{_num(r.reference)} [{_num(r.reference_min)}–{_num(r.reference_max)}]"
               if r.reference_min != r.reference_max else _num(r.reference))
        print(f"  {r.name:<30} {value:>24} {ref:>22} {r.unit:>8} {r.ratio:6.2f} "
              f"{'≥ ' + format(r.goal, '.2f'):>7}  {verdict}")
        if r.note:
            print(f"      {r.note.splitlines()[0][:200]}")
    print(flush=True)


# -- inside the agent (the app is loaded) -----------------------------------------------------


def _seed_owner(handle: str = "ada", org_handle: str = "collectif") -> dict[str, int]:
    """An account and the organisation it founds, through the services."""
    import secrets as _secrets

    from sqlalchemy import select

    from hub.accounts.models import Account
    from hub.accounts.services import claim_handle
    from hub.extensions import db
    from hub.models_base import utcnow
    from hub.orgs.models import Organisation
    from hub.orgs.services import OrgDraft, found_organisation

    existing = db.session.scalar(select(Organisation).where(Organisation.handle == org_handle))
    if existing is not None:
        owner = db.session.scalar(select(Account).where(Account.handle == handle))
        return {"account": owner.id, "org": existing.id}
    typed, key = claim_handle(handle, "account")
    owner = Account(handle=typed, handle_key=key, email=f"{handle}@bench.invalid",
                    password_hash="!", security_stamp=_secrets.token_hex(16),
                    status="active", role="user", email_confirmed_at=utcnow(),
                    display_name=handle.title())
    db.session.add(owner)
    db.session.flush()
    org = found_organisation(owner, org_handle, OrgDraft(name=f"Bench {org_handle}"))
    db.session.commit()
    return {"account": owner.id, "org": org.id}


def _seed_followers(org_id: int, actors: list[dict[str, str]]) -> int:
    """Remote actors (uri, inbox, shared_inbox, domain) following organisation ``org_id``,
    written in bulk with ids of their own."""
    from sqlalchemy import func, insert, select

    from hub.extensions import db
    from hub.federation.models import Follow, RemoteActor
    from hub.models_base import utcnow

    now = utcnow()
    start = (db.session.scalar(select(func.max(RemoteActor.id))) or 0) + 1
    rows, follows = [], []
    for n, actor in enumerate(actors):
        rid = start + n
        rows.append({"id": rid, "uri": actor["uri"], "type": "Person",
                     "handle": actor["uri"].rsplit("/", 1)[1], "domain": actor["domain"],
                     "name": "", "summary_html": "", "url": actor["uri"], "icon_url": "",
                     "inbox": actor["inbox"], "shared_inbox": actor.get("shared_inbox", ""),
                     "outbox": "", "followers_url": "",
                     "key_id": actor.get("key_id", ""),
                     "public_key_pem": actor.get("public_key_pem", ""),
                     "manually_approves_followers": False, "fetched_at": now,
                     "moved_to": ""})
        if org_id:
            follows.append({"follower_type": "remote", "follower_id": rid,
                            "followed_type": "organisation", "followed_id": org_id,
                            "status": "accepted", "created_at": now, "accepted_at": now})
        if actor.get("followed_by_org"):
            follows.append({"follower_type": "organisation",
                            "follower_id": int(actor["followed_by_org"]),
                            "followed_type": "remote", "followed_id": rid,
                            "status": "accepted", "created_at": now, "accepted_at": now})
    for i in range(0, len(rows), 2000):
        db.session.execute(insert(RemoteActor), rows[i:i + 2000])
    for i in range(0, len(follows), 2000):
        db.session.execute(insert(Follow), follows[i:i + 2000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        db.session.execute(text("SELECT setval(pg_get_serial_sequence('remote_actor', 'id'), "
                                "(SELECT max(id) FROM remote_actor))"))
        db.session.commit()
    return len(rows)


def _publish(title: str, handle: str = "ada", org_handle: str = "collectif") -> dict[str, Any]:
    """Publish a post as a person would; time the transaction that plans its deliveries."""
    from sqlalchemy import func, select

    from hub.accounts.models import Account
    from hub.content.posts.services import PostDraft, create_post
    from hub.extensions import db
    from hub.federation.models import Activity, Delivery
    from hub.orgs.models import Organisation

    author = db.session.scalar(select(Account).where(Account.handle == handle))
    org = db.session.scalar(select(Organisation).where(Organisation.handle == org_handle))
    began = time.perf_counter()
    post = create_post(author, org, PostDraft(title=title, body="Une nouvelle du réseau.",
                                              status="published"))
    db.session.commit()
    planning = time.perf_counter() - began
    committed = time.time()
    activity = db.session.scalars(
        select(Activity).where(Activity.direction == "out", Activity.type == "Create")
        .order_by(Activity.id.desc()).limit(1)).first()
    deliveries = db.session.scalar(select(func.count()).select_from(Delivery)
                                   .where(Delivery.activity_id == activity.id))
    return {"planning_s": planning, "committed": committed, "activity": activity.uri,
            "activity_id": activity.id, "deliveries": deliveries, "post": post.id}


def _counts(activity_id: int = 0, inboxes: list[str] | None = None,
            actors_since: float = 0.0) -> dict[str, Any]:
    """Rows the benchmarks judge: deliveries of one activity by status (to ``inboxes``
    only, when given), inbound activities by status."""
    from sqlalchemy import func, select

    from hub.extensions import db
    from hub.federation.models import Activity, Delivery

    out: dict[str, Any] = {}
    if activity_id:
        query = select(Delivery.status, func.count()).where(
            Delivery.activity_id == activity_id)
        if inboxes is not None:
            query = query.where(Delivery.inbox.in_(inboxes))
        out["deliveries"] = dict(db.session.execute(query.group_by(Delivery.status)).all())
    out["inbound"] = dict(db.session.execute(
        select(Activity.status, func.count()).where(Activity.direction == "in")
        .group_by(Activity.status)).all())
    out["activities"] = db.session.scalar(select(func.count()).select_from(Activity))
    out["locked"] = db.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.direction == "in", Activity.error.like("%database is locked%")))
    if actors_since:
        from datetime import UTC, datetime

        from hub.federation.models import RemoteActor

        since = datetime.fromtimestamp(actors_since, UTC)
        out["actors_fetched"] = db.session.scalar(
            select(func.count()).select_from(RemoteActor).where(RemoteActor.fetched_at > since))
    return out


def _agent_main() -> int:
    from hub import create_app
    from hub.extensions import db

    app = create_app()
    commands = {"owner": _seed_owner, "followers": _seed_followers, "publish": _publish,
                "counts": _counts}
    for line in sys.stdin:
        request = json.loads(line)
        name = request.pop("cmd")
        with app.test_request_context():
            try:
                answer = {"ok": commands[name](**request)}
            except Exception as exc:  # noqa: BLE001 - reported to the bench, which fails
                db.session.rollback()
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                db.session.remove()
        print("@@" + json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--agent"]:
        sys.exit(_agent_main())
