"""D1–D3: one post fanned out to 10,000 followers on 500 instances, with dead instances,
and with the worker killed mid-way (shared/BENCH.md, rows D1, D2, D3).

Data: organisation ``collectif`` (founded by ``ada`` through the services) is followed by
10,000 remote actors on 500 instances played by the fake fediverse (``fleet.py``, one
loopback address per instance): the first 480 instances have a shared inbox (9,900
followers), the last 20 have none (5 followers each, personal inboxes). One post must
therefore cause exactly 480 + 100 = 580 POSTs. Posts are published through the posts
service in the agent (``fedkit.py``), as a person does; deliveries are sent by the
deployment's worker(s) with HUB_WORKER_THREADS = ``THREADS`` (C, the concurrent sends).

Settings of the deployment beyond the defaults, all printed: HUB_OUTBOUND_ALLOW_PRIVATE
(the fleet is on loopback), HUB_WORKER_THREADS, HUB_JOB_LEASE_SECONDS = 30 and
HUB_SWEEP_INTERVAL = 2 (so D3 recovers within a minute, not the default five; the lease
still exceeds the 10 s delivery time-out).

D1 — rounds alternate the reference and the target:
- ``R_post``: signed POSTs per second to the fleet's inboxes from C threads of one
  process, with the app's own signing and HTTP client (``fleet.post_rate``) — a worker
  without database or queue;
- the target: publish one post; deliveries per second = 580 / (last POST received −
  commit). Goal ≥ 0.6 × R_post at 0 ms; at 50 ms latency ≥ 0.8 × min(R_post, C / RTT),
  with R_post measured at 50 ms as well;
- every round checks exactly 580 POSTs, no duplicate, every one signed, 580 rows done;
- planning (the post's transaction: service, follower query, 580 delivery rows, the
  first jobs queued) ≤ 0.25 s (an absolute goal of BENCH.md; its median is judged).

D2 — the fleet makes 100 instances hang, 25 answer 500, 25 answer 410 (all with a shared
inbox) and 25 answer after 3 s; some of the hanging and failing ones are personal-inbox
instances (5 deliveries a post, so their circuit can open). Judged:
- healthy instances finish within 1.2 × D1's time (ratio D1 time / healthy time ≥ 0.83);
- a dead host gets ≤ 1 request per minute once its circuit is open (requests started
  more than one time-out after its 5th, in any 60 s window, for every dead host that got
  5 — observed for ``OBSERVE`` seconds);
- no more attempts after a 410 on a shared inbox: neither a retry of the same activity
  nor the next post's delivery (a second post is published once the healthy ones are
  done).

D3 (run before D2, whose dead hosts keep their circuits open for minutes) — at 50 ms
latency, a post is published and the worker(s) killed with SIGKILL once a
third of the POSTs arrived, restarted 2 s later: every inbox must get it (580 distinct)
and duplicates ≤ the sends in flight (C × workers). Mode B also restarts Redis mid-run
when this bench started its own ``redis-server`` (never the shared one); else it says
"skipped".

Run alone: ``.venv/bin/python bench/d_federation.py [--full] [--mode A|B]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from fedkit import (
    Agent,
    FleetProcess,
    print_rows,
    restart_workers,
    rsa_pem_pair,
    wait_until,
)
from harness import (
    ROOT,
    BenchError,
    Deployment,
    Result,
    RunConfig,
    failed_result,
    free_port,
    summary_line,
    timed,
    write_results,
)

SCENARIO = "D"
INSTANCES = 500
SHARED = 480
FOLLOWERS = 10_000
PERSONAL_PER_HOST = 5
EXPECTED_POSTS = SHARED + (INSTANCES - SHARED) * PERSONAL_PER_HOST  # 580
THREADS = 8
LEASE_SECONDS = 30
DELIVERY_TIMEOUT = 10  # the default HUB_DELIVERY_TIMEOUT
CIRCUIT_FAILURES = 5  # the default HUB_DELIVERY_CIRCUIT_FAILURES
RTT = 0.050
PLANNING_GOAL_S = 0.25
THROUGHPUT_GOAL = 0.6
LATENCY_GOAL = 0.8
HEALTHY_GOAL = 1 / 1.2
#: Rounds of each D1 variant, seconds of each R_post sample, D2's observation window.
ROUNDS = {False: 3, True: 5}
RPOST_SECONDS = {False: 2.0, True: 4.0}
OBSERVE = {False: 150.0, True: 300.0}
WAIT_DONE = 120.0


def layout(fleet: FleetProcess) -> list[dict[str, str]]:
    """The 10,000 followers: 9,900 on the 480 shared-inbox instances, 5 on each other."""
    actors = []
    spread = FOLLOWERS - (INSTANCES - SHARED) * PERSONAL_PER_HOST
    for host in range(INSTANCES):
        base = fleet.base(host)
        domain = base.removeprefix("http://")
        if host < SHARED:
            count = spread // SHARED + (1 if host < spread % SHARED else 0)
        else:
            count = PERSONAL_PER_HOST
        for n in range(count):
            uri = f"{base}/users/u{host}_{n}"
            actors.append({"uri": uri, "domain": domain, "inbox": f"{uri}/inbox",
                           "shared_inbox": f"{base}/inbox" if host < SHARED else ""})
    return actors


def inboxes(fleet: FleetProcess) -> list[str]:
    shared = [f"{fleet.base(h)}/inbox" for h in range(SHARED)]
    personal = [f"{fleet.base(h)}/users/u{h}_{n}/inbox" for h in range(SHARED, INSTANCES)
                for n in range(PERSONAL_PER_HOST)]
    return shared + personal


def dead_hosts() -> dict[int, str]:
    """D2's misbehaving instances: 20 % hang, 5 % answer 500, 5 % 410 (shared inbox only),
    5 % slow; some hanging and failing ones among the personal-inbox instances."""
    rng = random.Random(7)  # noqa: S311 - a reproducible choice
    personal = list(range(SHARED, INSTANCES))
    shared = list(range(SHARED))
    rng.shuffle(shared)
    behaviours = {h: "hang" for h in personal[:4]}
    behaviours.update({h: "500" for h in personal[4:6]})
    behaviours[personal[6]] = "slow"
    plan = [("hang", 96), ("500", 23), ("410", 25), ("slow", 24)]
    at = 0
    for kind, count in plan:
        behaviours.update({h: kind for h in shared[at:at + count]})
        at += count
    return behaviours


# -- one fan-out -------------------------------------------------------------------------


def fan_out(agent: Agent, fleet: FleetProcess, title: str, expected: int = EXPECTED_POSTS,
            wanted: set[str] | None = None, timeout: float = WAIT_DONE) -> dict[str, Any]:
    """Publish one post and wait until ``expected`` distinct inboxes (or those of
    ``wanted``, host-index/path keys) got it; return the planning time, the elapsed time
    to the last wanted POST, and what the fleet saw."""
    info = agent.ask("publish", title=title)

    def arrived() -> dict[str, Any] | None:
        stats = fleet.stats(info["activity"])
        got = stats["distinct"] if wanted is None else len(wanted & set(stats["hosts"]))
        need = expected if wanted is None else len(wanted)
        return stats if got >= need else None

    done = wait_until(arrived, timeout, every=0.05)
    time.sleep(0.5)  # late duplicates
    stats = fleet.stats(info["activity"])
    hosts = stats["hosts"]
    keys = set(hosts) if wanted is None else wanted & set(hosts)
    last = max((min(hosts[k]) for k in keys), default=info["committed"])
    return {**info, "complete": bool(done), "stats": stats,
            "elapsed": max(last - info["committed"], 1e-6), "received": len(keys)}


def rpost(dep: Deployment, targets: list[str], seconds: float) -> float:
    """The R_post reference, in a child process with the app's client."""
    private, _public = rsa_pem_pair()
    spec = {"inboxes": targets, "threads": THREADS, "seconds": seconds,
            "private_pem": private, "key_id": "http://127.0.0.1/bench#main-key"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "fleet.py"), "--rpost"],
                          input=json.dumps(spec), capture_output=True, text=True, cwd=ROOT,
                          env=dep.env, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise BenchError(f"R_post failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["rate"]


def _row(name: str, mode: str, values: list[float], refs: list[float], goal: float,
         unit: str, note: str = "", ratios: list[float] | None = None) -> Result:
    ratios = ratios if ratios is not None else [v / r for v, r in zip(values, refs,
                                                                      strict=False) if r]
    ratio = statistics.median(ratios) if ratios else 0.0
    return Result(scenario=SCENARIO + name[1], mode=mode, name=name, path="", goal=goal,
                  value=statistics.median(values) if values else 0.0,
                  value_min=min(values, default=0.0), value_max=max(values, default=0.0),
                  reference=statistics.median(refs) if refs else 0.0,
                  reference_min=min(refs, default=0.0), reference_max=max(refs, default=0.0),
                  ratio=ratio, passed=bool(ratios) and ratio >= goal and not note,
                  unit=unit, note=note)


def check_exact(run: dict[str, Any]) -> str:
    """What is wrong with a D1 fan-out ('' if nothing): exactly 580 POSTs, no duplicate."""
    s = run["stats"]
    if run["deliveries"] != EXPECTED_POSTS:
        return f"{run['deliveries']} delivery rows planned, expected {EXPECTED_POSTS}"
    if s["distinct"] != EXPECTED_POSTS or s["posts"] != EXPECTED_POSTS:
        return (f"{s['posts']} POSTs to {s['distinct']} inboxes, expected exactly "
                f"{EXPECTED_POSTS} (no duplicate)")
    if s["unsigned"]:
        return f"{s['unsigned']} POSTs without a Signature header"
    return ""


# -- D1 ----------------------------------------------------------------------------------


def d1(dep: Deployment, agent: Agent, fleet: FleetProcess, cfg: RunConfig
       ) -> tuple[list[Result], float]:
    """D1 at 0 and 50 ms; returns the rows and D1's median time at 0 ms (for D2)."""
    results = []
    targets = inboxes(fleet)
    seconds = RPOST_SECONDS[cfg.full]
    planning: list[float] = []
    problems: list[str] = []
    base_time = 0.0
    for latency in (0, int(RTT * 1000)):
        fleet.configure(latency_ms=latency)
        rates, refs, times = [], [], []
        for n in range(ROUNDS[cfg.full]):
            order = ("ref", "run") if n % 2 == 0 else ("run", "ref")
            for what in order:
                if what == "ref":
                    refs.append(rpost(dep, targets, seconds))
                    continue
                run = fan_out(agent, fleet, f"D1 {latency} ms round {n}")
                dep.check_alive()
                problem = check_exact(run) if run["complete"] else (
                    f"only {run['received']} of {EXPECTED_POSTS} inboxes after "
                    f"{WAIT_DONE:.0f} s")
                if problem:
                    problems.append(problem)
                counts = agent.ask("counts", activity_id=run["activity_id"])["deliveries"]
                if run["complete"] and counts.get("done", 0) != EXPECTED_POSTS:
                    time.sleep(1)
                    counts = agent.ask("counts", activity_id=run["activity_id"])["deliveries"]
                    if counts.get("done", 0) != EXPECTED_POSTS:
                        problems.append(f"delivery rows after the fan-out: {counts}")
                planning.append(run["planning_s"])
                times.append(run["elapsed"])
                rates.append(EXPECTED_POSTS / run["elapsed"])
        note = problems[0] if problems else ""
        if latency == 0:
            base_time = statistics.median(times)
            results.append(_row("D1 deliveries/s, 0 ms", dep.mode, rates, refs,
                                THROUGHPUT_GOAL, "POST/s", note))
        else:
            bound = [min(r, THREADS / RTT) for r in refs]
            row = _row(f"D1 deliveries/s, {latency} ms", dep.mode, rates, bound, LATENCY_GOAL,
                       "POST/s", note)
            row.note = row.note or (f"reference = min(R_post {statistics.median(refs):.0f}, "
                                    f"C/RTT = {THREADS}/{RTT:.3f} s = {THREADS / RTT:.0f})")
            row.passed = row.ratio >= LATENCY_GOAL and not problems
            results.append(row)
        problems = []
    plan = statistics.median(planning)
    results.append(Result(
        scenario="D1", mode=dep.mode, name="D1 planning (s)", path="", goal=1.0,
        value=plan, value_min=min(planning), value_max=max(planning),
        reference=PLANNING_GOAL_S, reference_min=PLANNING_GOAL_S,
        reference_max=PLANNING_GOAL_S, ratio=PLANNING_GOAL_S / plan if plan else 0.0,
        passed=plan <= PLANNING_GOAL_S, unit="s",
        note=f"median of {len(planning)} posts: create_post + commit, 580 rows for "
             f"{FOLLOWERS:,} followers; ratio = goal / value, so ≥ 1 passes"))
    return results, base_time


# -- D2 ----------------------------------------------------------------------------------


def _probe_rate(times: list[float], timeout: float) -> int:
    """Most requests a host got in any 60 s once its circuit had opened: those started
    after its ``CIRCUIT_FAILURES``-th request and the time that request took to fail."""
    times = sorted(times)
    if len(times) < CIRCUIT_FAILURES:
        return 0
    opened = times[CIRCUIT_FAILURES - 1] + timeout + 1
    later = [t for t in times if t > opened]
    return max((sum(1 for u in later if t <= u < t + 60) for t in later), default=0)


def d2(dep: Deployment, agent: Agent, fleet: FleetProcess, cfg: RunConfig,
       base_time: float) -> list[Result]:
    behaviours = dead_hosts()
    fleet.configure(latency_ms=0, behaviours=behaviours, slow_ms=3000)
    healthy = {k for k in _keys(fleet) if int(k.split("/", 1)[0]) not in behaviours}
    observe = OBSERVE[cfg.full]
    began = time.monotonic()
    first = fan_out(agent, fleet, "D2 first", wanted=healthy, timeout=observe)
    dep.check_alive()
    time.sleep(max(0.0, observe - (time.monotonic() - began)))
    gone = [h for h, kind in behaviours.items() if kind == "410"]
    wait_until(lambda: all(per_host_for(fleet.stats(first["activity"]), h) for h in gone),
               60, every=0.5)
    stats = [fleet.stats(first["activity"])]
    # The next post, once every 410 was answered: only the 410 hosts still misbehave.
    revived_at = time.time()
    fleet.configure(latency_ms=0, behaviours={h: "410" for h in gone})
    second = fan_out(agent, fleet, "D2 after 410", wanted=healthy, timeout=60)
    time.sleep(2.0)
    stats.append(fleet.stats(second["activity"]))
    gone_inboxes = [f"{fleet.base(h)}/inbox" for h in gone]
    second_rows = agent.ask("counts", activity_id=second["activity_id"],
                            inboxes=gone_inboxes)["deliveries"]

    results = []
    note = "" if first["complete"] else (
        f"only {first['received']} of {len(healthy)} healthy inboxes after {observe:.0f} s")
    row = _row("D2 healthy time vs D1", dep.mode, [first["elapsed"]], [base_time],
               HEALTHY_GOAL, "s", note, ratios=[base_time / first["elapsed"]])
    if row.passed or not note:
        row.note = row.note or (f"{len(healthy)} healthy inboxes in {first['elapsed']:.1f} s, "
                                f"D1 580 in {base_time:.1f} s; ratio = D1 time / healthy time")
    if not row.passed and not note:
        row.note += (f" — {sum(1 for v in behaviours.values() if v == 'hang')} hanging hosts "
                     f"each hold one of the {THREADS} send slots for {DELIVERY_TIMEOUT} s")
    results.append(row)

    # Circuit breaker: every dead host that got at least CIRCUIT_FAILURES requests of the
    # first post while it was dead (the second post goes out once they answer again).
    per_host: dict[int, list[float]] = {}
    for key, times in stats[0]["hosts"].items():
        per_host.setdefault(int(key.split("/", 1)[0]), []).extend(
            t for t in times if t < revived_at)
    dead = {h: kind for h, kind in behaviours.items() if kind in ("hang", "500")}
    tripped = {h: per_host.get(h, []) for h in dead
               if len(per_host.get(h, [])) >= CIRCUIT_FAILURES}
    worst = max((_probe_rate(t, DELIVERY_TIMEOUT if dead[h] == "hang" else 1)
                 for h, t in tripped.items()), default=0)
    results.append(Result(
        scenario="D2", mode=dep.mode, name="D2 probes/min, open circuit", path="", goal=1.0,
        value=worst, reference=1.0, ratio=(1.0 / worst) if worst else 1.0,
        passed=bool(tripped) and worst <= 1, unit="req/min",
        note=(f"{len(tripped)} dead hosts reached {CIRCUIT_FAILURES} failures; observed "
              f"{observe:.0f} s; value = most requests in 60 s after the circuit opened")
        if tripped else "no dead host reached the circuit threshold: nothing to judge"))

    # 410: attempts after the first 410 answer, per 410 host.
    retries = sum(max(len(per_host_for(stats[0], h)) - 1, 0) for h in gone)
    again = sum(len(per_host_for(stats[1], h)) for h in gone)
    after = retries + again
    results.append(Result(
        scenario="D2", mode=dep.mode, name="D2 attempts after 410", path="", goal=0.0,
        value=after, reference=0.0, ratio=0.0 if after else 1.0, passed=after == 0,
        unit="POSTs",
        note=(f"{len(gone)} shared inboxes answered 410: {retries} retries of the same "
              f"activity, {again} POSTs of the next post (its rows to them: {second_rows})"
              + ("" if not again else "; delivery.py cancels the inbox's pending rows but "
                 "plans the next activity to it again"))))
    fleet.configure(latency_ms=0)
    return results


def per_host_for(stats: dict[str, Any], host: int) -> list[float]:
    return [t for key, times in stats["hosts"].items() if int(key.split("/", 1)[0]) == host
            for t in times]


def _keys(fleet: FleetProcess) -> set[str]:
    """The fleet's "host-index/path" key of every expected inbox."""
    keys = set()
    for inbox in inboxes(fleet):
        rest = inbox.removeprefix("http://")
        address, path = rest.split("/", 1)
        keys.add(f"{_index(address.split(':')[0])}/{path}")
    return keys


def _index(address: str) -> int:
    _, _, third, fourth = address.split(".")
    return int(third) * 250 + int(fourth) - 1


# -- D3 ----------------------------------------------------------------------------------


def d3(dep: Deployment, agent: Agent, fleet: FleetProcess, redis: RedisServer | None
       ) -> list[Result]:
    fleet.configure(latency_ms=int(RTT * 1000))
    info = agent.ask("publish", title="D3 crash")
    workers = sum(1 for n, _p, _l in dep.procs if n.startswith("worker"))
    in_flight = THREADS * workers
    expected = info["deliveries"]
    wait_until(lambda: fleet.stats(info["activity"])["distinct"] >= expected // 3, 60,
               every=0.02)
    at_kill = fleet.stats(info["activity"])["distinct"]
    restart_workers(dep, pause=2.0)
    redis_note = "Redis restart: skipped (mode A has no Redis)"
    if dep.mode == "B":
        if redis is None:
            redis_note = ("Redis restart: skipped (no redis-server of this bench's own; the "
                          "shared Redis is never restarted)")
        else:
            wait_until(lambda: fleet.stats(info["activity"])["distinct"]
                       >= 2 * expected // 3, 60, every=0.05)
            redis.restart()
            redis_note = "Redis restarted once at two thirds"
    done = wait_until(lambda: fleet.stats(info["activity"])["distinct"] >= expected,
                      LEASE_SECONDS * 4, every=0.2)
    # Rows still pending were in flight at the kill: they are sent again once their lease
    # ends, so duplicates are counted only when no row is pending any more.
    settled = wait_until(lambda: not agent.ask("counts", activity_id=info["activity_id"])
                         ["deliveries"].get("pending"), LEASE_SECONDS * 3, every=0.5)
    time.sleep(1.0)
    stats = fleet.stats(info["activity"])
    duplicates = stats["posts"] - stats["distinct"]
    counts = agent.ask("counts", activity_id=info["activity_id"])["deliveries"]
    delivered = stats["distinct"] / expected
    return [
        Result(scenario="D3", mode=dep.mode, name="D3 delivered after SIGKILL", path="",
               goal=1.0, value=stats["distinct"], reference=expected,
               ratio=delivered, passed=bool(done) and delivered >= 1.0, unit="inboxes",
               note=f"killed at {at_kill}/{expected}; rows {counts}; {redis_note}"),
        Result(scenario="D3", mode=dep.mode, name="D3 duplicates", path="", goal=0.0,
               value=duplicates, reference=in_flight,
               ratio=(in_flight / duplicates) if duplicates else 1.0,
               passed=bool(settled) and duplicates <= in_flight, unit="POSTs",
               note=f"allowed: sends in flight = {THREADS} threads × {workers} worker(s)"
               + ("" if settled else "; rows still pending, more duplicates may follow")),
    ]


class RedisServer:
    """A redis-server of this bench (mode B), so that D3 may restart it."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.port = free_port()
        self.proc = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        proc = self.dep.spawn(f"redis-{int(time.time() * 1000)}", [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--dir", str(self.dep.tmp)])
        time.sleep(0.5)
        return proc

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def restart(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(10)
        self.dep.procs = [e for e in self.dep.procs if e[1] is not self.proc]
        self.proc = self._spawn()


# -- a mode --------------------------------------------------------------------------------


def settings() -> dict[str, str]:
    return {"HUB_OUTBOUND_ALLOW_PRIVATE": "1", "HUB_WORKER_THREADS": str(THREADS),
            "HUB_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "HUB_SWEEP_INTERVAL": "2"}


def run_mode(mode: str, cfg: RunConfig) -> list[Result]:
    results: list[Result] = []
    agent: Agent | None = None
    try:
        with Deployment(mode, label="d") as dep:
            dep.env.update(settings())
            redis = None
            if mode == "B" and shutil.which("redis-server"):
                redis = RedisServer(dep)
                dep.env["HUB_REDIS_URL"] = redis.url
            fleet = FleetProcess(dep, INSTANCES)
            with timed("init and seed"):
                dep.init()
                agent = Agent(dep)
                owner = agent.ask("owner")
                agent.ask("followers", org_id=owner["org"], actors=layout(fleet))
            dep.start()
            with timed("D1"):
                d1_rows, base_time = d1(dep, agent, fleet, cfg)
            results += d1_rows
            with timed("D3"):  # before D2, whose dead hosts keep open circuits
                crash = d3(dep, agent, fleet, redis)
            with timed("D2"):
                results += d2(dep, agent, fleet, cfg, base_time)
            results += crash
            agent.close()
            agent = None
    except (BenchError, subprocess.TimeoutExpired, OSError) as exc:
        results.append(failed_result(SCENARIO, mode, "setup", str(exc), 1.0))
    finally:
        if agent is not None:
            agent.close()
    print_rows(title(), mode, cfg, results)
    return results


def title() -> str:
    return (f"D1–D3 one post to {FOLLOWERS:,} followers on {INSTANCES} instances "
            f"({SHARED} with a shared inbox: {EXPECTED_POSTS} POSTs), C = {THREADS}")


def run(cfg: RunConfig, modes: tuple[str, ...] = ("A", "B")) -> list[Result]:
    print(f"\n== {title()}", flush=True)
    print(f"  settings: {settings()}", flush=True)
    results: list[Result] = []
    for mode in modes:
        results += run_mode(mode, cfg)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more rounds, longer D2 window")
    parser.add_argument("--mode", choices=["A", "B"], action="append")
    args = parser.parse_args(argv)
    cfg = RunConfig.make(full=args.full)
    results = run(cfg, tuple(args.mode or ("A", "B")))
    path = write_results(results, cfg, name="d")
    print(f"results written to {path.relative_to(ROOT)}")
    print(summary_line(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
