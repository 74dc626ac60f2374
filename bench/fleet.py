"""The fake fediverse of the federation benchmarks (D1–D3, I1–I2): one asyncio process.

It plays ``--hosts`` remote instances, each on its own loopback address (127.1.x.y, the
same port for all), so the hub's per-host connection pools and circuit breakers see
distinct hosts, as BENCH.md asks. Each instance answers POSTs to any inbox (202 after an
optional latency) or misbehaves as told — ``hang`` (never answers), ``500``, ``410``,
``slow`` — and serves the actor documents it was given (for key fetches). It records
every request: when, which host, which path, which activity id, signed or not.

A control server on 127.0.0.1 (``--control``) sets the behaviour and reads the counts:

- ``POST /config``  ``{"latency_ms": 0, "slow_ms": 3000, "behaviours": {"3": "hang"}}``;
- ``POST /actors``  ``{"/users/a1": {...actor document...}}`` (merged);
- ``POST /reset``   forget the recorded requests;
- ``GET /stats?activity=<id>``  the POSTs of one activity: ``{"posts": n, "distinct": n,
  "unsigned": n, "hosts": {host: [start times]}, "first": t, "last": t}``;
- ``GET /gets``  GET counts by path.

The fleet prints ``ready`` once every address listens. It imports nothing of the app.
``R_post``, the reference of D1, is measured by ``post_rate`` below, in a child process
(the app's own signing and HTTP client, no database): see ``d_federation.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

HANG_SECONDS = 3600


def host_address(index: int) -> str:
    """The loopback address of instance ``index`` (0-based): 127.1.0.1, 127.1.0.2, …"""
    return f"127.1.{index // 250}.{index % 250 + 1}"


class Fleet:
    def __init__(self, hosts: int, port: int) -> None:
        self.hosts = hosts
        self.port = port
        self.index = {host_address(i): i for i in range(hosts)}
        self.latency = 0.0
        self.slow = 3.0
        self.behaviours: dict[int, str] = {}
        self.actors: dict[str, bytes] = {}
        self.reset()

    def reset(self) -> None:
        #: activity id → list of (start time, host index, path, signed)
        self.posts: dict[str, list[tuple[float, int, str, bool]]] = defaultdict(list)
        self.gets: dict[str, int] = defaultdict(int)

    # -- the instances ---------------------------------------------------------------------

    async def serve_instance(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        address = writer.get_extra_info("sockname")[0]
        index = self.index.get(address, -1)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method, path, headers, body, began = request
                if method == "GET":
                    self.gets[path.split("?", 1)[0]] += 1
                    doc = self.actors.get(path.split("?", 1)[0])
                    if doc is None:
                        writer.write(_response(404, b"{}"))
                    else:
                        writer.write(_response(200, doc, "application/activity+json"))
                    await writer.drain()
                    continue
                try:
                    activity = str(json.loads(body).get("id", ""))
                except (ValueError, AttributeError):
                    activity = ""
                self.posts[activity].append((began, index, path,
                                             "signature" in headers))
                behaviour = self.behaviours.get(index, "")
                if behaviour == "hang":
                    # Never answer; end when the client gives up and closes.
                    await reader.read()
                    return
                if behaviour == "slow":
                    await asyncio.sleep(self.slow)
                elif self.latency:
                    await asyncio.sleep(self.latency)
                status = {"500": 500, "410": 410}.get(behaviour, 202)
                writer.write(_response(status, b""))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    # -- control -----------------------------------------------------------------------------

    async def serve_control(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method, target, _headers, body, _began = request
                parts = urlsplit(target)
                answer = self.control(method, parts.path, parse_qs(parts.query), body)
                writer.write(_response(200, json.dumps(answer).encode(), "application/json"))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    def control(self, method: str, path: str, query: dict, body: bytes) -> object:
        if method == "POST" and path == "/config":
            conf = json.loads(body or b"{}")
            self.latency = conf.get("latency_ms", 0) / 1000
            self.slow = conf.get("slow_ms", 3000) / 1000
            self.behaviours = {int(k): v for k, v in conf.get("behaviours", {}).items()}
            return {"ok": True}
        if method == "POST" and path == "/actors":
            for actor_path, doc in json.loads(body).items():
                self.actors[actor_path] = json.dumps(doc).encode()
            return {"ok": True, "actors": len(self.actors)}
        if method == "POST" and path == "/reset":
            self.reset()
            return {"ok": True}
        if path == "/gets":
            return dict(self.gets)
        if path == "/stats":
            activity = query.get("activity", [""])[0]
            rows = self.posts.get(activity, [])
            hosts: dict[str, list[float]] = defaultdict(list)
            for began, index, req_path, _signed in rows:
                hosts[f"{index}{req_path}"].append(began)
            times = [r[0] for r in rows]
            return {"posts": len(rows), "distinct": len(hosts),
                    "unsigned": sum(1 for r in rows if not r[3]),
                    "hosts": hosts, "first": min(times, default=0),
                    "last": max(times, default=0), "total_posts":
                    sum(len(v) for v in self.posts.values())}
        return {"error": f"unknown {method} {path}"}


async def _read_request(reader: asyncio.StreamReader
                        ) -> tuple[str, str, dict[str, str], bytes, float] | None:
    """One HTTP/1.1 request (Content-Length bodies only), or None at end of connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    began = time.time()
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = await reader.readexactly(length) if length else b""
    return method, target, headers, body, began


_REASONS = {200: "OK", 202: "Accepted", 404: "Not Found", 410: "Gone",
            500: "Internal Server Error"}


def _response(status: int, body: bytes, content_type: str = "text/plain") -> bytes:
    head = (f"HTTP/1.1 {status} {_REASONS.get(status, 'X')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: keep-alive\r\n\r\n")
    return head.encode("latin-1") + body


async def main_async(hosts: int, port: int, control: int) -> None:
    fleet = Fleet(hosts, port)
    servers = [await asyncio.start_server(fleet.serve_instance, host_address(i), port,
                                          backlog=256, reuse_address=True)
               for i in range(hosts)]
    servers.append(await asyncio.start_server(fleet.serve_control, "127.0.0.1", control))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


# -- the R_post reference (run in a child process that can import the app) -------------------


def post_rate(inboxes: list[str], threads: int, seconds: float, private_pem: str,
              key_id: str) -> dict[str, float]:
    """Signed POSTs per second to ``inboxes`` (round robin) from ``threads`` threads, with
    the app's own signing and client (``fetch``, a pooled ``requests`` session), as the
    worker sends them — minus the database and the queue."""
    import itertools
    import threading

    from requests.adapters import HTTPAdapter

    from hub.federation.client import fetch, make_session
    from hub.federation.signatures import SignedAuth

    session = make_session(allow_private=True)
    adapter = HTTPAdapter(pool_connections=256, pool_maxsize=32)
    session.mount("http://", adapter)
    auth = SignedAuth(key_id, private_pem, "cavage")
    counter = itertools.count()
    lock = threading.Lock()
    done = [0, 0]
    end = time.monotonic() + seconds

    def loop() -> None:
        ok = bad = 0
        while time.monotonic() < end:
            n = next(counter)
            body = json.dumps({"id": f"urn:rpost:{n}", "type": "Create"}).encode()
            try:
                resp = fetch(session, "POST", inboxes[n % len(inboxes)], timeout=10,
                             max_bytes=256 * 1024, data=body, auth=auth,
                             headers={"Content-Type": "application/activity+json"})
                ok += 200 <= resp.status_code < 300
            except Exception:  # noqa: BLE001 - counted, not raised: a reference run
                bad += 1
        with lock:
            done[0] += ok
            done[1] += bad

    began = time.monotonic()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - began
    return {"rate": done[0] / elapsed, "ok": done[0], "errors": done[1]}


def _rpost_main(args: argparse.Namespace) -> int:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(post_rate(spec["inboxes"], spec["threads"], spec["seconds"],
                               spec["private_pem"], spec["key_id"])))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="fake fediverse for the federation benches")
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control", type=int, default=0)
    parser.add_argument("--rpost", action="store_true",
                        help="measure R_post (spec as JSON on stdin) instead of serving")
    ns = parser.parse_args()
    if ns.rpost:
        sys.exit(_rpost_main(ns))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(ns.hosts, ns.port, ns.control))
