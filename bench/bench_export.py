"""Export benchmark: N confirmed signatures to CSV and OSDI JSON through the real export service.

    .venv/bin/python bench/bench_export.py                 # 1,000,000 rows, 3 runs of each
    .venv/bin/python bench/bench_export.py --rows 100000 --runs 1 --reload

It creates (once) the PostgreSQL database care_bench_export on 127.0.0.1, applies the real
migrations, and bulk-loads N confirmed signatures with COPY, every name and email encrypted
with its own Fernet token (nothing reused), as the signing service would store them. A later
run reuses the rows if the count matches (--reload forces a fresh load).

Each measurement runs in a fresh child process and reports that process's peak RSS (VmHWM:
interpreter, app and export together):
  baseline  the same SELECT through a raw psycopg server-side cursor, no decryption, no output
  csv       stream_export(..., ExportFormat.CSV) written to /dev/null
  osdi      stream_export(..., ExportFormat.OSDI) written to /dev/null
  cli       `flask export csv --output /dev/null`, run in the child with APP_ENV=production
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

# Fake data only: fixed keys so a reloaded database and every child process agree.
BENCH_KEYS = {
    "SECRET_KEY": "bench-secret-key",
    "ENCRYPTION_KEY": base64.urlsafe_b64encode(b"fake-bench-key-32-bytes-long-!!!").decode(),
    "BLIND_INDEX_KEY": "bench-blind-index-key",
}
DATABASE = "care_bench_export"
TARGET_SECONDS = 30
TARGET_MB = 150

GIVEN = ["Ada", "Grace", "Zoë", "Siân", "Łukasz", "Çağrı", "Mohammed", "Aoife", "Kwame", "Priya", "王", "José"]
FAMILY = ["Lovelace", "Hopper", "Ní Bhriain", "Żółć", "Öztürk", "Okafor", "Singh", "O'Neill", "Smith", "秀英"]
POSTCODES = ["SW1A", "M1", "B33", "LS6", "CF10", "EH1", "BT7", None]
SOURCES = ["neu-mail", "twitter", "unison-intranet", None, None]


def database_url(host: str, port: int, user: str) -> str:
    return f"postgresql+psycopg://{user}@{host}:{port}/{DATABASE}"


def make_app(url: str):
    from app import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=url, **BENCH_KEYS)


def ensure_database(args) -> None:
    with psycopg.connect(host=args.host, port=args.port, user=args.user, dbname=args.admin_db, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            c.execute(f'CREATE DATABASE "{DATABASE}"')
            print(f"created database {DATABASE}")


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
        print(f"reusing {have:,} signatures in {DATABASE}")
        return
    load(args, app)


def load(args, app) -> None:
    from app.extensions import keys as app_keys

    with app.app_context():
        cipher = app_keys().cipher
    conninfo = dict(host=args.host, port=args.port, user=args.user, dbname=DATABASE)
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
                        cipher.encrypt(email),
                        cipher.encrypt(name),
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


def child(kind: str, url: str) -> None:
    """One measurement, in this (fresh) process; prints a JSON line."""
    from sqlalchemy.dialects import postgresql

    from app.extensions import db, keys
    from app.services import audit
    from app.services.export import ExportFilters, ExportFormat, ExportScope, export_query, stream_export

    if kind == "cli":  # the real command line, in this process; its environment carries the config
        from flask.cli import main as flask_main

        started = time.perf_counter()
        sys.argv = ["flask", "--app", "wsgi", "export", "csv", "--output", os.devnull]
        try:
            flask_main()
        except SystemExit as exit_:
            if exit_.code:
                raise
        result = {"seconds": time.perf_counter() - started, "peak_kb": peak_rss_kb()}
        print(json.dumps(result))
        return

    app = make_app(url)
    with app.app_context():
        before_kb = peak_rss_kb()
        size = rows = 0
        started = time.perf_counter()
        if kind == "baseline":
            query = export_query(db.session, ExportFilters(), ExportScope.everything())
            sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
                with conn.cursor(name="baseline") as cursor:
                    cursor.itersize = 5000
                    cursor.execute(sql)
                    for _ in cursor:
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
        seconds = time.perf_counter() - started
    print(
        json.dumps({"rows": rows, "bytes": size, "seconds": seconds, "before_kb": before_kb, "peak_kb": peak_rss_kb()})
    )


def measure(kind: str, url: str) -> dict:
    env = None
    if kind == "cli":
        env = os.environ | {"APP_ENV": "production", "DATABASE_URL": url, "SITE_URL": "http://bench.invalid",
                            "MAIL_SERVER": "bench.invalid", **BENCH_KEYS}  # fmt: skip
    command = [sys.executable, __file__, "--child", kind, "--url", url]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, check=True)
    result = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    result.update(kind=kind, wall=time.perf_counter() - started, peak_mb=result["peak_kb"] / 1024)
    return result


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
    parser.add_argument("--kinds", default="baseline,csv,osdi,cli", help="Which measurements, comma-separated.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--admin-db", default="postgres", help="Database to connect to for CREATE DATABASE.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url)
        return

    url = database_url(args.host, args.port, args.user)
    ensure_database(args)
    prepare(args, url)
    with psycopg.connect(host=args.host, port=args.port, user=args.user, dbname=DATABASE) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    print(f"machine: {machine()}, PostgreSQL {server} on the same box")

    results: dict[str, list[dict]] = {}
    for kind in args.kinds.split(","):
        for run in range(1, args.runs + 1):
            result = measure(kind, url)
            results.setdefault(kind, []).append(result)
            rows = f"{result['rows']:>9,} rows" if "rows" in result else " " * 14
            export_s = f"export {result['seconds']:6.2f} s"
            print(f"{kind:<8} run {run}: {rows}  {export_s}  process {result['wall']:6.2f} s  "
                  f"peak RSS {result['peak_mb']:6.1f} MB")  # fmt: skip

    print("\n| Measurement | Rows | Export time best / median | Process time best / median | Peak RSS max |")
    print("|---|---|---|---|---|")
    for kind, runs in results.items():
        seconds = [r["seconds"] for r in runs]
        walls = [r["wall"] for r in runs]
        timing = f"{min(seconds):.1f} s / {statistics.median(seconds):.1f} s"
        process = f"{min(walls):.1f} s / {statistics.median(walls):.1f} s"
        row_count = f"{runs[0]['rows']:,}" if "rows" in runs[0] else f"{args.rows:,} (not counted)"
        print(f"| {kind} | {row_count} | {timing} | {process} | {max(r['peak_mb'] for r in runs):.0f} MB |")
    if "csv" in results and "baseline" in results:
        ratio = statistics.median(r["seconds"] for r in results["csv"]) / statistics.median(
            r["seconds"] for r in results["baseline"]
        )
        print(f"\ncsv / baseline (median export time): {ratio:.1f}x")
    if "csv" in results:
        worst_s = max(r["wall"] for r in results["csv"])
        worst_mb = max(r["peak_mb"] for r in results["csv"])
        ok = worst_s < TARGET_SECONDS and worst_mb < TARGET_MB
        print(f"target (csv, slowest run, whole process): {worst_s:.1f} s < {TARGET_SECONDS} s and "
              f"{worst_mb:.0f} MB < {TARGET_MB} MB: {'met' if ok else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
