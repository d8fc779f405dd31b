"""How long "Send" takes for an update to N signers: queue_update's one INSERT ... SELECT, on PostgreSQL.

Creates the database care_bench_updates (dropped first), applies the real migrations and seed,
loads N confirmed signatures that asked for updates (bulk, sealed with the app's own cipher),
then per round saves a draft and times queue_update through the service, and a second press
(which must queue nothing). Against a baseline from the same run: a raw INSERT ... SELECT of N
narrow rows into a scratch table through psycopg.

    .venv/bin/python bench/bench_update_queue.py                  # 100,000 signers, 3 rounds
    .venv/bin/python bench/bench_update_queue.py --signers 20000 --rounds 1

Results: bench/README.md, "Queueing an update to 100,000 signers".
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_signup import ROOT, create_database, flask, machine, server_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="care_bench_updates")
    parser.add_argument("--signers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    admin = psycopg.conninfo.conninfo_to_dict(args.admin_url)
    dsn = psycopg.conninfo.make_conninfo(**{**admin, "dbname": args.database})
    database_url = (
        make_url(args.admin_url).set(drivername="postgresql+psycopg", database=args.database).render_as_string(False)
    )
    create_database(args.admin_url, args.database)
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        env = server_env(database_url, "memory://", Path(tmp))
        flask(env, "db", "upgrade")
        flask(env, "seed")
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        from sqlalchemy import func, select

        from app import create_app
        from app.extensions import db, keys
        from app.models import OutboxMessage, Sector, Signature, SignatureStatus, utcnow
        from app.services import audit, updates

        app = create_app("development")
        with app.app_context():
            cipher = keys().cipher
            sector_id = db.session.execute(select(Sector.id).where(Sector.slug == "education")).scalar_one()
            started = time.perf_counter()
            rows = [
                {
                    "email_key": secrets.token_bytes(32),
                    "email_domain_key": cipher.domain_index("bench.example.org"),
                    "email_encrypted": cipher.encrypt(f"update-{i}@bench.example.org"),
                    "name_encrypted": cipher.encrypt("Bench Signer"),
                    "sector_id": sector_id,
                    "wording_version": "bench",
                    "token_nonce": secrets.token_bytes(16),
                    "status": SignatureStatus.CONFIRMED,
                    "confirmed_at": utcnow(),
                    "consent_updates": True,
                    "emails_queued": 1,
                }
                for i in range(args.signers)
            ]
            for start in range(0, len(rows), 10_000):
                db.session.execute(Signature.__table__.insert(), rows[start : start + 10_000])
            db.session.commit()
            print(f"loaded {args.signers:,} confirmed signers in {time.perf_counter() - started:.1f} s", flush=True)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE signature")

            results = []
            for n in range(args.rounds):
                draft = updates.save_draft(
                    db.session, audit.CLI, subject=f"Bench {n}", body_markdown="Hello.", audience=updates.Audience()
                )
                began = time.perf_counter()
                queued = updates.queue_update(db.session, audit.CLI, draft.id)
                first = time.perf_counter() - began
                began = time.perf_counter()
                again = updates.queue_update(db.session, audit.CLI, draft.id)
                second = time.perf_counter() - began
                rows_now = db.session.execute(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.update_id == draft.id)
                ).scalar_one()
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("DROP TABLE IF EXISTS bench_raw_queue")
                    conn.execute("CREATE TABLE bench_raw_queue (signature_id BIGINT, n INT)")
                    began = time.perf_counter()
                    conn.execute("INSERT INTO bench_raw_queue SELECT id, 1 FROM signature WHERE consent_updates")
                    raw = time.perf_counter() - began
                result = {
                    "queued": queued,
                    "outbox_rows": rows_now,
                    "send_s": first,
                    "second_press_ms": second * 1000,
                    "second_press_queued_again": rows_now - queued,
                    "raw_insert_select_s": raw,
                }
                assert again == queued and rows_now == queued == args.signers, result
                results.append(result)
                print(f"round {n + 1}: " + json.dumps(result), flush=True)
    summary = {
        "machine": machine(),
        "signers": args.signers,
        "send_s_median": statistics.median(r["send_s"] for r in results),
        "raw_insert_select_s_median": statistics.median(r["raw_insert_select_s"] for r in results),
        "second_press_ms_median": statistics.median(r["second_press_ms"] for r in results),
    }
    summary["send_vs_raw"] = summary["send_s_median"] / summary["raw_insert_select_s_median"]
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
