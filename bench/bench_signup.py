"""Sign-up load benchmark: real gunicorn and PostgreSQL on this machine, driven from loopback.

Measures, in one run and against the same gunicorn settings:
  - sign-up POSTs completed per second at saturation (closed loop, fixed duration);
  - sign-up latency percentiles at a fixed arrival rate (open loop: latency counts from the
    moment each request was due, so a slow server cannot hide queueing);
  - a trivial Flask route and /healthz (one SELECT 1) through the same gunicorn settings;
  - raw single-row INSERT ... COMMITs through psycopg into a table shaped like signature:
    the database's own limit for durable one-row transactions here.

Every request goes to 127.0.0.1 only; users, durations and rates are capped. Rate limiting is
on, stored in Redis (--redis-url, a database of its own that the script empties first), and the
server trusts one proxy (TRUSTED_PROXIES=1): every sign-up says it comes from an address of its
own in X-Forwarded-For, as many different people would, so the limiter counts each one in Redis
and holds none of them for review. The script checks that none was held.

    .venv/bin/python bench/bench_signup.py            # about 2 min 15 s: 3 rounds, medians
    .venv/bin/python bench/bench_signup.py --rounds 1 --duration 5 --rate-duration 5
    PY_SPY=.../py-spy .venv/bin/python bench/bench_signup.py --profile /tmp/signup   # where CPU goes

Results and their analysis: bench/README.md, "Sign-up load".
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import redis
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this script ever sends to
CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
MAX_USERS = 256
MAX_SECONDS = 60
MAX_RATE = 1000
PY_SPY = os.environ.get("PY_SPY", "py-spy")  # only for --profile: pip install py-spy


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---- the load generator: keep-alive HTTP/1.1 on loopback, one connection per virtual user


class Connection:
    """A keep-alive connection to 127.0.0.1:port that reconnects once if the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in (1, 2):
            try:
                self._conn.request(method, path, body=body, headers=headers or {})
                response = self._conn.getresponse()
                return response.status, response.headers, response.read()
            except (http.client.HTTPException, ConnectionError):
                self._conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._conn.close()


class VirtualUser:
    """Loads the form once (session cookie and CSRF token), then signs with distinct addresses."""

    addresses = iter(range(1, 1 << 24))  # 10.0.0.1 onwards: one client address per sign-up
    addresses_lock = threading.Lock()

    def __init__(self, port: int, name: str) -> None:
        self.connection = Connection(port)
        self.name = name
        self.sent = 0
        status, headers, body = self.connection.request("GET", "/sign/education")
        if status != 200:
            raise RuntimeError(f"GET /sign/education gave {status}")
        self.cookie = _session_cookie(headers)
        self.token = CSRF.search(body).group(1).decode()

    def sign(self) -> int:
        self.sent += 1
        body = urlencode(
            {
                "csrf_token": self.token,
                "name": "Bench Signer",
                "email": f"{self.name}-{self.sent}@bench.example.org",
                "postcode": "SW1A 1AA",
                "organisation": "neu",
            }
        ).encode()
        with self.addresses_lock:
            n = next(self.addresses)
        address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        status, headers, _ = self.connection.request(
            "POST",
            "/sign/education",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": self.cookie,
                "X-Forwarded-For": address,
            },
        )
        self.cookie = _session_cookie(headers) or self.cookie
        return status


def _session_cookie(headers) -> str:
    cookies = [c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or [] if c.startswith("session=")]
    return cookies[-1] if cookies else ""


@dataclass
class Outcome:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def per_second(self, status: int) -> float:
        """Responses with the expected status (303 for a sign-up, 200 for a GET) per second."""
        return self.statuses.get(status, 0) / self.seconds

    def errors(self, status: int) -> dict[int, int]:
        return {s: n for s, n in self.statuses.items() if s != status}

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")


def closed_loop(users: list, action, seconds: float) -> Outcome:
    """Every user repeats action back to back until the time is up."""
    seconds = min(seconds, MAX_SECONDS)
    lock = threading.Lock()
    outcome = Outcome(seconds=seconds)
    clock: dict[str, float] = {}

    def begin() -> None:
        clock["start"] = time.perf_counter()
        clock["deadline"] = clock["start"] + seconds

    barrier = threading.Barrier(len(users) + 1, action=begin)

    def run(user):
        latencies, statuses = [], {}
        barrier.wait()
        while (began := time.perf_counter()) < clock["deadline"]:
            status = action(user)
            latencies.append(time.perf_counter() - began)
            statuses[status] = statuses.get(status, 0) + 1
        with lock:
            outcome.latencies += latencies
            for status, n in statuses.items():
                outcome.statuses[status] = outcome.statuses.get(status, 0) + n

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    barrier.wait()
    for t in threads:
        t.join(seconds + 60)
    outcome.seconds = time.perf_counter() - clock["start"]
    return outcome


def open_loop(users: list[VirtualUser], rate: float, seconds: float) -> Outcome:
    """Sign-ups due at a fixed rate; each latency runs from when it was due, not when it was sent."""
    rate, seconds = min(rate, MAX_RATE), min(seconds, MAX_SECONDS)
    total = int(rate * seconds)
    lock = threading.Lock()
    next_index = iter(range(total))
    outcome = Outcome(seconds=seconds)
    start = time.perf_counter() + 0.2

    def run(user):
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            status = user.sign()
            latency = time.perf_counter() - due
            with lock:
                outcome.latencies.append(latency)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    outcome.seconds = time.perf_counter() - start
    return outcome


def get_action(path: str):
    def action(connection: Connection) -> int:
        return connection.request("GET", path)[0]

    return action


# ---- the database's own limit


RAW_TABLE = """
CREATE TABLE IF NOT EXISTS bench_raw_signature (
    id BIGSERIAL PRIMARY KEY,
    email_key BYTEA NOT NULL UNIQUE,
    email_domain_key BYTEA NOT NULL,
    email_encrypted BYTEA NOT NULL,
    name_encrypted BYTEA NOT NULL,
    sector_id INTEGER NOT NULL,
    organisation_id INTEGER,
    postcode_outward VARCHAR(4),
    status VARCHAR(16) NOT NULL DEFAULT 'pending',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def committed_statements(dsn: str, connections: int, seconds: float, setup: list[str], statement) -> Outcome:
    """statement(conn) back to back, each its own committed transaction, from several connections,
    after the setup statements: what the database itself can commit here."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in setup:
            conn.execute(sql)
    pool = [psycopg.connect(dsn, autocommit=True) for _ in range(connections)]

    def run(conn) -> int:
        statement(conn)
        return 200

    try:
        return closed_loop(pool, run, seconds)
    finally:
        for conn in pool:
            conn.close()


def raw_inserts(dsn: str, connections: int, seconds: float) -> Outcome:
    """Single-row INSERTs into a table shaped like signature."""
    blob = secrets.token_bytes(120)
    return committed_statements(
        dsn,
        connections,
        seconds,
        [RAW_TABLE],
        lambda conn: conn.execute(
            "INSERT INTO bench_raw_signature (email_key, email_domain_key, email_encrypted, name_encrypted,"
            " sector_id, organisation_id, postcode_outward) VALUES (%s, %s, %s, %s, 1, 1, 'SW1A')",
            (secrets.token_bytes(32), blob[:32], blob, blob[:80]),
        ),
    )


# ---- where the CPU goes: gunicorn workers, PostgreSQL backends, this load generator


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User plus system CPU seconds so far, per process."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def children(pid: int) -> set[int]:
    return {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == pid}


def database_backends(database: str) -> set[int]:
    """PostgreSQL backend processes serving this database (their title names it)."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            title = proc.joinpath("cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres:") and f" {database} ".encode() in title:
            found.add(int(proc.name))
    return found


def _parent(proc: Path) -> int | None:
    try:
        return int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def machine_busy_seconds() -> float:
    """CPU seconds all processes have used since boot (user, nice, system, irq, softirq)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return sum(int(fields[i]) for i in (0, 1, 2, 5, 6)) / TICKS


class CpuMeter:
    """CPU used during a phase by the app's workers, the database's backends, this process, and
    everything else on the machine (other people's work: the measurement's noise)."""

    def __init__(self, master_pid: int | list[int], database: str) -> None:
        masters = master_pid if isinstance(master_pid, list) else [master_pid]
        self.workers = set().union(*(children(pid) for pid in masters))
        self.database = database

    def __enter__(self) -> CpuMeter:
        self.backends = database_backends(self.database)
        self.before = cpu_seconds(self.workers), cpu_seconds(self.backends), time.process_time()
        self.machine_before, self.started = machine_busy_seconds(), time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        backends = self.backends | database_backends(self.database)
        after = cpu_seconds(self.workers), cpu_seconds(backends), time.process_time()
        self.app = sum(after[0].values()) - sum(self.before[0].values())
        self.per_worker = sorted(after[0][pid] - self.before[0].get(pid, 0.0) for pid in after[0])
        self.db = sum(v - self.before[1].get(pid, 0.0) for pid, v in after[1].items())
        self.load_generator = after[2] - self.before[2]
        elapsed = time.monotonic() - self.started
        machine = machine_busy_seconds() - self.machine_before
        # Includes PostgreSQL's background writers: a few percent even on a quiet machine.
        self.others_share = max(0.0, machine - self.app - self.db - self.load_generator) / (elapsed * os.cpu_count())


def py_spy(master_pid: int, seconds: float, out: Path) -> list[subprocess.Popen]:
    """Sample every app worker (only threads holding the GIL: where CPU goes) for a while."""
    return [
        subprocess.Popen(
            [PY_SPY, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100", "--gil"]
            + ["--nonblocking", "--format", "raw", "-o", str(out.with_name(f"{out.name}.{pid}.txt"))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in children(master_pid)
    ]


def summarise_profile(files: list[Path], top: int = 20) -> tuple[list, list]:
    """Inclusive share of samples under each frame of our code; exclusive share by package."""
    ours: dict[str, int] = {}
    packages: dict[str, int] = {}
    total = 0
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            frames, n = stack.split(";"), int(count)
            total += n
            for frame in set(frames):
                if " (app/" in frame:
                    ours[frame] = ours.get(frame, 0) + n
            location = frames[-1].rpartition(" (")[2]
            package = location.split("/", 1)[0] if "/" in location else location.split(".py", 1)[0]
            packages[package] = packages.get(package, 0) + n

    def ranked(counts: dict[str, int]) -> list[tuple[float, str]]:
        return [(100 * n / max(total, 1), name) for name, n in sorted(counts.items(), key=lambda i: -i[1])[:top]]

    return ranked(ours), ranked(packages)


def print_profile(prefix: Path) -> None:
    """What summarise_profile finds in the py-spy files PREFIX.<pid>.txt, printed."""
    ours, packages = summarise_profile(sorted(prefix.parent.glob(f"{prefix.name}.*.txt")))
    print("\nApp workers, share of GIL-holding samples under each of our frames (inclusive):")
    for share, frame in ours:
        print(f"  {share:5.1f}%  {frame}")
    print("By package of the innermost frame (exclusive):")
    for share, package in packages:
        print(f"  {share:5.1f}%  {package}")


# ---- setting up: database, migrations, seed data, gunicorn


def create_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def server_env(database_url: str, redis_url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "INSTANCE_PATH": str(workdir / "instance"),
        "MAIL_SINK_DIR": str(workdir / "mail"),
        "SITE_URL": "http://127.0.0.1",
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": redis_url,
        "TRUSTED_PROXIES": "1",  # the load generator plays the proxy: see the docstring
        "LOG_LEVEL": "WARNING",
        "FLASK_APP": "wsgi",
    }


def flask(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True)


class Gunicorn:
    def __init__(self, module: str, env: dict, workers: int, threads: int) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                module,
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "gthread",
                "--backlog",
                "1024",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                Connection(self.port).request("GET", "/")
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"gunicorn {module} did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def python_speed_ns() -> float:
    """How fast this CPU runs plain Python just now (best of 5): compare runs, machines, VMs."""
    return min(timeit.repeat("sum(range(100))", number=100_000, repeat=5)) / 100_000 * 1e9


def machine() -> str:
    models = [
        line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if "model" in line
    ]
    cpu = next((m for m in models if not m.isdigit()), platform.processor())
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, Linux {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--database", default="care_bench_signup", help="created (dropped first) for this run")
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/13", help="the rate limiter's store; emptied first"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the README's production setup)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--instances", type=int, default=1, help="gunicorn servers sharing the database")
    parser.add_argument("--users", type=int, default=32, help="virtual users at saturation")
    parser.add_argument("--duration", type=float, default=15, help="seconds of saturation per round")
    parser.add_argument("--rate", type=float, default=100, help="sign-ups per second for the latency test")
    parser.add_argument("--rate-duration", type=float, default=10)
    parser.add_argument("--rate-users", type=int, default=64, help="users available to the open loop")
    parser.add_argument("--baseline-duration", type=float, default=5, help="seconds for each baseline")
    parser.add_argument("--raw-connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--profile", type=Path, help="py-spy the app workers in round 1; raw samples to PATH.<pid>.txt")
    args = parser.parse_args()
    if args.profile and not shutil.which(PY_SPY):
        parser.error(f"--profile needs py-spy: pip install py-spy, or set PY_SPY to its path (not found: {PY_SPY})")
    users = min(args.users, MAX_USERS)
    rate_users = min(args.rate_users, MAX_USERS)

    admin = psycopg.conninfo.conninfo_to_dict(args.admin_url)
    dsn = psycopg.conninfo.make_conninfo(**{**admin, "dbname": args.database})
    database_url = (
        make_url(args.admin_url).set(drivername="postgresql+psycopg", database=args.database).render_as_string(False)
    )
    create_database(args.admin_url, args.database)
    with tempfile.TemporaryDirectory(prefix="bench-signup-") as tmp:
        redis.Redis.from_url(args.redis_url).flushdb()
        env = server_env(database_url, args.redis_url, Path(tmp))
        flask(env, "db", "upgrade")
        flask(env, "seed")
        servers = []
        try:
            # --instances: several gunicorn servers on one database, as behind a load balancer;
            # virtual users are spread over them in turn.
            instances = [Gunicorn("wsgi:app", env, args.workers, args.threads) for _ in range(args.instances)]
            servers.extend(instances)
            app = instances[0]
            masters = [server.process.pid for server in instances]
            trivial = Gunicorn("bench.bench_signup_trivial:app", env, args.workers, args.threads)
            servers.append(trivial)
            rounds = []
            created = 0
            for n in range(args.rounds):
                speed = python_speed_ns()
                saturation_users = [
                    VirtualUser(instances[i % len(instances)].port, f"r{n}-sat{i}") for i in range(users)
                ]
                profiling = py_spy(app.process.pid, args.duration - 2, args.profile) if args.profile and n == 0 else []
                with CpuMeter(masters, args.database) as cpu:
                    saturation = closed_loop(saturation_users, VirtualUser.sign, args.duration)
                for process in profiling:
                    process.wait(timeout=60)
                paced_users = [VirtualUser(app.port, f"r{n}-rate{i}") for i in range(rate_users)]
                paced = open_loop(paced_users, args.rate, args.rate_duration)
                connections = [Connection(trivial.port) for _ in range(users)]
                trivial_get = closed_loop(connections, get_action("/"), args.baseline_duration)
                connections = [Connection(app.port) for _ in range(users)]
                healthz = closed_loop(connections, get_action("/healthz"), args.baseline_duration)
                raw = raw_inserts(dsn, args.raw_connections, args.baseline_duration)
                signed = saturation.statuses.get(303, 0)
                created += signed + paced.statuses.get(303, 0)
                figures = {
                    "signups_per_s": saturation.per_second(303),
                    "signup_errors": saturation.errors(303),
                    "saturation_p50_ms": saturation.percentile(50),
                    "saturation_p95_ms": saturation.percentile(95),
                    "app_cpu_ms_per_signup": 1000 * cpu.app / max(signed, 1),
                    "db_cpu_ms_per_signup": 1000 * cpu.db / max(signed, 1),
                    "load_generator_cpu_ms_per_signup": 1000 * cpu.load_generator / max(signed, 1),
                    "paced_rate": args.rate,
                    "paced_completed_per_s": paced.per_second(303),
                    "paced_p50_ms": paced.percentile(50),
                    "paced_p95_ms": paced.percentile(95),
                    "paced_p99_ms": paced.percentile(99),
                    "paced_errors": paced.errors(303),
                    "trivial_get_per_s": trivial_get.per_second(200),
                    "healthz_per_s": healthz.per_second(200),
                    "raw_inserts_per_s": raw.per_second(200),
                    "other_processes_cpu_share": cpu.others_share,
                    "python_sum_range_100_ns": speed,
                    "worker_cpu_seconds": [round(w, 1) for w in cpu.per_worker],
                }
                rounds.append(figures)
                print(f"round {n + 1}: " + json.dumps(figures), flush=True)
            if args.profile:
                print_profile(args.profile)
        finally:
            for server in servers:
                server.stop()
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT count(*) FROM signature").fetchone()[0]
        held = conn.execute("SELECT count(*) FROM signature WHERE status = 'held'").fetchone()[0]
    if held:
        print(f"warning: {held} sign-ups were held for review (rate limited?)", file=sys.stderr)
    if stored != created:
        print(f"warning: {created} sign-ups answered 303 but {stored} signatures were stored", file=sys.stderr)
    report(args, rounds)


def report(args, rounds: list[dict]) -> None:
    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    summary = {
        "machine": machine(),
        "gunicorn": f"{args.instances} x ({args.workers} workers x {args.threads} threads, gthread)",
        "rounds": len(rounds),
        "signups_per_s": median("signups_per_s"),
        "paced_p50_ms": median("paced_p50_ms"),
        "paced_p95_ms": median("paced_p95_ms"),
        "paced_p99_ms": median("paced_p99_ms"),
        "trivial_get_per_s": median("trivial_get_per_s"),
        "healthz_per_s": median("healthz_per_s"),
        "raw_inserts_per_s": median("raw_inserts_per_s"),
        "app_cpu_ms_per_signup": median("app_cpu_ms_per_signup"),
        "db_cpu_ms_per_signup": median("db_cpu_ms_per_signup"),
        "load_generator_cpu_ms_per_signup": median("load_generator_cpu_ms_per_signup"),
        "other_processes_cpu_share": [round(r["other_processes_cpu_share"], 2) for r in rounds],
        "python_sum_range_100_ns": [round(r["python_sum_range_100_ns"]) for r in rounds],
    }
    summary["signups_vs_trivial_get"] = summary["signups_per_s"] / summary["trivial_get_per_s"]
    summary["signups_vs_raw_inserts"] = summary["signups_per_s"] / summary["raw_inserts_per_s"]
    print(json.dumps(summary, indent=2))
    print(
        f"\nSign-ups: {summary['signups_per_s']:.0f}/s at saturation (target 500); "
        f"at {args.rate:.0f}/s p50 {summary['paced_p50_ms']:.1f} ms, p95 {summary['paced_p95_ms']:.1f} ms "
        f"(target < 100), p99 {summary['paced_p99_ms']:.1f} ms.\n"
        f"Trivial Flask GET {summary['trivial_get_per_s']:.0f}/s; /healthz {summary['healthz_per_s']:.0f}/s; "
        f"raw INSERT+COMMIT {summary['raw_inserts_per_s']:.0f}/s. Sign-ups are "
        f"{summary['signups_vs_trivial_get']:.0%} of the trivial GET and "
        f"{summary['signups_vs_raw_inserts']:.0%} of raw inserts.\n"
        f"CPU per sign-up: app {summary['app_cpu_ms_per_signup']:.1f} ms, "
        f"PostgreSQL {summary['db_cpu_ms_per_signup']:.1f} ms, "
        f"load generator {summary['load_generator_cpu_ms_per_signup']:.1f} ms."
    )
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rounds": rounds}, indent=2))


if __name__ == "__main__":
    main()
