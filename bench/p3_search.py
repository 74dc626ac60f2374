"""P3: the search page over 1,000,000 indexed items, newest first and by relevance.

Data (shared/BENCH.md, row P3): a million ``search_document`` rows of plausible French
text (posts, resources, discussions, comments, events, organisations) in 300
organisations. The full-text index is filled the way the app fills it: on SQLite by the
FTS5 triggers on ``search_document``, on PostgreSQL by its ``search_vector`` trigger —
the seeding only inserts rows (in bulk: executemany in one transaction on SQLite, COPY
on PostgreSQL; the GIN index is dropped during the load and created again after it,
which gives the same index faster).

Queries: the most frequent content word (``corpus.FREQUENT_WORD``, in about seven
documents out of ten) and a rare word (in ``corpus.RARE_COUNT`` documents, typed without
its accent). Goals: newest-first ≥ 0.3 × R_ping, relevance ≥ 0.1 × R_ping, and mode B
≥ 0.33 × mode A for each query. The quick run indexes fewer documents (``SIZES``);
``--full`` BENCH.md's million.

A first request slower than ``SCREEN_TIMEOUT`` fails that target without loading it
(and the web process is replaced, so the runaway request does not slow the others).
Requests carry a unique ignored ``_nc`` value, as P2's uncached pages do, so a page
cache could never stand in for the search.

Run alone: ``.venv/bin/python bench/p3_search.py [--full] [--mode A|B]``; by hand,
``BENCH_P3_DOCUMENTS=N`` sets the size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from urllib.parse import quote

from corpus import FREQUENT_WORD, RARE_COUNT, RARE_WORDS, FrenchText, with_word
from harness import (
    ROOT,
    BenchError,
    Deployment,
    Result,
    RunConfig,
    Target,
    failed_result,
    gunicorn_cmd,
    http_get,
    maillage_cmd,
    print_table,
    stop_process,
    summary_line,
    timed,
    write_results,
)
from p1_directory import THEMES
from p2_pages import compare_modes, measure_pages, seed_people, uncached_path

SCENARIO = "P3"
NEWEST_GOAL = 0.3
RELEVANCE_GOAL = 0.1
SCALE_OUT_GOAL = 0.33
SIZES = {False: 200_000, True: 1_000_000}
#: Share of each kind among the documents (organisations: one each, added on top).
KINDS = (("comment", 0.40), ("post", 0.20), ("resource", 0.22), ("discussion", 0.10),
         ("event", 0.08))
COLUMNS = ("id", "kind", "object_id", "org_id", "visibility", "language", "title", "body",
           "themes", "sort_at")
#: A first request slower than this is a failure, not something to load for minutes.
SCREEN_TIMEOUT = 10
RARE = RARE_WORDS[0]


def size(cfg: RunConfig) -> int:
    """The quick or full size, unless ``BENCH_P3_DOCUMENTS`` sets another (for runs by hand)."""
    return int(os.environ.get("BENCH_P3_DOCUMENTS") or SIZES[cfg.full])


def _fold(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c)).lower()


def documents(total: int, org_names: list[str], now: datetime):
    """Yield ``total`` rows (tuples in ``COLUMNS`` order), oldest first, ids from 1.

    Also fills ``documents.facts``: the title of the newest public document with the
    frequent word in its title (the first result of the newest-first search).
    """
    rng = random.Random(3)  # noqa: S311 - reproducible data, not secrets
    words = FrenchText(seed=3)
    slugs = [slug for slug, _label in THEMES]
    kinds = [k for k, _ in KINDS]
    cum_weights = list(accumulate(w for _, w in KINDS))
    rare_at: dict[int, str] = {}
    for word in RARE_WORDS:
        for index in rng.sample(range(len(org_names) + 1, total + 1), RARE_COUNT):
            rare_at.setdefault(index, word)
    object_ids = dict.fromkeys(kinds, 0)
    span = 10 * 365 * 86400
    newest: dict[str, tuple[datetime, str]] = {}
    doc_id = 0
    for org_index, name in enumerate(org_names):  # the organisations' own documents
        doc_id += 1
        yield (doc_id, "organisation", org_index + 1, org_index + 1, "public", "", name,
               f"{name} : documentation, rencontres et plaidoyer.", "",
               now - timedelta(seconds=span))
    while doc_id < total:
        doc_id += 1
        kind = rng.choices(kinds, cum_weights=cum_weights)[0]
        object_ids[kind] += 1
        if kind == "comment":
            title, body = "", words.paragraph(1, 3)
        else:
            title, body = words.title(), words.paragraph(2, 5)
        if doc_id in rare_at:
            body = with_word(body, rare_at[doc_id])
        language = ("fr" if rng.random() < 0.85 else "en") if kind == "resource" else ""
        age = (1 - doc_id / total) * span + rng.uniform(-30, 30) * 86400
        if kind == "event":
            age -= rng.uniform(0, 365) * 86400  # events sort on their start, often ahead
        sort_at = now - timedelta(seconds=age)
        visibility = "members" if rng.random() < 0.05 else "public"
        themes = " ".join(rng.sample(slugs, rng.randint(1, 3))) if kind != "comment" else ""
        row = (doc_id, kind, object_ids[kind], rng.randint(1, len(org_names)), visibility,
               language, title, body, themes, sort_at)
        if visibility == "public" and title and FREQUENT_WORD in title.lower() and (
                not newest or newest[FREQUENT_WORD][0] < sort_at):
            newest[FREQUENT_WORD] = (sort_at, title)
        yield row
    documents.facts = {w: t for w, (_at, t) in newest.items()}  # type: ignore[attr-defined]


def _load_sqlite(engine, rows) -> None:
    """executemany in big transactions; the FTS5 triggers index every row as the app's
    writes do."""
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB
        conn.execute("PRAGMA temp_store = MEMORY")
        sql = (f"INSERT INTO search_document ({', '.join(COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(COLUMNS))})")
        batch = []
        for row in rows:
            batch.append(row[:-1] + (row[-1].strftime("%Y-%m-%d %H:%M:%S.%f"),))
            if len(batch) >= 100_000:
                conn.executemany(sql, batch)
                conn.commit()
                batch.clear()
        if batch:
            conn.executemany(sql, batch)
        conn.commit()
        conn.execute("ANALYZE")
        conn.execute("PRAGMA synchronous = NORMAL")
    finally:
        raw.close()


def _pg_index_definition(cur) -> str:
    cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_search_document_vector'")
    row = cur.fetchone()
    return row[0] if row else ""


def _load_postgresql(engine, rows, streams: int = 2) -> None:
    """COPY, through the app's trigger that computes ``search_vector``, in ``streams``
    parallel connections (the trigger is what costs); the GIN index is built once at the
    end, with the definition the migration gave it."""
    import queue
    import threading

    def copy_from(chunks: queue.Queue, errors: list) -> None:
        try:
            with engine.raw_connection() as raw:
                conn = raw.driver_connection
                with conn.cursor() as cur, cur.copy(
                        f"COPY search_document ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    while (chunk := chunks.get()) is not None:
                        for row in chunk:
                            copy.write_row(row)
                conn.commit()
        except Exception as exc:  # re-raised in the main thread
            errors.append(exc)
            while chunks.get() is not None:  # let the producer finish
                pass

    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            index = _pg_index_definition(cur)
            if index:
                cur.execute("DROP INDEX ix_search_document_vector")
            conn.commit()
            queues = [queue.Queue(maxsize=4) for _ in range(streams)]
            errors: list[Exception] = []
            threads = [threading.Thread(target=copy_from, args=(q, errors)) for q in queues]
            for thread in threads:
                thread.start()
            chunk: list[tuple] = []
            turn = 0
            for row in rows:
                chunk.append(row)
                if len(chunk) >= 2_000:
                    queues[turn % streams].put(chunk)
                    chunk, turn = [], turn + 1
            queues[turn % streams].put(chunk)
            for q in queues:
                q.put(None)
            for thread in threads:
                thread.join()
            if errors:
                raise errors[0]
            cur.execute("SET maintenance_work_mem = '512MB'")
            if index:
                cur.execute(index)
            cur.execute("SELECT setval(pg_get_serial_sequence('search_document', 'id'), "
                        "(SELECT max(id) FROM search_document))")
            conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE search_document")
        conn.autocommit = False
    finally:
        raw.close()


def seed(total: int) -> dict:
    from sqlalchemy import text

    from hub.extensions import db

    rng = random.Random(1)  # noqa: S311 - reproducible data, not secrets
    now = datetime.now(UTC).replace(microsecond=0)
    people = seed_people(db.session, rng, now)
    db.session.commit()
    engine = db.engine
    if engine.dialect.name == "postgresql":
        for table in ("tag", "account", "organisation", "membership"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"))
        db.session.commit()
    began = time.monotonic()
    rows = documents(total, people["org_names"], now)
    if engine.dialect.name == "postgresql":
        _load_postgresql(engine, rows)
    else:
        _load_sqlite(engine, rows)
    return {"documents": total, "seconds": round(time.monotonic() - began, 1),
            "newest_titles": documents.facts}  # type: ignore[attr-defined]


def _seed_main(total: int) -> int:
    from hub import create_app

    app = create_app()
    with app.app_context():
        print(json.dumps(seed(total)))
    return 0


def seed_instance(dep: Deployment, total: int) -> dict:
    out = dep.run([sys.executable, str(Path(__file__).resolve()), "--seed", str(total)],
                  timeout=3600)
    return json.loads(out.strip().splitlines()[-1])


# -- measuring (harness process) ----------------------------------------------------------


def targets_for(info: dict) -> list[Target]:
    rare_typed = _fold(RARE)  # without its accent: the search must fold
    frequent_title = info["newest_titles"].get(FREQUENT_WORD, "")
    # Result titles come highlighted: "Le <mark>projet</mark> commun".
    frequent_title = re.sub(rf"(?i)\b({FREQUENT_WORD}\w*)", r"<mark>\1</mark>", frequent_title)
    targets = []
    for sort, goal in (("newest", NEWEST_GOAL), ("relevance", RELEVANCE_GOAL)):
        targets.append(Target(f"{sort}, frequent «{FREQUENT_WORD}»",
                              uncached_path(f"/search?q={quote(FREQUENT_WORD)}&sort={sort}"),
                              goal,
                              expect=frequent_title if sort == "newest"
                              else f"<mark>{FREQUENT_WORD}"))
        targets.append(Target(f"{sort}, rare «{rare_typed}»",
                              uncached_path(f"/search?q={quote(rare_typed)}&sort={sort}"),
                              goal,
                              expect=f"<mark>{RARE}</mark>"))
    return targets


def restart_web(dep: Deployment) -> None:
    """Replace the web process: a request that timed out on the client goes on burning a
    CPU in the server, which would slow every later measurement of the run."""
    for entry in [e for e in dep.procs if e[0] == "web"]:
        stop_process(entry[1], timeout=5)
        dep.procs.remove(entry)
    if dep.mode == "A":
        dep.spawn("web", maillage_cmd("web"))
    else:
        extra = shlex.split(os.environ.get("BENCH_GUNICORN_ARGS", ""))
        dep.spawn("web", gunicorn_cmd("-w", "2", "-b", f"127.0.0.1:{dep.port}", *extra,
                                      "hub.wsgi:app"))
    dep.wait_ready()


def screen(dep: Deployment, targets: list[Target]) -> tuple[list[Target], list[Result]]:
    """Targets that answer within the client's timeout, and failures for the others
    (reported with their time; the web process is restarted after each)."""
    kept, failed = [], []
    for target in targets:
        began = time.monotonic()
        try:
            http_get(dep.port, target.path, timeout=SCREEN_TIMEOUT)
            kept.append(target)
        except TimeoutError:
            failed.append(failed_result(
                SCENARIO, dep.mode, target.name,
                f"no answer within {SCREEN_TIMEOUT} s: not measured", target.goal,
                target.path))
            restart_web(dep)
        except OSError:  # refused, reset…: measure() reports it in its preflight
            kept.append(target)
        print(f"  first answer to {target.name}: {time.monotonic() - began:.2f} s", flush=True)
    return kept, failed


def title(cfg: RunConfig) -> str:
    return f"P3 search over {size(cfg):,} indexed items (newest first, by relevance)"


def run_mode(mode: str, cfg: RunConfig) -> list[Result]:
    try:
        with Deployment(mode, label="p3") as dep:
            with timed("init"):
                dep.init()
            with timed("seed"):
                info = seed_instance(dep, size(cfg))
            print(f"  indexed {info['documents']:,} documents in {info['seconds']} s",
                  flush=True)
            dep.start()
            targets, failed = screen(dep, targets_for(info))
            with timed("measure"):
                results = measure_pages(SCENARIO, dep, targets, cfg) if targets else []
            results += failed
    except (BenchError, subprocess.TimeoutExpired, OSError) as exc:
        results = [failed_result(SCENARIO, mode, "setup", str(exc), NEWEST_GOAL)]
    print_table(title(cfg), mode, cfg, results)
    return results


def run(cfg: RunConfig, modes: tuple[str, ...] = ("A", "B")) -> list[Result]:
    print(f"\n== {title(cfg)}", flush=True)
    results: list[Result] = []
    for mode in modes:
        results += run_mode(mode, cfg)
    return results + compare_modes(SCENARIO, results, SCALE_OUT_GOAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="BENCH.md's sizes, longer rounds")
    parser.add_argument("--mode", choices=["A", "B"], action="append",
                        help="mode to run (default: both)")
    args = parser.parse_args(argv)
    cfg = RunConfig.make(full=args.full)
    results = run(cfg, tuple(args.mode or ("A", "B")))
    path = write_results(results, cfg, name="p3")
    print(f"results written to {path.relative_to(ROOT)}")
    print(summary_line(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--seed"]:
        sys.exit(_seed_main(int(sys.argv[2])))
    sys.exit(main())
