"""Benchmark harness: start an instance, load it, compare each target with a reference.

The machines are shared and noisy (see shared/BENCH.md), so no absolute time is
ever judged: every figure is a ratio to a reference measured in the same run,
in rounds that interleave reference and targets, and the median of the rounds
is what passes or fails.

Two deployments, as in BENCH.md:

- mode A: SQLite in a temporary instance folder, ``maillage web`` (waitress)
  and one ``maillage worker``;
- mode B: a fresh PostgreSQL database (created and dropped here) and Redis,
  ``gunicorn -w 2 hub.wsgi:app`` and two ``maillage worker``.

Load comes from ``wrk`` when it is installed, else from several Python
processes holding keep-alive ``http.client`` connections. Either way the load
generator runs in other processes than the server, as BENCH.md asks.

Environment knobs: ``BENCH_CLIENT=python`` forces the Python client even where wrk
exists; ``BENCH_PG_URL`` and ``BENCH_REDIS_URL`` point mode B elsewhere;
``BENCH_GUNICORN_ARGS`` adds gunicorn options (e.g. ``-k gthread --threads 4``,
whose keep-alive the default sync workers lack) to compare server settings.

Every process started here is started in its own session and stopped by its
process-group id, never by name.
"""

from __future__ import annotations

import contextlib
import html
import http.client
import json
import multiprocessing
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
REFERENCE_PATH = "/healthz"

#: Where mode B creates its throw-away database and finds Redis; override for other hosts.
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

MODES = {
    "A": "SQLite, maillage web (waitress) + 1 worker",
    "B": "PostgreSQL + Redis, gunicorn -w 2 + 2 workers",
}


class BenchError(RuntimeError):
    """A deployment could not be set up; the scenario records it as a failure."""


# -- settings of a run -------------------------------------------------------------------


@dataclass(frozen=True)
class RunConfig:
    """How long to load each target. Quick keeps ``make bench`` under 10 minutes."""

    full: bool = False
    rounds: int = 5
    duration: int = 2  # seconds measured per target and round (wrk takes whole seconds)
    warmup: int = 1  # seconds of load, not counted, before each measurement
    connections: int = 8
    threads: int = 2  # wrk threads
    processes: int = 4  # Python client processes (one connection each)
    client: str = "wrk"

    @classmethod
    def make(cls, full: bool = False) -> RunConfig:
        wanted = os.environ.get("BENCH_CLIENT", "")
        client = "wrk" if shutil.which("wrk") and wanted != "python" else "python"
        if full:
            return cls(full=True, rounds=7, duration=5, warmup=1, client=client)
        return cls(client=client)

    def describe(self) -> str:
        if self.client == "wrk":
            load = f"wrk {self.threads} threads × {self.connections} connections"
        else:
            load = f"Python client, {self.processes} processes × 1 keep-alive connection"
        return f"{load}; {self.rounds} rounds × {self.duration} s (+{self.warmup} s warm-up)"


# -- processes ---------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def maillage_cmd(*args: str) -> list[str]:
    """The console script if the project is installed, else the same entry point via -m."""
    script = BIN / "maillage"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "hub.cli", *args]


def gunicorn_cmd(*args: str) -> list[str]:
    script = BIN / "gunicorn"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "gunicorn", *args]


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group we created, then SIGKILL it if it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)  # pgid == pid: start_new_session=True
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def http_get(port: int, path: str, timeout: float = 10) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "text/html"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


class Deployment:
    """One instance of the app under test: its environment, database and processes."""

    def __init__(self, mode: str, label: str = "bench") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.label = label
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"maillage-{label}-{mode}-"))
        self.instance = self.tmp / "instance"
        self.db_name = ""
        self.queue_name = f"bench_{secrets.token_hex(4)}"
        self.procs: list[tuple[str, subprocess.Popen, Path]] = []
        self.env = self._base_env()

    def _base_env(self) -> dict[str, str]:
        # Nothing of the caller's HUB_* configuration may leak into the instance under test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(
            PYTHONPATH=str(ROOT),
            HUB_ENV="production",
            HUB_INSTANCE_PATH=str(self.instance),
            HUB_BASE_URL=f"http://127.0.0.1:{self.port}",
            HUB_HOST="127.0.0.1",
            HUB_PORT=str(self.port),
            HUB_QUEUE_NAME=self.queue_name,
            HUB_LOG_LEVEL="WARNING",
            HUB_MAIL_BACKEND="file",
        )
        return env

    # context management: always clean up, even when setup fails half-way
    def __enter__(self) -> Deployment:
        try:
            if self.mode == "B":
                self._create_database()
                self._check_redis()
                self.env["HUB_DATABASE_URL"] = f"{PG_URL}/{self.db_name}"
                self.env["HUB_REDIS_URL"] = REDIS_URL
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for _name, proc, _log in reversed(self.procs):
            stop_process(proc)
        self.procs.clear()
        if self.db_name:
            self._drop_database()
        if self.mode == "B":
            self._clean_redis()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # mode B services
    def _admin_dsn(self) -> str:
        return PG_URL.replace("postgresql+psycopg://", "postgresql://", 1) + "/postgres"

    def _create_database(self) -> None:
        import psycopg

        name = f"maillage_{self.label}_{secrets.token_hex(4)}".lower()
        try:
            with psycopg.connect(self._admin_dsn(), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.Error as exc:
            raise BenchError(f"mode B needs PostgreSQL at {PG_URL}: {exc}") from exc
        self.db_name = name

    def _drop_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self._admin_dsn(), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        except psycopg.Error as exc:
            print(f"  warning: could not drop database {self.db_name}: {exc}", file=sys.stderr)
        self.db_name = ""

    def _check_redis(self) -> None:
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
        except redis.RedisError as exc:
            raise BenchError(f"mode B needs Redis at {REDIS_URL}: {exc}") from exc

    def _clean_redis(self) -> None:
        """Remove the keys of our own queue name only: Redis may be shared."""
        import redis

        with contextlib.suppress(redis.RedisError):
            client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
            keys = list(client.scan_iter(match=f"*{self.queue_name}*", count=1000))
            if keys:
                client.delete(*keys)

    # commands and servers
    def run(self, cmd: Sequence[str], timeout: float = 300) -> str:
        """Run a command to completion in the instance's environment; return its stdout."""
        done = subprocess.run(
            list(cmd),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(
                f"{' '.join(cmd[:3])}… exited {done.returncode}:\n"
                f"{(done.stderr or done.stdout)[-3000:]}"
            )
        return done.stdout

    def init(self) -> None:
        self.run(maillage_cmd("init"))

    def spawn(self, name: str, cmd: Sequence[str]) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                list(cmd),
                cwd=ROOT,
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs.append((name, proc, log))
        return proc

    def start(self, workers: int | None = None) -> None:
        """Start web and worker processes as the mode prescribes, and wait for /healthz."""
        if self.mode == "A":
            self.spawn("web", maillage_cmd("web"))
        else:
            bind = f"127.0.0.1:{self.port}"
            extra = shlex.split(os.environ.get("BENCH_GUNICORN_ARGS", ""))
            self.spawn("web", gunicorn_cmd("-w", "2", "-b", bind, *extra, "hub.wsgi:app"))
        count = (1 if self.mode == "A" else 2) if workers is None else workers
        for i in range(count):
            self.spawn(f"worker{i}", maillage_cmd("worker"))
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc, log in self.procs:
                if proc.poll() is not None:
                    raise BenchError(f"{name} exited {proc.returncode}:\n{_tail(log)}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_get(self.port, REFERENCE_PATH, timeout=2)[0] == 200:
                    return
            time.sleep(0.2)
        raise BenchError(
            f"no answer on {REFERENCE_PATH} after {timeout:.0f} s:\n{_tail(self.procs[0][2])}"
        )

    def check_alive(self) -> None:
        for name, proc, log in self.procs:
            if proc.poll() is not None:
                raise BenchError(f"{name} died during the run ({proc.returncode}):\n{_tail(log)}")


# -- load generation ---------------------------------------------------------------------


@dataclass
class Sample:
    """One measurement of one path: throughput of 200 answers, and what went wrong."""

    rps: float
    requests: int
    errors: int
    p50_ms: float | None = None
    p99_ms: float | None = None


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str) -> float | None:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    return float(m.group(1)) * _WRK_UNITS[m.group(2)] if m else None


def parse_wrk(output: str) -> Sample:
    """Read wrk's summary; non-2xx/3xx answers and socket errors count as errors."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if not rps or not total:
        raise BenchError(f"cannot read wrk output:\n{output[-2000:]}")
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(m.group(1))
    if m := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(x) for x in m.groups())
    requests = int(total.group(1))
    ok_share = max(requests - errors, 0) / requests if requests else 0.0
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    return Sample(
        rps=float(rps.group(1)) * ok_share,
        requests=requests,
        errors=errors,
        p50_ms=_wrk_ms(p50.group(1)) if p50 else None,
        p99_ms=_wrk_ms(p99.group(1)) if p99 else None,
    )


def _wrk(port: int, path: str, cfg: RunConfig, seconds: int) -> str:
    url = f"http://127.0.0.1:{port}{path}"
    cmd = [
        "wrk",
        f"-t{cfg.threads}",
        f"-c{cfg.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-H",
        "Accept: text/html",
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        raise BenchError(f"wrk failed: {done.stderr.strip() or done.stdout[-500:]}")
    return done.stdout


def _client_process(
    port: int, path: str, start_at: float, warmup: float, duration: float, out: Any
) -> None:
    """One keep-alive connection hammering ``path``; counts only the measured window."""
    measure_from = start_at + warmup
    end = measure_from + duration
    conn: http.client.HTTPConnection | None = None
    ok = errors = 0
    latencies: list[float] = []
    time.sleep(max(0.0, start_at - time.monotonic()))
    headers = {"Accept": "text/html"}
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
            resp.read()
            good = resp.status == 200
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


def _python_load(port: int, path: str, cfg: RunConfig) -> Sample:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.monotonic() + 0.3  # let every process start before the clock runs
    procs = [
        ctx.Process(
            target=_client_process,
            args=(port, path, start_at, cfg.warmup, cfg.duration, out),
            daemon=True,
        )
        for _ in range(cfg.processes)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=cfg.warmup + cfg.duration + 60) for _ in procs]
    for p in procs:
        p.join(10)
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 3)

    return Sample(
        rps=ok / cfg.duration,
        requests=ok + errors,
        errors=errors,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
    )


def load(port: int, path: str, cfg: RunConfig) -> Sample:
    """Measure ``path`` once: warm-up (discarded), then ``cfg.duration`` seconds counted."""
    if cfg.client == "wrk":
        if cfg.warmup:
            _wrk(port, path, cfg, cfg.warmup)
        return parse_wrk(_wrk(port, path, cfg, cfg.duration))
    return _python_load(port, path, cfg)


# -- scenarios and results ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A path to measure against the reference, and the ratio it must reach."""

    name: str
    path: str
    goal: float
    #: Text the page must contain (checked once before loading): a fast wrong page is no pass.
    expect: str = ""


@dataclass
class Result:
    scenario: str
    mode: str
    name: str
    path: str
    goal: float
    value: float = 0.0
    value_min: float = 0.0
    value_max: float = 0.0
    reference: float = 0.0
    reference_min: float = 0.0
    reference_max: float = 0.0
    ratio: float = 0.0
    passed: bool = False
    errors: int = 0
    unit: str = "req/s"
    note: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)
    reference_samples: list[dict[str, Any]] = field(default_factory=list)


def failed_result(
    scenario: str, mode: str, name: str, note: str, goal: float = 0.0, path: str = ""
) -> Result:
    return Result(scenario=scenario, mode=mode, name=name, path=path, goal=goal, note=note)


def preflight(port: int, target: Target) -> str:
    """Why ``target`` cannot be measured (not a 200, or the wrong page), or ''."""
    try:
        status, body = http_get(port, target.path)
    except (OSError, http.client.HTTPException) as exc:
        return f"GET {target.path}: {exc}"
    if status != 200:
        return f"GET {target.path} answered {status}"
    if target.expect and target.expect not in body and html.escape(target.expect) not in body:
        return f"GET {target.path}: page does not contain {target.expect!r}"
    return ""


def measure(
    scenario: str, dep: Deployment, targets: Sequence[Target], cfg: RunConfig
) -> list[Result]:
    """Interleave the reference with every target for ``cfg.rounds`` rounds; judge medians.

    The order is reversed every other round so no path always runs first (warmest
    caches) or last (after the most garbage).
    """
    ready: list[Target] = []
    results: dict[str, Result] = {}
    for t in targets:
        problem = preflight(dep.port, t)
        results[t.name] = Result(
            scenario=scenario, mode=dep.mode, name=t.name, path=t.path, goal=t.goal, note=problem
        )
        if not problem:
            ready.append(t)
    if not ready:
        return list(results.values())

    paths = [REFERENCE_PATH] + [t.path for t in ready]
    samples: dict[str, list[Sample]] = {p: [] for p in paths}
    for round_no in range(cfg.rounds):
        order = paths if round_no % 2 == 0 else paths[::-1]
        for path in order:
            samples[path].append(load(dep.port, path, cfg))
        dep.check_alive()

    ref = [s.rps for s in samples[REFERENCE_PATH]]
    ref_median = statistics.median(ref)
    for t in ready:
        values = [s.rps for s in samples[t.path]]
        r = results[t.name]
        r.value, r.value_min, r.value_max = statistics.median(values), min(values), max(values)
        r.reference, r.reference_min, r.reference_max = ref_median, min(ref), max(ref)
        r.ratio = r.value / ref_median if ref_median else 0.0
        r.errors = sum(s.errors for s in samples[t.path])
        r.samples = [asdict(s) for s in samples[t.path]]
        r.reference_samples = [asdict(s) for s in samples[REFERENCE_PATH]]
        total = sum(s.requests for s in samples[t.path])
        if r.errors and r.errors > 0.01 * total:
            r.note = f"{r.errors} of {total} requests failed"
        r.passed = r.ratio >= r.goal and not r.note
    return list(results.values())


def _fmt(value: float, low: float, high: float) -> str:
    return f"{value:8.0f} [{low:.0f}–{high:.0f}]"


def print_table(title: str, mode: str, cfg: RunConfig, results: Sequence[Result]) -> None:
    print(f"\n{title} — mode {mode}: {MODES.get(mode, mode)}")
    print(f"  load: {cfg.describe()}")
    header = f"  {'target':<28} {'value':>22} {'reference':>22} {'ratio':>6} {'goal':>7}  result"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        if r.value or r.reference:
            row = (
                f"  {r.name:<28} {_fmt(r.value, r.value_min, r.value_max):>22} "
                f"{_fmt(r.reference, r.reference_min, r.reference_max):>22} "
                f"{r.ratio:6.2f} {'≥ ' + format(r.goal, '.2f'):>7}  {verdict}"
            )
        else:
            row = (
                f"  {r.name:<28} {'—':>22} {'—':>22} {'—':>6} "
                f"{'≥ ' + format(r.goal, '.2f'):>7}  {verdict}"
            )
        print(row)
        if r.note:
            print(f"      {r.note.splitlines()[0][:160]}")
    print(flush=True)


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    began = time.monotonic()
    yield
    print(f"  {label}: {time.monotonic() - began:.1f} s", flush=True)


def write_results(results: Sequence[Result], cfg: RunConfig, name: str = "run") -> Path:
    """Keep the run as JSON so ratios can be compared over time (bench/results/ is ignored)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": asdict(cfg),
        "results": [asdict(r) for r in results],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def summary_line(results: Sequence[Result]) -> str:
    passed = sum(1 for r in results if r.passed)
    return f"{passed} passed, {len(results) - passed} failed"
