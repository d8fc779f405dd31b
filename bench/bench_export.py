"""Export benchmark: N confirmed signatures to CSV and OSDI JSON through the real export service.

    .venv/bin/python bench/bench_export.py                 # 1,000,000 rows, 3 runs of each
    .venv/bin/python bench/bench_export.py --rows 100000 --runs 1 --reload

It creates (once) the PostgreSQL database care_bench_export (or --database) on 127.0.0.1, applies
the real migrations, and bulk-loads N confirmed signatures with COPY, every name and email
sealed on its own by the app's cipher (AES-GCM; --fernet for the Fernet tokens written before
it, which still open), as the signing service stores them. A later run reuses the rows if the
count matches (--reload forces a fresh load).

Each measurement runs in a fresh child process and reports its CPU time and peak RSS (VmHWM):
for the whole process (interpreter, app start-up and export) and for the export alone (the
high-water mark reset just before it starts, so it is the resident app plus what the export adds):
  baseline  the same SELECT through a raw psycopg server-side cursor, no decryption, no output
  csv       stream_export(..., ExportFormat.CSV) written to /dev/null
  osdi      stream_export(..., ExportFormat.OSDI) written to /dev/null
  cli       `flask export csv --output /dev/null`, run in the child with APP_ENV=production
and, when named in --kinds, two ways the PostgreSQL path could read its rows (no decryption, no output):
  read-stream  the CSV statement of app/services/export_postgres.py as a binary stream of tuples (what it does)
  read-copy    the same statement through COPY ... TO STDOUT: each line decoded, split, the sealed values hex-decoded
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import psycopg.sql  # noqa: E402

# Fake data only: fixed keys so a reloaded database and every child process agree.
BENCH_KEYS = {
    "SECRET_KEY": "bench-secret-key-of-at-least-32-bytes-long",
    "ENCRYPTION_KEY": base64.urlsafe_b64encode(b"fake-bench-key-32-bytes-long-!!!").decode(),
    "BLIND_INDEX_KEY": "bench-blind-index-key-of-at-least-32-bytes",
}
DATABASE = "care_bench_export"
TARGET_RATIO = 2.0  # issue 10: at most twice the raw read, in the same run, whatever the machine
TARGET_MB = 150

GIVEN = ["Ada", "Grace", "Zoë", "Siân", "Łukasz", "Çağrı", "Mohammed", "Aoife", "Kwame", "Priya", "王", "José"]
FAMILY = ["Lovelace", "Hopper", "Ní Bhriain", "Żółć", "Öztürk", "Okafor", "Singh", "O'Neill", "Smith", "秀英"]
POSTCODES = ["SW1A", "M1", "B33", "LS6", "CF10", "EH1", "BT7", None]
SOURCES = ["neu-mail", "twitter", "unison-intranet", None, None]


def database_url(host: str, port: int, user: str, database: str) -> str:
    return f"postgresql+psycopg://{user}@{host}:{port}/{database}"


def make_app(url: str):
    from app import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=url, **BENCH_KEYS)


def ensure_database(args) -> None:
    with psycopg.connect(host=args.host, port=args.port, user=args.user, dbname=args.admin_db, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.database,)).fetchone():
            c.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(args.database)))
            print(f"created database {args.database}")


def prepare(args, url: str) -> None:
    """Migrate, seed sectors and unions, and load the signatures unless they are there already."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import content_loader
    from app.extensions import db
    from app.models import Signature
    from app.services.seed import seed_reference_data

    app = make_app(url)
    with app.app_context():
        upgrade()
        seed_reference_data(db.session, content_loader.sectors(), content_loader.organisations())
        have = db.session.execute(select(func.count()).select_from(Signature)).scalar_one()
        db.session.remove()
        db.engine.dispose()
    if have == args.rows and not args.reload:
        print(f"reusing {have:,} signatures in {args.database}")
        return
    load(args, app)


def load(args, app) -> None:
    from app.extensions import keys as app_keys

    with app.app_context():
        cipher = app_keys().cipher
    if args.fernet:  # the tokens written before AES-GCM, which every key still opens
        from cryptography.fernet import Fernet

        fernet = Fernet(BENCH_KEYS["ENCRYPTION_KEY"])

        def seal(value: str) -> bytes:
            return fernet.encrypt(value.encode())
    else:
        seal = cipher.encrypt
    conninfo = dict(host=args.host, port=args.port, user=args.user, dbname=args.database)
    rng = random.Random(1)
    started = time.perf_counter()
    with psycopg.connect(**conninfo) as conn:
        conn.execute("TRUNCATE signature RESTART IDENTITY CASCADE")
        sectors = [r[0] for r in conn.execute("SELECT id FROM sector ORDER BY id")]
        unions = [r[0] for r in conn.execute("SELECT id FROM organisation ORDER BY id")]
        columns = (
            "email_key, email_domain_key, email_encrypted, name_encrypted, postcode_outward, sector_id, "
            "organisation_id, source, consent_updates, consent_share_union, wording_version, status, "
            "token_nonce, emails_queued, created_at, consents_updated_at, confirmed_at"
        )
        domain_key = cipher.domain_index("example.org")
        start = datetime(2026, 1, 1, tzinfo=UTC)
        with conn.cursor().copy(f"COPY signature ({columns}) FROM STDIN") as copy:
            for i in range(args.rows):
                email = f"signer{i}@example.org"
                name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"
                if i % 100 == 0:  # some cells a spreadsheet would take for formulas
                    name = rng.choice(["=SUM(A1:A2)", "+44 20 7946 0000", "-1", "@cmd"]) + " " + name
                union = rng.choice(unions) if i % 3 == 0 else None
                signed = start + timedelta(seconds=i * 5)
                copy.write_row(
                    (
                        cipher.blind_index(email),
                        domain_key,
                        seal(email),
                        seal(name),
                        rng.choice(POSTCODES),
                        sectors[i % len(sectors)],
                        union,
                        rng.choice(SOURCES),
                        rng.random() < 0.6,
                        union is not None and rng.random() < 0.5,
                        "2026-01",
                        "confirmed",
                        secrets.token_bytes(16),
                        1,
                        signed,
                        signed,
                        signed + timedelta(minutes=10),
                    )
                )
                if i and i % 200_000 == 0:
                    print(f"  loaded {i:,} ({time.perf_counter() - started:.0f} s)")
        conn.commit()
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE signature")
    print(f"loaded {args.rows:,} signatures in {time.perf_counter() - started:.1f} s")


def peak_rss_kb() -> int:
    """This process image's peak resident set (VmHWM), which exec resets.

    getrusage/wait4 ru_maxrss would not do: Linux carries the parent's peak into a child
    across fork and exec, so every child would report at least the loader's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> None:
    """Restart VmHWM from the current RSS (Linux 4.0+), to see the export's own peak."""
    Path("/proc/self/clear_refs").write_text("5")


def child(kind: str, url: str) -> None:
    """One measurement, in this (fresh) process; prints a JSON line."""
    from sqlalchemy.dialects import postgresql

    from app.extensions import db, keys
    from app.services import audit, export, export_postgres
    from app.services.export import ExportFilters, ExportFormat, ExportScope, export_query, stream_export

    EVERYTHING = ExportScope.everything()

    if kind == "cli":  # the real command line, in this process; the environment carries its config
        from flask.cli import main as flask_main

        started, cpu_started = time.perf_counter(), time.process_time()
        sys.argv = ["flask", "--app", "wsgi", "export", "csv", "--output", os.devnull]
        try:
            flask_main()
        except SystemExit as exit_:
            if exit_.code:
                raise
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_kb": peak_rss_kb()}))
        return

    app = make_app(url)
    with app.app_context():
        startup_kb = peak_rss_kb()
        reset_peak_rss()
        size = rows = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        if kind == "baseline":
            query = export_query(db.session, ExportFilters(), ExportScope.everything())
            sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
                with conn.cursor(name="baseline") as cursor:
                    cursor.itersize = export.YIELD_PER
                    cursor.execute(sql)
                    for _ in cursor:
                        rows += 1
        elif kind in ("read-copy", "read-stream"):  # how the PostgreSQL path could read its rows
            statement = export_postgres._csv_statement(export_query(db.session, ExportFilters(), EVERYTHING))
            if kind == "read-stream":  # what it does: a binary stream of tuples, no decryption, no output
                for _ in export_postgres._rows(db.session, statement, export.YIELD_PER):
                    rows += 1
            else:  # COPY's text, a line at a time, split and the sealed values hex-decoded (literals: bench data)
                sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
                with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
                    with conn.cursor().copy(f"COPY ({sql}) TO STDOUT") as copy:
                        for line in copy:
                            name, email, *_ = str(line, "utf-8").split("\t")
                            bytes.fromhex(name[3:]), bytes.fromhex(email[3:])  # bytea is written \\x...
                            rows += 1
        else:
            chunks = stream_export(
                db.session, keys(), audit.CLI, ExportFormat(kind), ExportFilters(), ExportScope.everything()
            )
            with open(os.devnull, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
            rows = json.loads(audit.events(db.session, action="export", limit=1)[0].details)["rows"]
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    export_kb = peak_rss_kb()
    result = {"rows": rows, "bytes": size, "seconds": seconds, "cpu": cpu}
    result |= {"peak_kb": max(startup_kb, export_kb), "export_peak_kb": export_kb}
    print(json.dumps(result))


def measure(kind: str, url: str) -> dict:
    env = None
    if kind == "cli":
        env = os.environ | {"APP_ENV": "production", "DATABASE_URL": url, "SITE_URL": "http://bench.invalid",
                            "MAIL_SERVER": "bench.invalid", **BENCH_KEYS}  # fmt: skip
    command = [sys.executable, __file__, "--child", kind, "--url", url]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, check=True)
    result = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    result.update(kind=kind, wall=time.perf_counter() - started)
    return result


def report(results: dict[str, list[dict]], rows: int) -> None:
    def spread(values: list[float], unit: str) -> str:
        return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f} {unit}"

    print("\n| Run | Rows | Export: best / median / worst | CPU: best / median / worst "
          "| Whole process: best / median / worst | Peak RSS: whole process (during the export) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for kind, runs in results.items():
        counted = f"{runs[0]['rows']:,}" if "rows" in runs[0] else f"{rows:,}"
        peak = f"{max(r['peak_kb'] for r in runs) / 1024:.0f} MB"
        if "export_peak_kb" in runs[0]:
            peak += f" ({max(r['export_peak_kb'] for r in runs) / 1024:.0f} MB)"
        print(
            f"| {kind} | {counted} | {spread([r['seconds'] for r in runs], 's')} | "
            f"{spread([r['cpu'] for r in runs], 's')} | {spread([r['wall'] for r in runs], 's')} | {peak} |"
        )
    if "baseline" not in results:
        return
    print()
    for kind in ("csv", "osdi", "cli"):
        if kind not in results:
            continue
        # The CLI is timed as a whole process (start-up included), so it is set against the
        # baseline's whole process; the others against the baseline's export time.
        key = "wall" if kind == "cli" else "seconds"
        ratios = [run[key] / base[key] for run, base in zip(results[kind], results["baseline"], strict=True)]
        ratio = statistics.median(ratios)
        biggest = max(r["peak_kb"] for r in results[kind]) / 1024
        verdict = "met" if ratio <= TARGET_RATIO and biggest < TARGET_MB else "MISSED"
        print(f"{kind} / baseline ({'whole process' if key == 'wall' else 'export'}), median of runs: {ratio:.2f}x "
              f"(runs {', '.join(f'{r:.2f}' for r in ratios)}); target <= {TARGET_RATIO}x and < {TARGET_MB} MB "
              f"(peak {biggest:.0f} MB): {verdict}")  # fmt: skip


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{cpu}, {os.cpu_count()} cores, {memory_kb / 1024**2:.0f} GB RAM, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reload", action="store_true", help="Load fresh rows even if the count matches.")
    parser.add_argument("--fernet", action="store_true", help="Seal the loaded rows with Fernet, as before AES-GCM.")
    parser.add_argument("--kinds", default="baseline,csv,osdi,cli", help="Which measurements, comma-separated.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--database", default=DATABASE, help=f"Database to create (once) and load; default {DATABASE}.")
    parser.add_argument("--admin-db", default="postgres", help="Database to connect to for CREATE DATABASE.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url)
        return

    url = database_url(args.host, args.port, args.user, args.database)
    ensure_database(args)
    prepare(args, url)
    with psycopg.connect(host=args.host, port=args.port, user=args.user, dbname=args.database) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    print(f"machine: {machine()}, PostgreSQL {server} on the same box")

    results: dict[str, list[dict]] = {}
    for run in range(1, args.runs + 1):  # interleaved, so a burst of load elsewhere hits every kind
        for kind in args.kinds.split(","):
            load = os.getloadavg()[0]  # other work on the box shows up in the wall times, not in CPU
            result = measure(kind, url)
            results.setdefault(kind, []).append(result)
            rows = f"{result['rows']:>9,} rows" if "rows" in result else " " * 14
            own = f" (during the export {result['export_peak_kb'] / 1024:.1f})" if "export_peak_kb" in result else ""
            timing = f"export {result['seconds']:6.2f} s  CPU {result['cpu']:6.2f} s  process {result['wall']:6.2f} s"
            peak = f"peak RSS {result['peak_kb'] / 1024:.1f} MB{own}"
            print(f"run {run} {kind:<8} {rows}  {timing}  {peak}  load before {load:.1f}", flush=True)
    report(results, args.rows)


if __name__ == "__main__":
    main()
