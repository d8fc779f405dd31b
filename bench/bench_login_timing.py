"""Does organiser sign-in or "forgotten password" take longer for some accounts than others?

    .venv/bin/python bench/bench_login_timing.py                     # SQLite file, 300 of each
    .venv/bin/python bench/bench_login_timing.py -n 500 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/care_bench_login

It builds a fresh database with the real migrations (a PostgreSQL one is emptied first: give
it a database of its own), creates the accounts below, then times N wrong-password sign-ins
(POST /organiser/login) and N reset requests (POST /organiser/password/reset) for each,
through Flask's test client in this process, interleaved round by round so drift hits every
kind alike. It prints the median and 90th percentile in milliseconds and each median's
difference from the unknown address's. Rate limits and CSRF are off (they are the same for
every address; this measures what the account's state changes). Reset requests are allowed
without limit per account here so the known account's requests all queue an email (the
slower branch); "known, over the cap" then measures the refused branch on its own.

Accounts: known (password and two-factor set), disabled, no password yet (created, link not
used), unknown (no such account) and, on code that still has per-account lockout, locked.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery staple"
WRONG = "not the password at all"


def make_app(url: str, reset_cap: int):
    from app import create_app

    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        RATELIMIT_ENABLED=False,
        WTF_CSRF_ENABLED=False,
        PASSWORD_RESET_MAX_PER_HOUR=reset_cap,
    )


def prepare(url: str) -> dict[str, str]:
    """Migrate an empty database and create the accounts; returns label -> email."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from app.extensions import db, keys
    from app.models import Organiser, utcnow
    from app.services import audit, organisers

    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    app = make_app(url, 3)
    emails = {"known": "known@example.org", "disabled": "disabled@example.org", "no password": "new@example.org"}
    with app.app_context():
        upgrade()
        for label, email in emails.items():
            account = organisers.create_organiser(db.session, email, "admin")
            if label != "no password":
                token = organisers.password_link_token(keys(), account)
                organisers.set_password(db.session, keys(), token, PASSWORD, max_age_seconds=60, min_length=12)
        if hasattr(Organiser, "locked_until"):  # the code before issue 9: a locked account
            account = organisers.create_organiser(db.session, "locked@example.org", "admin")
            token = organisers.password_link_token(keys(), account)
            organisers.set_password(db.session, keys(), token, PASSWORD, max_age_seconds=60, min_length=12)
            account.locked_until = utcnow() + timedelta(days=1)
            db.session.commit()
            emails["locked"] = account.email
        disabled = db.session.query(Organiser).filter_by(email=emails["disabled"]).one()
        organisers.disable_organiser(db.session, audit.CLI, disabled.id)
        db.engine.dispose()
    emails["unknown"] = "nobody@example.org"
    return emails


def time_posts(client, path: str, form: dict[str, str], emails: dict[str, str], n: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {label: [] for label in emails}
    for round_ in range(n + 10):
        for label, email in emails.items():
            started = time.perf_counter()
            response = client.post(path, data={**form, "email": email})
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code in (200, 400), (label, response.status_code)
            if round_ >= 10:  # the first rounds warm caches and the dummy hash
                timings[label].append(elapsed)
    return timings


def report(title: str, timings: dict[str, list[float]]) -> None:
    baseline = statistics.median(timings["unknown"])
    print(f"\n{title}")
    print(f"  {'account':<22}{'median ms':>10}{'p90 ms':>9}{'vs unknown':>12}")
    for label, values in timings.items():
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"  {label:<22}{median:>10.2f}{p90:>9.2f}{median - baseline:>+11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests per account and kind (default 300)")
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--only", choices=["login", "reset"], help="time only sign-ins or only reset requests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        emails = prepare(url)
        print(f"{args.n} requests per account and kind, {url.split(':')[0]}")

        client = make_app(url, reset_cap=10**9).test_client()
        if args.only != "reset":
            report(
                "Sign-in with a wrong password (POST /organiser/login)",
                time_posts(client, "/organiser/login", {"password": WRONG}, emails, args.n),
            )
        if args.only == "login":
            return
        report(
            "Forgotten password (POST /organiser/password/reset)",
            time_posts(client, "/organiser/password/reset", {}, emails, args.n),
        )
        capped = {"known, over the cap": emails["known"], "unknown": emails["unknown"]}
        report(
            "Forgotten password, the known account over its hourly cap",
            time_posts(make_app(url, reset_cap=3).test_client(), "/organiser/password/reset", {}, capped, args.n),
        )


if __name__ == "__main__":
    main()
