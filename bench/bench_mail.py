"""Mail queue benchmark: `flask mail worker` processes draining the outbox into a local SMTP sink.

Measures, in one run, on PostgreSQL and an aiosmtpd sink on 127.0.0.1 (a process of its own):
  - confirmation emails delivered per second by K `flask mail worker` processes (each K given
    with --workers), from the moment N queued messages fall due to the moment the sink has
    them all; every message must arrive exactly once, and the outbox must say so;
  - the baseline: the same N messages, rendered beforehand, sent by raw smtplib from this one
    process over one kept-open connection to the same sink (the sink's and SMTP's own limit);
  - rendering alone: build_message for the N messages in this process (decrypting the name
    and address, two templates, the MIME message), and the CPU each party used.

The outbox is filled with realistic rows: N pending signatures encrypted with the app's own
keys and cipher (as sign_pledge writes them), each with its queued confirmation email. Before
each round every message is queued again, due in a year; the workers are started and left to
poll the empty queue; then one UPDATE makes all N due at once and the clock starts.

    .venv/bin/python bench/bench_mail.py                         # 3 rounds of 1, 2 and 3 workers, 10,000 messages
    .venv/bin/python bench/bench_mail.py --messages 2000 --rounds 1 --workers 2
    PY_SPY=.../py-spy .venv/bin/python bench/bench_mail.py --profile /tmp/mail   # where worker CPU goes

Results and their analysis: bench/README.md, "Mail queue".
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import secrets
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_signup import (  # noqa: E402  (helpers shared with the sign-up benchmark)
    cpu_seconds,
    create_database,
    database_backends,
    free_port,
    machine,
    machine_busy_seconds,
    python_speed_ns,
    summarise_profile,
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the sink listens here only
LINK = re.compile(r"/confirm/([A-Za-z0-9._-]+)")
MAX_MESSAGES = 100_000
PY_SPY = os.environ.get("PY_SPY", "py-spy")


# ---- the sink: aiosmtpd, in a process of its own, writing each recipient to a file


def run_sink(port: int, path: Path, links: bool = False) -> None:
    """aiosmtpd on 127.0.0.1:port, writing a line per recipient to path: the recipient, or (links)
    the arrival time, the recipient and the confirmation link read out of the email."""
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self) -> None:
            self.out = path.open("a", buffering=1)

        async def handle_DATA(self, server, session, envelope):
            if links:
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                found = LINK.search(message.get_body(("plain",)).get_content())
                prefix, suffix = f"{time.time():.6f} ", f" {found.group(1) if found else '-'}"
            else:
                prefix = suffix = ""
            self.out.write("".join(f"{prefix}{rcpt}{suffix}\n" for rcpt in envelope.rcpt_tos))
            return "250 2.0.0 OK"

    controller = Controller(Sink(), hostname=HOST, port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.sleep(10**9))
    finally:
        controller.stop()


class SinkProcess:
    def __init__(self, workdir: Path, links: bool = False) -> None:
        self.port = free_port()
        self.path = workdir / "received.txt"
        self.path.touch()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(self.port), str(self.path)] + (["--links"] if links else []),
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")

    def received(self) -> list[str]:
        return self.path.read_text().splitlines()

    def count(self) -> int:
        with self.path.open("rb") as file:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 16), b""))

    def clear(self) -> None:
        self.path.write_text("")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def wait_for(sink: SinkProcess, expected: int, timeout: float) -> float:
    """Seconds until the sink has expected messages (polled every 20 ms); raises on timeout."""
    started = time.monotonic()
    while sink.count() < expected:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"only {sink.count()} of {expected} messages arrived in {timeout:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - started


# ---- the app side: environment, filling the outbox, the workers


def app_env(database_url: str, workdir: Path, sink_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "INSTANCE_PATH": str(workdir / "instance"),
        "SITE_URL": "http://127.0.0.1",
        "MAIL_SERVER": HOST,
        "MAIL_PORT": str(sink_port),
        "LOG_LEVEL": "INFO",
        "FLASK_APP": "wsgi",
    }


def fill_signatures(app, count: int) -> None:
    """count pending signatures, encrypted with the app's keys as sign_pledge writes them."""
    from sqlalchemy import insert, select

    from app import content_loader
    from app.extensions import db, keys
    from app.models import Sector, Signature, SignatureStatus
    from app.services.normalise import canonical_email

    with app.app_context():
        cipher = keys().cipher
        sectors = db.session.execute(select(Sector.id)).scalars().all()
        version = content_loader.pledge()["version"]
        rows = []
        for i in range(count):
            email = f"signer-{i}@example.org"
            rows.append(
                {
                    "email_key": cipher.blind_index(canonical_email(email)),
                    "email_domain_key": cipher.domain_index("example.org"),
                    "email_encrypted": cipher.encrypt(email),
                    "name_encrypted": cipher.encrypt(f"Signer Number {i}"),
                    "sector_id": sectors[i % len(sectors)],
                    "wording_version": version,
                    "status": SignatureStatus.PENDING,
                    "token_nonce": secrets.token_bytes(16),
                    "emails_queued": 1,
                }
            )
        for start in range(0, count, 5000):
            db.session.execute(insert(Signature), rows[start : start + 5000])
        db.session.commit()


def queue_confirmations(app, due_now: bool = False) -> None:
    """Replace the outbox with one confirmation per signature, due in a year (or now)."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        db.session.execute(text("DELETE FROM outbox_message"))
        db.session.execute(
            text(
                "INSERT INTO outbox_message (signature_id, kind, priority, created_at, next_attempt_at, attempts) "
                "SELECT id, 'confirm', 0, now(), now() + :delay, 0 FROM signature ORDER BY id"
            ),
            {"delay": "0 seconds" if due_now else "365 days"},
        )
        db.session.commit()
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE outbox_message"))


def make_due(app) -> None:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        db.session.execute(text("UPDATE outbox_message SET next_attempt_at = now()"))
        db.session.commit()


def outbox_states(app) -> dict[str, int]:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        row = db.session.execute(
            text(
                "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL), count(*) FILTER (WHERE failed_at IS NOT NULL), "
                "count(*) FILTER (WHERE attempts > 1), count(*) FROM outbox_message"
            )
        ).one()
    return {"sent": row[0], "failed": row[1], "attempted_more_than_once": row[2], "total": row[3]}


class Workers:
    """K `flask mail worker` processes, started and polling an empty queue before the clock starts."""

    def __init__(self, env: dict, count: int, batch: int) -> None:
        self.processes = []
        started = threading.Semaphore(0)
        for _ in range(count):
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--interval", "0.05"]
                + ["--batch", str(batch)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            self.processes.append(process)
            threading.Thread(target=self._watch, args=(process, started), daemon=True).start()
        for _ in range(count):
            if not started.acquire(timeout=60):
                self.stop()
                raise RuntimeError("a mail worker did not start")
        time.sleep(0.5)  # first polls done: connections open, code warm

    @staticmethod
    def _watch(process, started) -> None:
        for line in process.stdout:
            if "mail worker started" in line:
                started.release()
            elif "error" in line.lower() or "Traceback" in line:
                print("worker:", line.rstrip(), file=sys.stderr)

    @property
    def pids(self) -> set[int]:
        return {p.pid for p in self.processes}

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---- the baseline and the cost of rendering


def rendered_messages(app, count: int) -> tuple[list, float]:
    """Every queued message rendered in this process; returns them and microseconds per message."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.extensions import db, keys
    from app.mail_render import build_message
    from app.models import OutboxMessage, Signature

    with app.app_context(), app.test_request_context():
        messages = (
            db.session.execute(
                select(OutboxMessage)
                .order_by(OutboxMessage.id)
                .limit(count)
                .options(selectinload(OutboxMessage.signature).selectinload(Signature.sector))
            )
            .scalars()
            .all()
        )
        started = time.perf_counter()
        emails = [build_message(message, keys=keys()) for message in messages]
        elapsed = time.perf_counter() - started
    return emails, 1e6 * elapsed / len(emails)


def raw_smtp(port: int, emails: list) -> float:
    """Prebuilt messages (wire-ready bytes) over one kept-open smtplib connection; seconds taken."""
    prepared = [(email.sender, [email.recipient], email.data.replace(b"\n", b"\r\n")) for email in emails]
    started = time.monotonic()
    with smtplib.SMTP(HOST, port) as smtp:
        for sender, recipients, data in prepared:
            smtp.sendmail(sender, recipients, data)
    return time.monotonic() - started


def check_exactly_once(sink: SinkProcess, expected: int) -> None:
    counts = Counter(sink.received())
    twice = sum(1 for n in counts.values() if n > 1)
    if len(counts) != expected or twice:
        raise RuntimeError(f"delivered {len(counts)} distinct of {expected}; {twice} more than once")


def py_spy(pids: set[int], seconds: float, out: Path) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [PY_SPY, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "100"]
            + ["--gil", "--nonblocking", "--format", "raw", "-o", str(out.with_name(f"{out.name}.{pid}.txt"))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="care_bench_mail", help="created (dropped first) for this run")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,3", help="worker process counts to measure, comma-separated")
    parser.add_argument("--batch", type=int, default=100, help="messages each worker claims per transaction")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--profile", type=Path, help="py-spy the workers of the first round; raw samples to PATH.*")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--sink", nargs=2, metavar=("PORT", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--links", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(int(args.sink[0]), Path(args.sink[1]), args.links)
        return
    if args.profile and not shutil.which(PY_SPY):
        parser.error(f"--profile needs py-spy (not found: {PY_SPY})")
    count = min(args.messages, MAX_MESSAGES)
    worker_counts = [int(k) for k in args.workers.split(",")]

    database_url = (
        make_url(args.admin_url).set(drivername="postgresql+psycopg", database=args.database).render_as_string(False)
    )
    create_database(args.admin_url, args.database)
    results: dict = {"machine": machine(), "messages": count, "batch": args.batch, "rounds": []}
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as tmp:
        workdir = Path(tmp)
        sink = SinkProcess(workdir)
        env = app_env(database_url, workdir, sink.port)
        os.environ.update(env)  # config reads the environment when first imported
        sys.path.insert(0, str(ROOT))
        from flask_migrate import upgrade

        from app import content_loader, create_app
        from app.extensions import db
        from app.services.seed import seed_reference_data

        app = create_app("development")
        with app.app_context():
            upgrade()
            seed_reference_data(db.session, content_loader.sectors(), content_loader.organisations())
        fill_signatures(app, count)
        try:
            for n in range(args.rounds):
                figures: dict = {"python_sum_range_100_ns": python_speed_ns()}
                # Baseline: render everything here, then raw SMTP of the prebuilt messages.
                queue_confirmations(app, due_now=True)
                emails, figures["render_us_per_message"] = rendered_messages(app, count)
                sink.clear()
                before = cpu_seconds({sink.process.pid})
                seconds = raw_smtp(sink.port, emails)
                wait_for(sink, count, 60)
                figures["raw_smtp_per_s"] = count / seconds
                figures["sink_cpu_us_per_message_raw"] = (
                    1e6 * (cpu_seconds({sink.process.pid})[sink.process.pid] - before[sink.process.pid]) / count
                )
                check_exactly_once(sink, count)
                del emails
                for k in worker_counts:
                    queue_confirmations(app)
                    sink.clear()
                    workers = Workers(env, k, args.batch)
                    try:
                        watched = workers.pids | {sink.process.pid}
                        backends = database_backends(args.database)
                        before = cpu_seconds(watched | backends)
                        machine_before, wall_before = machine_busy_seconds(), time.monotonic()
                        profiling = (
                            py_spy(workers.pids, count / 600, args.profile.with_name(f"{args.profile.name}.k{k}"))
                            if args.profile and n == 0
                            else []
                        )
                        make_due(app)
                        seconds = wait_for(sink, count, 600)
                        wall = time.monotonic() - wall_before
                        after = cpu_seconds(watched | backends | database_backends(args.database))
                        machine_used = machine_busy_seconds() - machine_before
                        for process in profiling:
                            process.wait(timeout=120)
                    finally:
                        workers.stop()  # SIGTERM: each finishes and records its batch first
                    used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
                    worker_cpu = sum(used.get(pid, 0.0) for pid in workers.pids)
                    sink_cpu = used.get(sink.process.pid, 0.0)
                    db_cpu = sum(v for pid, v in used.items() if pid not in watched)
                    check_exactly_once(sink, count)
                    states = outbox_states(app)
                    if states["sent"] != count or states["failed"] or states["attempted_more_than_once"]:
                        raise RuntimeError(f"outbox after the run: {states}")
                    figures[f"k{k}"] = {
                        "per_s": count / seconds,
                        "ratio_to_raw_smtp": count / seconds / figures["raw_smtp_per_s"],
                        "worker_cpu_us_per_message": 1e6 * worker_cpu / count,
                        "sink_cpu_us_per_message": 1e6 * sink_cpu / count,
                        "db_cpu_us_per_message": 1e6 * db_cpu / count,
                        "machine_cpu_share_used": machine_used / (wall * os.cpu_count()),
                        "others_cpu_share": max(0.0, machine_used - worker_cpu - sink_cpu - db_cpu)
                        / (wall * os.cpu_count()),
                    }
                results["rounds"].append(figures)
                print(json.dumps({"round": n + 1, **figures}, indent=1), flush=True)
        finally:
            sink.stop()
            with app.app_context():
                db.engine.dispose()
            if not args.keep_database:
                with __import__("psycopg").connect(args.admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    def median(path):
        values = [r[path[0]] if len(path) == 1 else r[path[0]][path[1]] for r in results["rounds"]]
        return statistics.median(values)

    summary = {
        "raw_smtp_per_s": median(["raw_smtp_per_s"]),
        "render_us_per_message": median(["render_us_per_message"]),
        "sink_cpu_us_per_message_raw": median(["sink_cpu_us_per_message_raw"]),
    }
    for k in worker_counts:
        for key in results["rounds"][0][f"k{k}"]:
            summary[f"k{k}_{key}"] = median([f"k{k}", key])
    results["medians"] = summary
    print("machine:", results["machine"])
    print(f"medians over {args.rounds} rounds of {count} messages:")
    for key, value in summary.items():
        print(f"  {key:40} {value:10.2f}")
    if args.profile:
        for k in worker_counts:
            files = list(args.profile.parent.glob(f"{args.profile.name}.k{k}.*.txt"))
            if files:
                ours, packages = summarise_profile(files)
                print(f"profile, {k} worker(s): inclusive share under our frames")
                for share, frame in ours:
                    print(f"  {share:5.1f}%  {frame}")
                print("exclusive share by package")
                for share, package in packages:
                    print(f"  {share:5.1f}%  {package}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
