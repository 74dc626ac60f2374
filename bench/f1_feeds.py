"""F1: the feed of an organisation with 100,000 posts — cold, and answered with 304.

Data (shared/BENCH.md, row F1): organisation ``big`` holds 100,000 posts of plausible
French text (published over five years, one to three themes each, a few drafts,
members-only or deleted ones the feed must skip), organisation ``small`` holds 100, and
eighteen other organisations a few dozen each. Written in bulk through the models in a
child process (``f1_feeds.py --seed N``) with explicit ids, then ``ANALYZE``; the
instance's content version is then moved once, as the app's writes move it, with a time
more than a second in the past (the feeds send no Last-Modified within the second of a
change).

Targets, each interleaved with R_ping (``/healthz``) in the same rounds:

- ``cold``: ``GET /@big/feed.atom`` without validators — what a reader that keeps no
  ETag gets: a full 200 (the server keeps the body it built for this content version);
  goal ≥ 0.4 × R_ping;
- ``304 big`` / ``304 small``: the same feed asked with ``If-None-Match`` (the ETag of a
  first GET): every answer must be a 304; goal ≥ 0.8 × R_ping. These two ask for
  ``?limit=20`` — the default, the same feed — only so that their URL differs from the
  cold one (the harness keys its samples by path);
- ``304 big / small``: the 304's throughput with 100,000 posts over that with 100,
  ≥ 1 / 1.2 (BENCH.md: "within 1.2×"): the validators must read no item;
- shown, not judged: ``uncached``, where every request adds a unique ``_nc`` value to
  ``?limit=20`` so each one builds the feed from the database (the true render cost,
  for ``big`` and ``small``: it must not grow with the posts either), and, with
  ``--full``, the RSS and JSON Feed documents cold.

Before loading, each mode checks what readers get: the Atom, RSS and JSON documents
parse (feedparser, no bozo), hold the 20 newest public posts newest first, carry an
ETag and a Last-Modified, and the conditional GET answers 304 with an empty body.
Mode B must reach 0.8 × mode A on the judged rows (the scale-out path).

Run alone: ``.venv/bin/python bench/f1_feeds.py [--full] [--mode A|B]``;
``BENCH_F1_POSTS=N`` sets the size of ``big`` by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import harness
from corpus import FrenchText, markdown_and_html
from harness import (
    ROOT,
    BenchError,
    Deployment,
    Result,
    RunConfig,
    Sample,
    Target,
    failed_result,
    print_table,
    summary_line,
    timed,
    write_results,
)
from p2_pages import compare_modes, measure_pages, seed_people, uncached_path

SCENARIO = "F1"
COLD_GOAL = 0.4
NOT_MODIFIED_GOAL = 0.8
FLAT_GOAL = 1 / 1.2  # 304 with 100,000 posts over 304 with 100 posts
SCALE_OUT_GOAL = 0.8  # mode B ≥ 0.8 × mode A
#: Posts of ``big`` in the quick and the full run: BENCH.md's size in both (seeding
#: takes well under a minute), ``BENCH_F1_POSTS`` for runs by hand.
SIZES = {False: 100_000, True: 100_000}
SMALL_POSTS = 100
OTHER_POSTS = 40  # per other organisation
ORGS = 20
ACCOUNTS = 200
BIG, SMALL = "big", "small"
#: Seconds measured per target and round in the quick run (six paths, five rounds).
QUICK_DURATION = 1
ENTRIES = 20  # queries.DEFAULT_LIMIT: what a feed holds when no limit is asked
FEED = "/@{handle}/feed.{fmt}"
#: Rows whose name is judged against mode A in the scale-out comparison.
JUDGED = ("cold atom big", "304 big", "304 small")


def size(cfg: RunConfig) -> int:
    return int(os.environ.get("BENCH_F1_POSTS") or SIZES[cfg.full])


# -- seeding (child process, with the app) -----------------------------------------------


def _rename_orgs(session: Any, now: datetime, names: dict[int, str]) -> None:
    """Give organisations 1 and 2 (seeded as org_000, org_001) the handles big and small."""
    from sqlalchemy import delete, insert, update

    from hub.accounts.models import Handle
    from hub.orgs.models import Organisation

    session.execute(insert(Handle), [{"key": h, "kind": "organisation", "created_at": now}
                                     for h in names.values()])
    old = []
    for org_id, handle in names.items():
        old.append(session.get(Organisation, org_id).handle_key)
        session.execute(update(Organisation).where(Organisation.id == org_id)
                        .values(handle=handle, handle_key=handle))
    session.execute(delete(Handle).where(Handle.key.in_(old)))


def _insert(session: Any, model_or_table: Any, rows: list[dict]) -> None:
    """Bulk insert: executemany on SQLite, COPY on PostgreSQL (as P3 loads it), where
    psycopg's executemany sends one statement per row (the seeding took 30 s, not 14)."""
    from sqlalchemy import insert

    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        for start in range(0, len(rows), 5_000):
            session.execute(insert(model_or_table), rows[start:start + 5_000])
        return
    table = getattr(model_or_table, "__table__", model_or_table)
    # COPY skips the models' Python-side defaults: send the scalar ones with the rows.
    defaults = {c.name: c.default.arg for c in table.columns if c.name not in rows[0]
                and c.default is not None and c.default.is_scalar}
    rows = [{**defaults, **row} for row in rows] if defaults else rows
    columns = list(rows[0])
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def seed(posts_big: int) -> dict:
    """Bulk-insert the organisations and their posts; return what the checks expect."""
    from sqlalchemy import text, update

    from hub.admin.models import InstanceSettings
    from hub.admin.services import ensure_settings
    from hub.content.models import Post, post_tag
    from hub.extensions import db

    rng = random.Random(11)  # noqa: S311 - reproducible data, not secrets
    words = FrenchText(seed=11)
    now = datetime.now(UTC).replace(microsecond=0)
    session = db.session
    people = seed_people(session, rng, now, orgs=ORGS, accounts=ACCOUNTS)
    _rename_orgs(session, now, {1: BIG, 2: SMALL})
    tag_ids, members = list(people["tag_ids"].values()), people["members"]

    plan = [(1, posts_big), (2, SMALL_POSTS)] + [(org_id, OTHER_POSTS)
                                                  for org_id in people["org_ids"][2:]]
    expected: dict[int, list[int]] = {}
    next_id = 0
    total = 0
    for org_id, count in plan:
        rows, links = [], []
        for i in range(count):
            next_id += 1
            # Older for smaller i, with noise: ids and dates roughly agree, not exactly.
            age = (1 - (i + rng.random() * 3) / count) * 5 * 365 * 86400
            published = now - timedelta(seconds=max(age, 0) + 120)
            draft = rng.random() < 0.03
            source, body = markdown_and_html(words.paragraphs(2, 5))
            rows.append({
                "id": next_id, "org_id": org_id, "author_id": rng.choice(members[org_id]),
                "title": words.title(), "summary": words.sentence() if rng.random() < 0.7
                else "", "body_source": source, "body_html": body,
                "visibility": "members" if rng.random() < 0.05 else "public",
                "status": "draft" if draft else "published",
                "published_at": None if draft else published, "timezone": "Europe/Paris",
                "is_pinned": False, "created_at": published, "updated_at": published,
                "deleted_at": now if rng.random() < 0.01 else None})
            links += [{"post_id": next_id, "tag_id": t}
                      for t in rng.sample(tag_ids, rng.randint(1, 3))]
        _insert(session, Post, rows)
        _insert(session, post_tag, links)
        if org_id in (1, 2):
            public = [r for r in rows if r["status"] == "published"
                      and r["visibility"] == "public" and r["deleted_at"] is None]
            public.sort(key=lambda r: (r["published_at"], r["id"]), reverse=True)
            expected[org_id] = [r["id"] for r in public[:ENTRIES]]
        total += count
    session.commit()

    if db.engine.dialect.name == "postgresql":
        for table in ("tag", "account", "organisation", "membership", "post"):
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"))
    # The app moves the content version in the transaction of each public write; bulk
    # inserts do not, so move it once here — more than a second ago, else feeds send no
    # Last-Modified (HTTP dates count whole seconds).
    ensure_settings()
    session.execute(update(InstanceSettings).where(InstanceSettings.id == 1).values(
        content_version=InstanceSettings.content_version + 1,
        content_changed_at=now - timedelta(seconds=5)))
    session.commit()
    session.execute(text("ANALYZE"))  # statistics a live instance would have
    session.commit()
    return {"posts": total, "posts_big": posts_big, "posts_small": SMALL_POSTS,
            "organisations": len(people["org_ids"]),
            "expected": {BIG: expected[1], SMALL: expected[2]}}


def _seed_main(posts_big: int) -> int:
    from hub import create_app

    app = create_app()
    with app.app_context():
        print(json.dumps(seed(posts_big)))
    return 0


def seed_instance(dep: Deployment, posts_big: int) -> dict:
    out = dep.run([sys.executable, str(Path(__file__).resolve()), "--seed", str(posts_big)],
                  timeout=1800)
    return json.loads(out.strip().splitlines()[-1])


# -- conditional load (the harness's load, with If-None-Match, counting 304s) -------------


def _conditional_client(port: int, path: str, headers: dict[str, str], start_at: float,
                        warmup: float, duration: float, out: Any) -> None:
    """harness._client_process with validators; only a 304 counts as a good answer."""
    measure_from, end = start_at + warmup, start_at + warmup + duration
    conn: http.client.HTTPConnection | None = None
    ok = errors = 0
    latencies: list[float] = []
    time.sleep(max(0.0, start_at - time.monotonic()))
    while True:
        began = time.monotonic()
        if began >= end:
            break
        good = False
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            good = resp.status == 304 and not resp.read()
            if resp.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
        finished = time.monotonic()
        if began >= measure_from and finished <= end:
            if good:
                ok += 1
                latencies.append((finished - began) * 1000)
            else:
                errors += 1
    if conn is not None:
        conn.close()
    out.put((ok, errors, latencies))


def _python_conditional(port: int, path: str, headers: dict[str, str],
                        cfg: RunConfig) -> Sample:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.monotonic() + 0.3
    procs = [ctx.Process(target=_conditional_client,
                         args=(port, path, headers, start_at, cfg.warmup, cfg.duration, out),
                         daemon=True)
             for _ in range(cfg.processes)]
    for p in procs:
        p.start()
    results = [out.get(timeout=cfg.warmup + cfg.duration + 60) for _ in procs]
    for p in procs:
        p.join(10)
    latencies = sorted(x for r in results for x in r[2])
    ok, errors = sum(r[0] for r in results), sum(r[1] for r in results)

    def pct(q: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 3) \
            if latencies else None

    return Sample(rps=ok / cfg.duration, requests=ok + errors, errors=errors,
                  p50_ms=pct(0.5), p99_ms=pct(0.99))


def _wrk_conditional(port: int, path: str, headers: dict[str, str], cfg: RunConfig) -> Sample:
    """wrk with the validators; wrk counts a 200 as good too, so ``check`` asks after."""
    def run(seconds: int) -> str:
        cmd = ["wrk", f"-t{cfg.threads}", f"-c{cfg.connections}", f"-d{seconds}s",
               "--timeout", "10s", "--latency"]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        done = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                              text=True, timeout=seconds + 30, check=False)
        if done.returncode != 0:
            raise BenchError(f"wrk failed: {done.stderr.strip() or done.stdout[-500:]}")
        return done.stdout

    if cfg.warmup:
        run(cfg.warmup)
    return harness.parse_wrk(run(cfg.duration))


@contextlib.contextmanager
def conditional_loads(etags: dict[str, str]) -> Iterator[None]:
    """Make ``harness.measure`` send ``If-None-Match`` on the paths of ``etags`` (path →
    ETag) and count only 304s; other paths load as before."""
    original = harness.load

    def load(port: int, path: str, cfg: RunConfig) -> Sample:
        if path not in etags:
            return original(port, path, cfg)
        headers = {"If-None-Match": etags[path]}
        if cfg.client == "wrk":
            return _wrk_conditional(port, path, headers, cfg)
        return _python_conditional(port, path, headers, cfg)

    harness.load = load
    try:
        yield
    finally:
        harness.load = original


# -- checks (harness process) -----------------------------------------------------------


def _get(port: int, path: str, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _entry_ids(fmt: str, body: bytes) -> tuple[list[int], str]:
    """Post ids of the document's entries in order, and what is wrong with it ('' if
    nothing): ids are tag URIs ending in ``:post:<id>``."""
    import feedparser

    if fmt == "json":
        try:
            items = json.loads(body)["items"]
        except (ValueError, KeyError, TypeError) as exc:
            return [], f"not a JSON Feed: {exc}"
        ids = [str(item.get("id", "")) for item in items]
    else:
        parsed = feedparser.parse(body)
        if parsed.bozo:
            return [], f"feedparser: {parsed.bozo_exception}"
        ids = [entry.get("id", "") for entry in parsed.entries]
    posts = [int(i.rsplit(":post:", 1)[1]) for i in ids if ":post:" in i]
    return posts, "" if len(posts) == len(ids) else "entries that are not posts"


def check_feed(port: int, handle: str, fmt: str, expected: list[int],
               query: str = "") -> tuple[str, str]:
    """Check one feed as a reader gets it; return (ETag, problem or '')."""
    path = FEED.format(handle=handle, fmt=fmt) + query
    status, headers, body = _get(port, path)
    if status != 200:
        return "", f"GET {path} answered {status}"
    ids, problem = _entry_ids(fmt, body)
    if problem:
        return "", f"GET {path}: {problem}"
    if ids != expected:
        return "", (f"GET {path}: entries {ids[:5]}… ({len(ids)}), expected the "
                    f"{len(expected)} newest public posts {expected[:5]}…")
    etag = headers.get("etag", "")
    if not etag or "last-modified" not in headers:
        return "", f"GET {path}: no ETag or no Last-Modified ({sorted(headers)})"
    status, _headers, body = _get(port, path, {"If-None-Match": etag})
    if status != 304 or body:
        return "", f"GET {path} with If-None-Match answered {status}, {len(body)} bytes"
    return etag, ""


def check(dep: Deployment, info: dict, paths: dict[str, str]) -> tuple[dict[str, str], str]:
    """Every document readers get, in this mode; return the ETag of each conditional
    path (``paths``: path → handle) and the first problem found ('' if none)."""
    for handle in (BIG, SMALL):
        expected = info["expected"][handle]
        for fmt in ("atom", "rss", "json"):
            _etag, problem = check_feed(dep.port, handle, fmt, expected)
            if problem:
                return {}, problem
        _etag, problem = check_feed(dep.port, handle, "atom", expected,
                                    f"?limit={ENTRIES}&_nc=check")
        if problem:
            return {}, problem
    etags = {}
    for path, handle in paths.items():
        etag, problem = check_feed(dep.port, handle, "atom", info["expected"][handle],
                                   "?" + path.split("?", 1)[1])
        if problem:
            return {}, problem
        etags[path] = etag
    return etags, ""


def still_not_modified(dep: Deployment, etags: dict[str, str]) -> str:
    """After the load: the validators still hold (nothing moved the content version)."""
    for path, etag in etags.items():
        status, _headers, body = _get(dep.port, path, {"If-None-Match": etag})
        if status != 304 or body:
            return f"after the load, GET {path} with If-None-Match answered {status}"
    return ""


# -- measuring ---------------------------------------------------------------------------


def targets_for(cfg: RunConfig) -> tuple[list[Target], dict[str, str]]:
    """The targets, and the conditional paths (path → handle) that get ``If-None-Match``."""
    conditional = {f"{FEED.format(handle=h, fmt='atom')}?limit={ENTRIES}": h
                   for h in (BIG, SMALL)}
    by_handle = {h: p for p, h in conditional.items()}
    targets = [
        Target("cold atom big", FEED.format(handle=BIG, fmt="atom"), COLD_GOAL),
        Target("304 big", by_handle[BIG], NOT_MODIFIED_GOAL),
        Target("304 small", by_handle[SMALL], NOT_MODIFIED_GOAL),
        Target("uncached atom big", uncached_path(
            f"{FEED.format(handle=BIG, fmt='atom')}?limit={ENTRIES}"), 0.0),
        Target("uncached atom small", uncached_path(
            f"{FEED.format(handle=SMALL, fmt='atom')}?limit={ENTRIES}"), 0.0),
    ]
    if cfg.full:
        targets += [Target(f"cold {fmt} big", FEED.format(handle=BIG, fmt=fmt), 0.0)
                    for fmt in ("rss", "json")]
    return targets, conditional


def _ratio_row(mode: str, name: str, top: Result | None, bottom: Result | None, goal: float,
               note: str) -> Result:
    """``top`` over ``bottom``: the median of the ratios of each round, where the two were
    measured one right after the other (the load of the machine changes between rounds
    more than within one)."""
    if top is None or bottom is None or not top.value or not bottom.value:
        return failed_result(SCENARIO, mode, name, "a feed was not measured", goal)
    pairs = [a["rps"] / b["rps"] for a, b in zip(top.samples, bottom.samples, strict=True)
             if b["rps"]]
    ratio = statistics.median(pairs) if pairs else top.value / bottom.value
    return Result(scenario=SCENARIO, mode=mode, name=name, path=top.path, goal=goal,
                  value=top.value, value_min=top.value_min, value_max=top.value_max,
                  reference=bottom.value, reference_min=bottom.value_min,
                  reference_max=bottom.value_max, ratio=ratio, passed=ratio >= goal,
                  note=note if ratio >= goal or not goal else
                  f"a 304 with {top.path.split('/')[1]} costs {1 / ratio:.3f}× one with "
                  f"{bottom.path.split('/')[1]} (allowed 1.2×; median of per-round ratios)")


def judge(mode: str, results: list[Result]) -> list[Result]:
    """Mark the rows shown without a goal; add 304 big / small (judged) and uncached big /
    small (shown)."""
    by_name = {r.name: r for r in results}
    for r in results:
        if not r.goal and not r.note:
            r.note = "shown, not judged"
    return [
        _ratio_row(mode, "304 big / small", by_name.get("304 big"), by_name.get("304 small"),
                   FLAT_GOAL, "value: 304 big req/s; reference: 304 small req/s"),
        _ratio_row(mode, "uncached big / small", by_name.get("uncached atom big"),
                   by_name.get("uncached atom small"), 0.0,
                   "render with 100,000 posts over 100: shown, not judged"),
    ]


def title(cfg: RunConfig) -> str:
    return (f"F1 feed of an organisation with {size(cfg):,} posts (and one with "
            f"{SMALL_POSTS}): cold, and 304")


def run_mode(mode: str, cfg: RunConfig) -> list[Result]:
    try:
        with Deployment(mode, label="f1") as dep:
            with timed("init"):
                dep.init()
            with timed("seed"):
                info = seed_instance(dep, size(cfg))
            print(f"  seeded {info['posts']:,} posts ({info['posts_big']:,} in @{BIG}, "
                  f"{info['posts_small']} in @{SMALL}) in {info['organisations']} "
                  f"organisations", flush=True)
            dep.start()
            targets, conditional = targets_for(cfg)
            etags, problem = check(dep, info, conditional)
            if problem:
                raise BenchError(f"wrong feed: {problem}")
            with timed("measure"), conditional_loads(etags):
                results = measure_pages(SCENARIO, dep, targets, cfg)
            if problem := still_not_modified(dep, etags):
                for r in results:
                    if r.path in etags:
                        r.note, r.passed = problem, False
            results += judge(mode, results)
    except (BenchError, subprocess.TimeoutExpired, OSError) as exc:
        results = [failed_result(SCENARIO, mode, "setup", str(exc), COLD_GOAL)]
    print_table(title(cfg), mode, cfg, results)
    return results


def settings(cfg: RunConfig) -> RunConfig:
    """The run's settings, with 1 s windows in the quick run (F1 stays near 3 minutes)."""
    return cfg if cfg.full else replace(cfg, duration=QUICK_DURATION)


def run(cfg: RunConfig, modes: tuple[str, ...] = ("A", "B")) -> list[Result]:
    cfg = settings(cfg)
    print(f"\n== {title(cfg)}", flush=True)
    results: list[Result] = []
    for mode in modes:
        results += run_mode(mode, cfg)
    judged = [r for r in results if r.name in JUDGED]
    return results + compare_modes(SCENARIO, judged, SCALE_OUT_GOAL)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="longer rounds, RSS and JSON too")
    parser.add_argument("--mode", choices=["A", "B"], action="append",
                        help="mode to run (default: both)")
    args = parser.parse_args(argv)
    cfg = settings(RunConfig.make(full=args.full))
    results = run(cfg, tuple(args.mode or ("A", "B")))
    path = write_results(results, cfg, name="f1")
    print(f"results written to {path.relative_to(ROOT)}")
    print(summary_line(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--seed"]:
        sys.exit(_seed_main(int(sys.argv[2])))
    sys.exit(main())
