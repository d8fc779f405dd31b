"""The whole surge, end to end, in one run: sign, mail delivered, confirm from the link, counts polled.

Real parts on this machine: gunicorn running the app (bench/wsgi_counts.py: the real app plus a
trivial route on the same server), PostgreSQL, Redis for rate limits (on, with one client
address per sign-up through the trusted-proxy header), K `flask mail worker` processes, and an
aiosmtpd sink in a process of its own that reads each confirmation link out of the email.

People arrive at a fixed rate (open loop) for a while. Each signs (POST /sign/education); the
worker mails them; the sink hands their link to a "confirmer", who POSTs the confirmation as
the page would; meanwhile 1,000 simulated widget viewers poll /api/v1/counts every 15 s with
their ETag, and a watcher polls it every 100 ms to see when each confirmation shows. Twice in
the surge, /api/v1/counts and then the trivial route are loaded flat out for a few seconds,
so their throughputs compare under the same load.

Reports: people confirmed per second sustained, the mail and confirmation backlogs every
second, p50/p95 of each step (sign, sign-to-inbox, confirm, confirm-to-count), counts vs the
trivial route; and checks that nothing was lost: signatures stored = sign-up 303s, emails
delivered = signatures (each once), counted = confirmed = confirm 303s.

    .venv/bin/python bench/bench_surge.py                      # 150 people/s for 30 s: about 1 min 30 s
    .venv/bin/python bench/bench_surge.py --rate 250 --duration 20

Results: bench/README.md, "The whole surge".
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import redis
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mail import SinkProcess  # noqa: E402  (the SMTP sink)
from bench_signup import (  # noqa: E402  (the shared load generator, meters and set-up)
    CSRF,
    HOST,
    ROOT,
    Connection,
    CpuMeter,
    Gunicorn,
    VirtualUser,
    _session_cookie,
    closed_loop,
    create_database,
    flask,
    get_action,
    machine,
    python_speed_ns,
    server_env,
)

VIEWERS = 1000
POLL_SECONDS = 15  # COUNT_POLL_SECONDS: how often an embedded widget asks


# ---- the sink: bench_mail's aiosmtpd process, writing each message's arrival time, recipient and link


class Sink(SinkProcess):
    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, links=True)

    def tail(self, into: queue.Queue, stop: threading.Event) -> None:
        """Hand each received message to the confirmers as (arrival time, recipient, link)."""
        with self.path.open() as file:
            pending = ""
            while not stop.is_set():
                chunk = file.read()
                if not chunk:
                    time.sleep(0.01)
                    continue
                pending += chunk
                *lines, pending = pending.split("\n")
                for line in lines:
                    arrived, rcpt, link = line.split(" ")
                    into.put((float(arrived), rcpt, link))


# ---- the people


class Journeys:
    """Every step's times, keyed by email address; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.signed: dict[str, float] = {}  # email -> when its 303 came back
        self.sign_latency: list[float] = []
        self.sign_statuses: dict[int, int] = {}
        self.mailed: dict[str, float] = {}
        self.links_missing = 0
        self.confirm_done: list[float] = []
        self.confirm_latency: list[float] = []
        self.confirm_statuses: dict[int, int] = {}

    def count(self, table: dict, status: int) -> None:
        table[status] = table.get(status, 0) + 1


def sign_arrivals(users: list[VirtualUser], rate: float, seconds: float, journeys: Journeys) -> None:
    """People arrive at a fixed rate; each latency counts from when they were due (open loop)."""
    total = int(rate * seconds)
    next_index = iter(range(total))
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def run(user: VirtualUser) -> None:
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            status = user.sign()
            done = time.perf_counter()
            address = f"{user.name}-{user.sent}@bench.example.org"
            with journeys.lock:
                journeys.count(journeys.sign_statuses, status)
                journeys.sign_latency.append(done - due)
                if status == 303:
                    journeys.signed[address] = time.time()

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)


class Confirmer(threading.Thread):
    """Takes links from the sink and confirms them as the confirmation page would."""

    def __init__(self, port: int, links: queue.Queue, journeys: Journeys, fields: dict, stop: threading.Event):
        super().__init__(daemon=True)
        self.connection = Connection(port)
        self.links, self.journeys, self.fields, self.stop_event = links, journeys, fields, stop
        self.cookie = self.token = None

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                arrived, rcpt, link = self.links.get(timeout=0.1)
            except queue.Empty:
                continue
            with self.journeys.lock:
                self.journeys.mailed[rcpt] = arrived
                if link == "-":
                    self.journeys.links_missing += 1
                    continue
            if self.token is None:  # open one confirmation page for a session and its form token
                status, headers, body = self.connection.request("GET", f"/confirm/{link}")
                self.cookie, self.token = _session_cookie(headers), CSRF.search(body).group(1).decode()
            began = time.perf_counter()
            body = urlencode({"csrf_token": self.token, "name": "Bench Signer", **self.fields}).encode()
            status, headers, _ = self.connection.request(
                "POST",
                f"/confirm/{link}",
                body,
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie},
            )
            self.cookie = _session_cookie(headers) or self.cookie
            with self.journeys.lock:
                self.journeys.count(self.journeys.confirm_statuses, status)
                self.journeys.confirm_latency.append(time.perf_counter() - began)
                if status == 303:
                    self.journeys.confirm_done.append(time.time())


class Viewers(threading.Thread):
    """1,000 embedded widgets, each asking for the counts every POLL_SECONDS with its ETag."""

    def __init__(self, port: int, stop: threading.Event, threads: int = 16) -> None:
        super().__init__(daemon=True)
        self.port, self.stop_event, self.threads = port, stop, threads
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []
        self.lock = threading.Lock()

    def run(self) -> None:
        started = time.perf_counter()
        etags: dict[int, str] = {}

        def poller(k: int) -> None:
            connection = Connection(self.port)
            polls = 0
            while not self.stop_event.is_set():
                viewer = (polls * self.threads + k) % VIEWERS
                due = started + (polls * self.threads + k) * POLL_SECONDS / VIEWERS
                polls += 1
                time.sleep(max(0.0, due - time.perf_counter()))
                headers = {"If-None-Match": etags[viewer]} if viewer in etags else {}
                status, response_headers, _ = connection.request("GET", "/api/v1/counts", headers=headers)
                if status == 200:
                    etags[viewer] = response_headers.get("ETag", "")
                with self.lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    self.latencies.append(time.perf_counter() - due)

        workers = [threading.Thread(target=poller, args=(k,), daemon=True) for k in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()


class Watcher(threading.Thread):
    """Polls the total every 100 ms, as a person refreshing would: when does a confirmation show?"""

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.connection, self.stop_event = Connection(port), stop
        self.seen: list[tuple[float, int]] = []

    def run(self) -> None:
        while not self.stop_event.is_set():
            status, _, body = self.connection.request("GET", "/api/v1/counts")
            if status == 200:
                self.seen.append((time.time(), json.loads(body)["total"]))
            time.sleep(0.1)


def visibility_lags(confirmed_at: list[float], seen: list[tuple[float, int]], before: int) -> list[float]:
    """For the k-th confirmation to complete, how long until the total reached before + k."""
    lags, j = [], 0
    for k, done in enumerate(sorted(confirmed_at), start=1):
        while j < len(seen) and seen[j][1] < before + k:
            j += 1
        if j == len(seen):
            break
        lags.append(max(0.0, seen[j][0] - done))
    return lags


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="care_bench_surge")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="emptied first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the README's production setup)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--mail-workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=150, help="people arriving per second")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--signers", type=int, default=64)
    parser.add_argument("--confirmers", type=int, default=32)
    parser.add_argument("--probe-seconds", type=float, default=3, help="each flat-out counts / trivial probe")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    admin = psycopg.conninfo.conninfo_to_dict(args.admin_url)
    dsn = psycopg.conninfo.make_conninfo(**{**admin, "dbname": args.database})
    database_url = (
        make_url(args.admin_url).set(drivername="postgresql+psycopg", database=args.database).render_as_string(False)
    )
    create_database(args.admin_url, args.database)
    redis.Redis.from_url(args.redis_url).flushdb()
    stop = threading.Event()
    journeys = Journeys()
    with tempfile.TemporaryDirectory(prefix="bench-surge-") as tmp:
        sink = Sink(Path(tmp))
        env = server_env(database_url, args.redis_url, Path(tmp))
        env.update({"MAIL_SERVER": HOST, "MAIL_PORT": str(sink.port), "LOG_LEVEL": "WARNING"})
        flask(env, "db", "upgrade")
        flask(env, "seed")
        with psycopg.connect(dsn) as conn:
            sector = conn.execute("SELECT id FROM sector WHERE slug = 'education'").fetchone()[0]
            union = conn.execute("SELECT id FROM organisation WHERE slug = 'neu'").fetchone()[0]
        fields = {"shown_sector": sector, "shown_union": union, "shown_postcode": "SW1A"}
        app = Gunicorn("bench.wsgi_counts:app", env, args.workers, args.threads)
        mailers = [
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--interval", "0.05"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(args.mail_workers)
        ]
        links: queue.Queue = queue.Queue()
        threads = [threading.Thread(target=sink.tail, args=(links, stop), daemon=True)]
        threads += [Confirmer(app.port, links, journeys, fields, stop) for _ in range(args.confirmers)]
        viewers, watcher = Viewers(app.port, stop), Watcher(app.port, stop)
        threads += [viewers, watcher]
        backlog: list[dict] = []
        probes: list[dict] = []
        try:
            signers = [VirtualUser(app.port, f"surge{i}") for i in range(args.signers)]
            total_before = json.loads(Connection(app.port).request("GET", "/api/v1/counts")[2])["total"]
            speed = python_speed_ns()
            for t in threads:
                t.start()
            started = time.time()

            def sample_backlog() -> None:
                while not stop.is_set():
                    with journeys.lock:
                        signed, mailed, confirmed = (
                            len(journeys.signed),
                            len(journeys.mailed),
                            len(journeys.confirm_done),
                        )
                    backlog.append(
                        {
                            "second": round(time.time() - started),
                            "signed": signed,
                            "mail_backlog": signed - mailed,
                            "confirm_backlog": mailed - confirmed,
                        }
                    )
                    time.sleep(1)

            not_modified: list[int] = []
            refused: dict[int, int] = {}

            def probe() -> None:
                # Alternating one-second runs of each, so a swing in the surge's load hits both alike.
                for at in (args.duration / 3, 2 * args.duration / 3):
                    time.sleep(max(0.0, started + at - time.time()))
                    counts, revalidated, trivial = [], [], []
                    for _ in range(round(args.probe_seconds)):
                        counted = closed_loop(
                            [Connection(app.port) for _ in range(16)], get_action("/api/v1/counts"), 1
                        )
                        counts.append(counted.per_second(200) + counted.per_second(304))
                        etag = Connection(app.port).request("GET", "/api/v1/counts")[1].get("ETag", "")
                        again = closed_loop(
                            [Connection(app.port) for _ in range(16)],
                            lambda c, etag=etag: c.request("GET", "/api/v1/counts", headers={"If-None-Match": etag})[0],
                            1,
                        )
                        revalidated.append(again.per_second(200) + again.per_second(304))
                        for outcome in (counted, again):
                            for status, n in outcome.statuses.items():
                                if status not in (200, 304):
                                    refused[status] = refused.get(status, 0) + n
                        not_modified.append(again.statuses.get(304, 0))
                        trivial.append(
                            closed_loop(
                                [Connection(app.port) for _ in range(16)], get_action("/bench/ping"), 1
                            ).per_second(200)
                        )
                    probes.append(
                        {
                            "at_second": round(at),
                            "counts_per_s": statistics.median(counts),
                            "counts_with_etag_per_s": statistics.median(revalidated),
                            "trivial_per_s": statistics.median(trivial),
                            "ratios": [round(c / t, 2) for c, t in zip(counts, trivial, strict=True)],
                            "ratios_with_etag": [round(c / t, 2) for c, t in zip(revalidated, trivial, strict=True)],
                        }
                    )

            helpers = [threading.Thread(target=sample_backlog, daemon=True), threading.Thread(target=probe)]
            for h in helpers:
                h.start()
            with CpuMeter(app.process.pid, args.database) as cpu:
                sign_arrivals(signers, args.rate, args.duration, journeys)
                signed_for = time.time() - started
                deadline = time.time() + 90  # let mail and confirmations drain
                while time.time() < deadline:
                    with journeys.lock:
                        done = len(journeys.confirm_done) + journeys.links_missing
                        if done >= len(journeys.signed) and len(journeys.mailed) >= len(journeys.signed):
                            break
                    time.sleep(0.2)
                drained_after = time.time() - started
            helpers[1].join()
            time.sleep(2.5)  # the watcher sees the last confirmations (counts are cached for up to 1 s)
        finally:
            stop.set()
            for t in threads:
                t.join(5)
            for m in mailers:
                m.terminate()
            for m in mailers:
                m.wait(15)
            app.stop()
            sink.stop()
        received = [line.split(" ")[1] for line in sink.path.read_text().splitlines()]

    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT count(*) FROM signature").fetchone()[0]
        confirmed_rows = conn.execute("SELECT count(*) FROM signature WHERE status = 'confirmed'").fetchone()[0]
        counted = conn.execute("SELECT coalesce(sum(count), 0) FROM count_cell").fetchone()[0]
        held = conn.execute("SELECT count(*) FROM signature WHERE status = 'held'").fetchone()[0]
    mail_delays = [journeys.mailed[a] - t for a, t in journeys.signed.items() if a in journeys.mailed]
    lags = visibility_lags(journeys.confirm_done, watcher.seen, total_before)
    checks = {
        "signatures_stored": stored,
        "sign_303s": len(journeys.signed),
        "held": held,
        "emails_delivered": len(received),
        "distinct_recipients": len(set(received)),
        "confirm_303s": journeys.confirm_statuses.get(303, 0),
        "confirmed_rows": confirmed_rows,
        "counted": counted,
    }
    lost = not (
        stored == len(journeys.signed) == len(received) == len(set(received))
        and checks["confirm_303s"] == confirmed_rows == counted
        and held == 0
    )
    summary = {
        "machine": machine(),
        "python_sum_range_100_ns": round(speed),
        "gunicorn": f"{args.workers} workers x {args.threads} threads",
        "mail_workers": args.mail_workers,
        "arrival_rate": args.rate,
        "arrivals_for_s": round(signed_for, 1),
        "drained_after_s": round(drained_after, 1),
        "confirmed_per_s_sustained": checks["confirm_303s"] / drained_after,
        "sign_p50_ms": pct(journeys.sign_latency, 50),
        "sign_p95_ms": pct(journeys.sign_latency, 95),
        "sign_to_inbox_p50_ms": pct(mail_delays, 50),
        "sign_to_inbox_p95_ms": pct(mail_delays, 95),
        "confirm_p50_ms": pct(journeys.confirm_latency, 50),
        "confirm_p95_ms": pct(journeys.confirm_latency, 95),
        "confirm_to_count_p50_ms": pct(lags, 50),
        "confirm_to_count_p95_ms": pct(lags, 95),
        "confirm_to_count_max_ms": max(lags) * 1000 if lags else float("nan"),
        "viewer_polls": viewers.statuses,
        "viewer_p95_ms": pct(viewers.latencies, 95),
        "probes": probes,
        "counts_vs_trivial": [p["counts_per_s"] / p["trivial_per_s"] for p in probes],
        "counts_with_etag_vs_trivial": [p["counts_with_etag_per_s"] / p["trivial_per_s"] for p in probes],
        "probe_304s": sum(not_modified),
        "probe_other_statuses": refused,
        "sign_statuses": journeys.sign_statuses,
        "confirm_statuses": journeys.confirm_statuses,
        "app_cpu_ms_per_person": 1000 * cpu.app / max(len(journeys.signed), 1),
        "db_cpu_ms_per_person": 1000 * cpu.db / max(len(journeys.signed), 1),
        "others_cpu_share": round(cpu.others_share, 2),
        "checks": checks,
        "nothing_lost": not lost,
        "backlog_every_second": backlog,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "backlog_every_second"}, indent=2))
    peak = max(backlog, key=lambda b: b["mail_backlog"] + b["confirm_backlog"], default={})
    print(
        f"\n{checks['confirm_303s']} people confirmed in {drained_after:.1f} s "
        f"({summary['confirmed_per_s_sustained']:.0f}/s sustained; arrivals {args.rate:.0f}/s for {signed_for:.0f} s). "
        f"p95: sign {summary['sign_p95_ms']:.0f} ms, sign-to-inbox {summary['sign_to_inbox_p95_ms']:.0f} ms, "
        f"confirm {summary['confirm_p95_ms']:.0f} ms, confirm-to-count {summary['confirm_to_count_p95_ms']:.0f} ms "
        f"(max {summary['confirm_to_count_max_ms']:.0f}). Peak backlog: {peak}. Counts vs trivial route: "
        + ", ".join(f"{r:.0%}" for r in summary["counts_vs_trivial"])
        + " (with If-None-Match: "
        + ", ".join(f"{r:.0%}" for r in summary["counts_with_etag_vs_trivial"])
        + f"; {summary['probe_304s']} answered 304)"
        + f". Nothing lost: {not lost}."
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
