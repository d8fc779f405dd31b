"""Confirmation load benchmark: a surge of confirm POSTs that all land on one hot count cell.

Real gunicorn and PostgreSQL on this machine, driven from loopback. The script loads N pending
signatures (all in one sector, no union, one postcode area: the same count cell, spread over
its COUNT_SHARDS rows, and their place cells: the worst case for row locks), makes each one's
confirmation link with the app's own keys, and then measures, per round and against the same gunicorn settings:
  - confirm POSTs completed (303) per second at saturation, each link used once;
  - the trivial Flask route through the same gunicorn settings;
  - raw hot-row updates: `UPDATE ... SET n = n + 1` of one row, each its own committed
    transaction, from 8 connections: the most one counter row can take here.
Afterwards it checks that the counts are exact: the count cell, the place cells and the
confirmed signatures all agree with the number of 303s.

    .venv/bin/python bench/bench_confirm.py                  # 3 rounds of 10 s: about 1 min 30 s
    .venv/bin/python bench/bench_confirm.py --rounds 1 --duration 5

Results: bench/README.md, "Confirmation load".
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_signup import (  # noqa: E402  (the shared load generator and meters)
    CSRF,
    ROOT,
    Connection,
    CpuMeter,
    Gunicorn,
    _session_cookie,
    closed_loop,
    committed_statements,
    create_database,
    flask,
    get_action,
    machine,
    print_profile,
    py_spy,
    python_speed_ns,
    server_env,
)

SECTOR = "education"
POSTCODE = "SW1A"


def load_pending(env: dict, count: int) -> tuple[int, list[str]]:
    """count pending signatures in one cell, inserted in bulk; returns (sector id, confirm links)."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db, keys
    from app.models import Sector, Signature
    from app.services import tokens

    app = create_app("development")
    with app.app_context():
        cipher = keys().cipher
        sector_id = db.session.execute(select(Sector.id).where(Sector.slug == SECTOR)).scalar_one()
        rows = []
        for i in range(count):
            email = f"confirm-{i}-{secrets.token_hex(4)}@bench.example.org"
            rows.append(
                {
                    "email_key": cipher.blind_index(email),
                    "email_domain_key": cipher.domain_index("bench.example.org"),
                    "email_encrypted": cipher.encrypt(email),
                    "name_encrypted": cipher.encrypt("Bench Signer"),
                    "sector_id": sector_id,
                    "organisation_id": None,
                    "postcode_outward": POSTCODE,
                    "wording_version": "bench",
                    "token_nonce": secrets.token_bytes(16),
                    "emails_queued": 1,
                }
            )
        for start in range(0, len(rows), 5000):
            db.session.execute(Signature.__table__.insert(), rows[start : start + 5000])
        db.session.commit()
        pending = db.session.execute(select(Signature.id, Signature.token_nonce).order_by(Signature.id)).all()
        links = [tokens.make_token(keys().token_key, tokens.CONFIRM, sid, nonce) for sid, nonce in pending]
    return sector_id, links


class Confirmer:
    """One visitor: a session and CSRF token from a confirmation page, then confirm POSTs."""

    def __init__(self, port: int, first_link: str, links, lock: threading.Lock, sector_id: int) -> None:
        self.connection = Connection(port)
        status, headers, body = self.connection.request("GET", f"/confirm/{first_link}")
        if status != 200:
            raise RuntimeError(f"GET /confirm gave {status}")
        self.cookie = _session_cookie(headers)
        self.token = CSRF.search(body).group(1).decode()
        self.links, self.lock, self.sector_id = links, lock, sector_id

    def confirm(self) -> int:
        with self.lock:
            link = next(self.links, None)
        if link is None:
            return 0  # out of links: counted apart, and the run says so
        body = urlencode(
            {
                "csrf_token": self.token,
                "name": "Bench Signer",
                "shown_sector": self.sector_id,
                "shown_union": "",
                "shown_postcode": POSTCODE,
            }
        ).encode()
        status, headers, _ = self.connection.request(
            "POST",
            f"/confirm/{link}",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie},
        )
        self.cookie = _session_cookie(headers) or self.cookie
        return status


HOT_ROW = "CREATE TABLE IF NOT EXISTS bench_hot_row (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)"


def hot_row_updates(dsn: str, connections: int, seconds: float):
    """One counter row incremented by committed single-statement transactions from several connections."""
    return committed_statements(
        dsn,
        connections,
        seconds,
        [HOT_ROW, "INSERT INTO bench_hot_row VALUES (1, 0) ON CONFLICT DO NOTHING"],
        lambda conn: conn.execute("UPDATE bench_hot_row SET n = n + 1 WHERE id = 1"),
    )


def check_counts(dsn: str, confirmed_by_303: int) -> dict:
    with psycopg.connect(dsn) as conn:
        confirmed = conn.execute("SELECT count(*) FROM signature WHERE status = 'confirmed'").fetchone()[0]
        cells = conn.execute("SELECT coalesce(sum(count), 0) FROM count_cell").fetchone()[0]
        places = conn.execute("SELECT coalesce(sum(count), 0) FROM area_count_cell").fetchone()[0]
    return {"303s": confirmed_by_303, "confirmed_rows": confirmed, "count_cells": cells, "place_cells": places}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="care_bench_confirm", help="created (dropped first) for this run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the README's production setup)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--baseline-duration", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--signatures", type=int, default=0, help="pending signatures to load (default: enough)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile", type=Path, help="py-spy the app workers in round 1 (see bench_signup.py)")
    args = parser.parse_args()
    count = args.signatures or int(args.rounds * args.duration * 1200) + args.users

    admin = psycopg.conninfo.conninfo_to_dict(args.admin_url)
    dsn = psycopg.conninfo.make_conninfo(**{**admin, "dbname": args.database})
    database_url = (
        make_url(args.admin_url).set(drivername="postgresql+psycopg", database=args.database).render_as_string(False)
    )
    create_database(args.admin_url, args.database)
    rounds = []
    confirmed = 0
    with tempfile.TemporaryDirectory(prefix="bench-confirm-") as tmp:
        env = server_env(database_url, "memory://", Path(tmp))
        env["RATELIMIT_ENABLED"] = "false"  # confirm POSTs are not rate limited; nothing to count
        flask(env, "db", "upgrade")
        flask(env, "seed")
        sector_id, links = load_pending(env, count)
        print(f"loaded {len(links)} pending signatures in one count cell", flush=True)
        remaining = iter(links)
        lock = threading.Lock()
        app = Gunicorn("wsgi:app", env, args.workers, args.threads)
        trivial = Gunicorn("bench.bench_signup_trivial:app", env, args.workers, args.threads)
        try:
            for n in range(args.rounds):
                speed = python_speed_ns()
                with lock:
                    openers = [next(remaining) for _ in range(args.users)]  # each opens one page first
                users = [Confirmer(app.port, link, remaining, lock, sector_id) for link in openers]
                profiling = py_spy(app.process.pid, args.duration - 1, args.profile) if args.profile and n == 0 else []
                with CpuMeter(app.process.pid, args.database) as cpu:
                    outcome = closed_loop(users, Confirmer.confirm, args.duration)
                for process in profiling:
                    process.wait(timeout=60)
                done = outcome.statuses.get(303, 0)
                confirmed += done
                trivial_get = closed_loop(
                    [Connection(trivial.port) for _ in range(args.users)], get_action("/"), args.baseline_duration
                )
                hot = hot_row_updates(dsn, 8, args.baseline_duration)
                figures = {
                    "confirms_per_s": outcome.per_second(303),
                    "other_statuses": outcome.errors(303),
                    "p50_ms": outcome.percentile(50),
                    "p95_ms": outcome.percentile(95),
                    "app_cpu_ms_per_confirm": 1000 * cpu.app / max(done, 1),
                    "db_cpu_ms_per_confirm": 1000 * cpu.db / max(done, 1),
                    "trivial_get_per_s": trivial_get.per_second(200),
                    "hot_row_updates_per_s": hot.per_second(200),
                    "other_processes_cpu_share": cpu.others_share,
                    "python_sum_range_100_ns": speed,
                }
                rounds.append(figures)
                print(f"round {n + 1}: " + json.dumps(figures), flush=True)
        finally:
            app.stop()
            trivial.stop()
    if args.profile:
        print_profile(args.profile)
    counts = check_counts(dsn, confirmed)
    exact = len(set(counts.values())) == 1
    summary = {
        "machine": machine(),
        "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread)",
        "rounds": len(rounds),
        **{key: statistics.median(r[key] for r in rounds) for key in rounds[0] if key != "other_statuses"},
        "counts": counts,
        "counts_exact": exact,
    }
    summary["confirms_vs_trivial_get"] = summary["confirms_per_s"] / summary["trivial_get_per_s"]
    summary["confirms_vs_hot_row_updates"] = summary["confirms_per_s"] / summary["hot_row_updates_per_s"]
    print(json.dumps(summary, indent=2))
    print(
        f"\nConfirmations: {summary['confirms_per_s']:.0f}/s on one count cell (target 500), p95 "
        f"{summary['p95_ms']:.1f} ms; {summary['confirms_vs_trivial_get']:.0%} of the trivial GET, "
        f"{summary['confirms_vs_hot_row_updates']:.0%} of raw hot-row updates "
        f"({summary['hot_row_updates_per_s']:.0f}/s). CPU per confirmation: app "
        f"{summary['app_cpu_ms_per_confirm']:.1f} ms, PostgreSQL {summary['db_cpu_ms_per_confirm']:.1f} ms. "
        f"Counts {'exact' if exact else 'WRONG'}: {counts}"
    )
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rounds": rounds}, indent=2))
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
