"""I1–I2: signed activities posted to the shared inbox, and the worker's processing of the
backlog they leave (shared/BENCH.md, rows I1 and I2).

Data: organisation ``collectif`` follows 200 remote actors known to the instance (rows
with their public keys, as after a first contact) on 50 instances of the fake fediverse
(``fleet.py``), which also serves their actor documents and counts every GET (key
fetches); 100 other remote actors, one per instance, follow ``collectif`` through shared
inboxes (a local post = 100 POSTs). The 200 actors share 20 RSA-2048 keys (generating 200
takes longer than the rest of the setup; verifying costs the same). Activities are
``Create`` of a public ``Note`` by a followed actor: the path that stores remote content.

I1 — rounds alternate R_ping (``GET /healthz``) and the inbox, each sending the same
number of requests from ``PROCESSES`` client processes, one keep-alive connection each:
- ``accepted/s``: ``POST /inbox`` of activities signed (draft-cavage, as Mastodon) just
  before the clock starts; every answer must be a 202; goal ≥ 0.5 × R_ping. The worker is
  stopped during I1 so the backlog stays for I2 (and does not compete);
- key fetches for known actors: GETs of their documents during I1 (goal 0);
- 500 activities from one unknown actor, sent at once by every client: key fetches ≤ 1;
- 200 activities of known actors signed with a wrong key: every one 401 and no row
  written (activities, and remote actors re-fetched — the re-fetch on a failed signature
  is the key-rotation path, which writes the actor row again).

I2 — the worker is started on the backlog (every accepted activity, ≥ 10,000 in the full
run; the quick run has fewer, which the note says):
- processing: activities leaving "pending" per second while the backlog drains (median
  of the polling windows), vs R_ping of I1; goal ≥ 0.15;
- a local post's fan-out time (publish to the 100th POST received) while the backlog
  exists, vs the same fan-out before I1 with no backlog (median of 3); goal within 1.3×.

Deployment settings beyond the defaults (printed): HUB_OUTBOUND_ALLOW_PRIVATE (loopback
fleet), HUB_INBOX_RATE_LIMIT raised (all clients come from 127.0.0.1; the default 1,200 a
minute per address would answer 429), HUB_WORKER_THREADS, lease and sweep as in D.

Run alone: ``.venv/bin/python bench/i_inbox.py [--full] [--mode A|B]``;
``BENCH_I1_ACTIVITIES=N`` sets the number of activities by hand; ``BENCH_DEBUG=1`` prints
the backlog samples and the tail of the worker log in I2.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fedkit import Agent, FleetProcess, actor_document, print_rows, rsa_pem_pair, wait_until
from harness import (
    ROOT,
    BenchError,
    Deployment,
    Result,
    RunConfig,
    failed_result,
    maillage_cmd,
    stop_process,
    summary_line,
    timed,
    write_results,
)

SCENARIO = "I"
ACTORS = 200
ACTOR_HOSTS = 50
KEYS = 20
FOLLOWER_HOSTS = 100
FIRST_FOLLOWER_HOST = ACTOR_HOSTS
UNKNOWN_HOST = ACTOR_HOSTS + FOLLOWER_HOSTS
UNKNOWN_ACTIVITIES = 500
FORGED = 200
PROCESSES = 4
THREADS = 8
ACTIVITY_JSON = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
#: Activities posted in I1 (over all rounds): BENCH.md's 20,000 in the full run.
SIZES = {False: 4_000, True: 20_000}
ROUNDS = {False: 5, True: 5}
ACCEPT_GOAL = 0.5
PROCESS_GOAL = 0.15
FAN_OUT_GOAL = 1 / 1.3
BACKLOG_WANTED = 10_000
DRAIN_CAP = {False: 120.0, True: 600.0}


def size() -> int:
    return int(os.environ.get("BENCH_I1_ACTIVITIES") or 0)


# -- activities ----------------------------------------------------------------------------


def note_create(actor: str, n: int) -> bytes:
    """A Create of a public Note by ``actor``: what a followed Mastodon account sends."""
    note = f"{actor}/statuses/{n}"
    published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {"@context": "https://www.w3.org/ns/activitystreams",
           "id": f"{note}/activity", "type": "Create", "actor": actor,
           "published": published, "to": [PUBLIC], "cc": [f"{actor}/followers"],
           "object": {"id": note, "type": "Note", "attributedTo": actor,
                      "published": published, "to": [PUBLIC], "cc": [f"{actor}/followers"],
                      "url": note, "content": f"<p>Nouvelle n° {n} du réseau : la "
                      f"coopérative partage son rapport sur l'eau et les semences.</p>"}}
    return json.dumps(doc, ensure_ascii=False).encode()


# -- load (client processes, forked) -----------------------------------------------------


def _client(port: int, items: list[tuple[bytes, str, str]] | int, inbox_url: str,
            start_at: float, out: Any) -> None:
    """Send ``items`` (signed here, before the clock) or ``items`` pings, over one
    keep-alive connection; report the statuses and when the last answer came."""
    prepared: list[tuple[str, str, bytes | None, dict[str, str]]] = []
    if isinstance(items, int):
        prepared = [("GET", "/healthz", None, {})] * items
    else:
        from hub.federation.signatures import load_private_key, sign_cavage

        keys: dict[str, Any] = {}
        now = datetime.now(UTC)
        for body, key_id, pem in items:
            key = keys.get(pem) or keys.setdefault(pem, load_private_key(pem))
            headers = {"Content-Type": ACTIVITY_JSON}
            headers.update(sign_cavage("POST", inbox_url, headers, body, key_id, key, now))
            prepared.append(("POST", "/inbox", body, headers))
    statuses: Counter[int] = Counter()
    conn: http.client.HTTPConnection | None = None
    time.sleep(max(0.0, start_at - time.monotonic()))
    for method, path, body, headers in prepared:
        status = 0
        for _try in range(2):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.will_close:
                    conn.close()
                    conn = None
                break
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
        statuses[status] += 1
    out.put((dict(statuses), time.monotonic()))
    if conn is not None:
        conn.close()


def send(port: int, work: list[list[tuple[bytes, str, str]]] | list[int], inbox_url: str
         ) -> tuple[float, Counter[int]]:
    """Run one client process per element of ``work``; return requests/s over the whole
    batch (start to last answer) and the statuses."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    biggest = max((w if isinstance(w, int) else len(w)) for w in work)
    start_at = time.monotonic() + 0.5 + 0.003 * biggest  # signing happens before this
    procs = [ctx.Process(target=_client, args=(port, w, inbox_url, start_at, out), daemon=True)
             for w in work]
    for p in procs:
        p.start()
    answers = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(10)
    statuses: Counter[int] = Counter()
    for got, _end in answers:
        statuses.update({int(k): v for k, v in got.items()})
    elapsed = max(end for _got, end in answers) - start_at
    return sum(statuses.values()) / elapsed, statuses


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


# -- the scenario ------------------------------------------------------------------------------


class Setup:
    """The fleet's actors and keys, as the seeding wrote them."""

    def __init__(self, fleet: FleetProcess) -> None:
        pairs = [rsa_pem_pair() for _ in range(KEYS + 2)]
        self.keys = pairs[:KEYS]
        self.unknown_key = pairs[KEYS]
        self.wrong_key = pairs[KEYS + 1]
        self.actors: list[tuple[str, int]] = []  # (uri, key index)
        docs: dict[str, Any] = {}
        for n in range(ACTORS):
            base = fleet.base(n % ACTOR_HOSTS)
            uri = f"{base}/users/a{n}"
            self.actors.append((uri, n % KEYS))
            docs[f"/users/a{n}"] = actor_document(uri, self.keys[n % KEYS][1], f"{base}/inbox")
        self.unknown = f"{fleet.base(UNKNOWN_HOST)}/users/stranger"
        docs["/users/stranger"] = actor_document(self.unknown, self.unknown_key[1],
                                                 f"{fleet.base(UNKNOWN_HOST)}/inbox")
        fleet.call("POST", "/actors", docs)
        self.known_paths = [f"/users/a{n}" for n in range(ACTORS)]
        self.counter = 0

    def rows(self, org_id: int) -> list[dict[str, Any]]:
        known = [{"uri": uri, "domain": uri.split("/")[2], "inbox": f"{uri}/inbox",
                  "shared_inbox": uri.split("/users/")[0] + "/inbox", "key_id": f"{uri}#main-key",
                  "public_key_pem": self.keys[k][1], "followed_by_org": str(org_id)}
                 for uri, k in self.actors]
        return known

    def followers(self, fleet: FleetProcess) -> list[dict[str, str]]:
        out = []
        for h in range(FIRST_FOLLOWER_HOST, FIRST_FOLLOWER_HOST + FOLLOWER_HOSTS):
            base = fleet.base(h)
            out.append({"uri": f"{base}/users/f{h}", "domain": base.removeprefix("http://"),
                        "inbox": f"{base}/users/f{h}/inbox", "shared_inbox": f"{base}/inbox"})
        return out

    def batch(self, count: int, forged: bool = False) -> list[tuple[bytes, str, str]]:
        """``count`` new activities by the known actors, round robin."""
        items = []
        for _ in range(count):
            self.counter += 1
            uri, k = self.actors[self.counter % ACTORS]
            pem = self.wrong_key[0] if forged else self.keys[k][0]
            items.append((note_create(uri, self.counter), f"{uri}#main-key", pem))
        return items

    def unknown_batch(self, count: int) -> list[tuple[bytes, str, str]]:
        items = []
        for _ in range(count):
            self.counter += 1
            items.append((note_create(self.unknown, self.counter), f"{self.unknown}#main-key",
                          self.unknown_key[0]))
        return items


def fan_out_time(agent: Agent, fleet: FleetProcess, title: str, timeout: float
                 ) -> tuple[float, bool]:
    info = agent.ask("publish", title=title)
    done = wait_until(lambda: fleet.stats(info["activity"])["distinct"] >= info["deliveries"],
                      timeout, every=0.05)
    stats = fleet.stats(info["activity"])
    return max(stats["last"] - info["committed"], 1e-6), bool(done)


def i1(dep: Deployment, agent: Agent, fleet: FleetProcess, setup: Setup, cfg: RunConfig
       ) -> tuple[list[Result], list[float], int]:
    total = size() or SIZES[cfg.full]
    rounds = ROUNDS[cfg.full]
    per_round = total // rounds
    inbox_url = f"http://127.0.0.1:{dep.port}/inbox"
    gets_before = fleet.gets()
    refs, rates, problems = [], [], []
    accepted = 0
    for n in range(rounds):
        order = ("ping", "inbox") if n % 2 == 0 else ("inbox", "ping")
        for what in order:
            if what == "ping":
                rate, statuses = send(dep.port, [per_round // PROCESSES] * PROCESSES, "")
                refs.append(rate)
                bad = sum(v for k, v in statuses.items() if k != 200)
            else:
                rate, statuses = send(dep.port, split(setup.batch(per_round), PROCESSES),
                                      inbox_url)
                rates.append(rate)
                accepted += statuses.get(202, 0)
                bad = sum(v for k, v in statuses.items() if k != 202)
            if bad:
                problems.append(f"{what}: statuses {dict(statuses)}")
        dep.check_alive()
    gets = fleet.gets()
    known_fetches = sum(gets.get(p, 0) - gets_before.get(p, 0) for p in setup.known_paths)
    results = []
    row = Result(scenario="I1", mode=dep.mode, name="I1 accepted/s", path="/inbox",
                 goal=ACCEPT_GOAL, value=statistics.median(rates), value_min=min(rates),
                 value_max=max(rates), reference=statistics.median(refs),
                 reference_min=min(refs), reference_max=max(refs), unit="req/s",
                 note=problems[0] if problems else
                 f"{accepted:,} activities accepted in {rounds} rounds of {per_round:,}")
    row.ratio = statistics.median([a / b for a, b in zip(rates, refs, strict=True)])
    row.passed = row.ratio >= ACCEPT_GOAL and not problems
    results.append(row)
    results.append(Result(
        scenario="I1", mode=dep.mode, name="I1 key fetches, known", path="", goal=0.0,
        value=known_fetches, reference=0, ratio=1.0 if not known_fetches else 0.0,
        passed=known_fetches == 0, unit="GETs",
        note=f"GETs of the {ACTORS} known actors' documents during the rounds"))

    # 500 activities from one unknown actor, all clients at once.
    before = fleet.gets().get("/users/stranger", 0)
    _rate, statuses = send(dep.port, split(setup.unknown_batch(UNKNOWN_ACTIVITIES), PROCESSES),
                           inbox_url)
    fetched = fleet.gets().get("/users/stranger", 0) - before
    accepted += statuses.get(202, 0)
    results.append(Result(
        scenario="I1", mode=dep.mode, name="I1 key fetches, unknown", path="", goal=1.0,
        value=fetched, reference=1, ratio=(1 / fetched) if fetched else 1.0,
        passed=fetched <= 1 and statuses.get(202, 0) == UNKNOWN_ACTIVITIES, unit="GETs",
        note=f"{UNKNOWN_ACTIVITIES} activities of one unknown actor from {PROCESSES} clients "
             f"at once: statuses {dict(statuses)}"))

    # Forged: the right key id, the wrong key.
    counts = agent.ask("counts", actors_since=time.time())
    gets_before = fleet.gets()
    since = time.time()
    _rate, statuses = send(dep.port, split(setup.batch(FORGED, forged=True), PROCESSES),
                           inbox_url)
    after = agent.ask("counts", actors_since=since)
    refetches = sum(fleet.gets().get(p, 0) - gets_before.get(p, 0) for p in setup.known_paths)
    stored = after["activities"] - counts["activities"]
    rewritten = after["actors_fetched"]
    refused = statuses.get(401, 0)
    results.append(Result(
        scenario="I1", mode=dep.mode, name="I1 forged refused, no write", path="",
        goal=1.0, value=refused, reference=FORGED, ratio=refused / FORGED,
        passed=refused == FORGED and stored == 0 and rewritten == 0, unit="401s",
        note=(f"statuses {dict(statuses)}; activity rows written: {stored}; remote actor rows "
              f"re-fetched and rewritten: {rewritten} ({refetches} key GETs: a failed "
              f"signature re-fetches the key once, for key rotation)")))
    return results, refs, accepted


def i2(dep: Deployment, agent: Agent, fleet: FleetProcess, refs: list[float],
       unloaded: list[float], cfg: RunConfig) -> list[Result]:
    backlog = agent.ask("counts")["inbound"].get("pending", 0)
    workers = 1 if dep.mode == "A" else 2
    started = time.monotonic()
    for i in range(workers):
        dep.spawn(f"worker-i2-{i}", maillage_cmd("worker"))
    samples: list[tuple[float, int]] = [(started, backlog)]
    fan_out: dict[str, Any] = {"time": 0.0, "done": False}

    def loaded_fan_out(other: Agent) -> None:
        fan_out["time"], fan_out["done"] = fan_out_time(other, fleet, "I2 loaded",
                                                        DRAIN_CAP[cfg.full])

    # The unloaded fan-outs ran with a worker already started: the loaded one is published
    # once the new worker is at work on the backlog (its start-up, a second or more of
    # imports, is not the backlog's doing), then waited for in a thread, with an agent of
    # its own, while this thread follows the backlog.
    at_work = started + 30
    while time.monotonic() < at_work:
        time.sleep(0.1)
        pending = agent.ask("counts")["inbound"].get("pending", 0)
        if pending < backlog:
            samples.append((time.monotonic(), pending))
            break
    other = Agent(dep)
    try:
        thread = threading.Thread(target=loaded_fan_out, args=(other,))
        thread.start()
        deadline = started + DRAIN_CAP[cfg.full]
        while time.monotonic() < deadline:
            time.sleep(1.0)
            pending = agent.ask("counts")["inbound"].get("pending", 0)
            samples.append((time.monotonic(), pending))
            if pending == 0:
                break
        thread.join(DRAIN_CAP[cfg.full])
    finally:
        other.close()
    final_counts = agent.ask("counts")
    final, locked = final_counts["inbound"], final_counts["locked"]
    if os.environ.get("BENCH_DEBUG"):
        print("  samples:", [(round(t - started, 1), p) for t, p in samples])
        for name, _proc, log in dep.procs:
            if name.startswith("worker"):
                print(log.read_text(errors="replace")[-4000:])
    windows = [(p0 - p1) / (t1 - t0) for (t0, p0), (t1, p1)
               in zip(samples, samples[1:], strict=False) if t1 > t0]
    active = [w for w in windows if w > 0] or [0.0]
    drained = samples[0][1] - samples[-1][1]
    elapsed = samples[-1][0] - samples[0][0]
    rate = drained / elapsed if elapsed else 0.0
    ref = statistics.median(refs)
    small = (f"; backlog {backlog:,} < {BACKLOG_WANTED:,} (quick size)"
             if backlog < BACKLOG_WANTED else "")
    results = [Result(
        scenario="I2", mode=dep.mode, name="I2 processed/s", path="", goal=PROCESS_GOAL,
        value=rate, value_min=min(active), value_max=max(active), reference=ref,
        reference_min=min(refs), reference_max=max(refs), ratio=rate / ref if ref else 0.0,
        passed=rate / ref >= PROCESS_GOAL if ref else False, unit="act/s",
        note=(f"{drained:,} of {backlog:,} processed in {elapsed:.0f} s by {workers} worker(s) × "
              f"{THREADS} threads; statuses now {final}"
              + (f"; {locked} postponed after 'database is locked'" if locked else "")
              + small))]
    base = statistics.median(unloaded)
    loaded = fan_out.get("time", 0.0)
    done = fan_out.get("done", False)
    ratio = base / loaded if loaded else 0.0
    results.append(Result(
        scenario="I2", mode=dep.mode, name="I2 fan-out under backlog", path="",
        goal=FAN_OUT_GOAL, value=loaded, reference=base, reference_min=min(unloaded),
        reference_max=max(unloaded), value_min=loaded, value_max=loaded, ratio=ratio,
        passed=done and ratio >= FAN_OUT_GOAL, unit="s",
        note=(f"100 POSTs with {backlog:,} activities waiting vs without (ratio = unloaded / "
              f"loaded){'' if done else '; not complete within the cap'}"
              + small)))
    return results


def settings() -> dict[str, str]:
    return {"HUB_OUTBOUND_ALLOW_PRIVATE": "1", "HUB_INBOX_RATE_LIMIT": "1000000 per minute",
            "HUB_WORKER_THREADS": str(THREADS), "HUB_JOB_LEASE_SECONDS": "30",
            "HUB_SWEEP_INTERVAL": "2"}


def stop_workers(dep: Deployment) -> None:
    for entry in [e for e in dep.procs if e[0].startswith("worker")]:
        stop_process(entry[1])
        dep.procs.remove(entry)


def run_mode(mode: str, cfg: RunConfig) -> list[Result]:
    results: list[Result] = []
    agent: Agent | None = None
    try:
        with Deployment(mode, label="i") as dep:
            dep.env.update(settings())
            fleet = FleetProcess(dep, UNKNOWN_HOST + 1)
            with timed("init and seed"):
                dep.init()
                setup = Setup(fleet)
                agent = Agent(dep)
                owner = agent.ask("owner")
                agent.ask("followers", org_id=0, actors=setup.rows(owner["org"]))
                agent.ask("followers", org_id=owner["org"], actors=setup.followers(fleet))
            dep.start()
            unloaded = []
            for n in range(3):
                elapsed, done = fan_out_time(agent, fleet, f"I2 unloaded {n}", 60)
                if not done:
                    raise BenchError("an unloaded fan-out did not complete in 60 s")
                unloaded.append(elapsed)
            stop_workers(dep)
            with timed("I1"):
                rows, refs, _accepted = i1(dep, agent, fleet, setup, cfg)
            results += rows
            with timed("I2"):
                results += i2(dep, agent, fleet, refs, unloaded, cfg)
            agent.close()
            agent = None
    except (BenchError, subprocess.TimeoutExpired, OSError) as exc:
        results.append(failed_result(SCENARIO, mode, "setup", str(exc), 1.0))
    finally:
        if agent is not None:
            with contextlib.suppress(Exception):
                agent.close()
    print_rows(title(cfg), mode, cfg, results)
    return results


def title(cfg: RunConfig) -> str:
    total = size() or SIZES[cfg.full]
    return (f"I1–I2 {total:,} signed activities from {ACTORS} known actors to the shared "
            f"inbox, then the backlog; {PROCESSES} client processes")


def run(cfg: RunConfig, modes: tuple[str, ...] = ("A", "B")) -> list[Result]:
    print(f"\n== {title(cfg)}", flush=True)
    print(f"  settings: {settings()}", flush=True)
    results: list[Result] = []
    for mode in modes:
        results += run_mode(mode, cfg)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="20,000 activities")
    parser.add_argument("--mode", choices=["A", "B"], action="append")
    args = parser.parse_args(argv)
    cfg = RunConfig.make(full=args.full)
    results = run(cfg, tuple(args.mode or ("A", "B")))
    path = write_results(results, cfg, name="i")
    print(f"results written to {path.relative_to(ROOT)}")
    print(summary_line(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
