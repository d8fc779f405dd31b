"""Simultaneous sign-ups of one mailbox, through real HTTP on gunicorn and PostgreSQL."""

import re
import threading

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import AreaCountCell, CountCell, OutboxMessage, Signature
from tests.live_server import gunicorn_server

VARIANTS = [
    "ada.lovelace@gmail.com",
    "AdaLovelace@gmail.com",
    "ada.lovelace@googlemail.com",
    "a.da.love.lace@gmail.com",
    "ADA.LOVELACE@GMAIL.COM",
    "adalovelace+pledge@gmail.com",
    "ada.lovelace+1@googlemail.com",
    "Ada.Lovelace+x@GoogleMail.com",
]


def test_simultaneous_variant_signups_make_one_signature(app, backend):
    if backend != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL, the production database")
    clients = 24
    sessions = []
    with gunicorn_server(app, workers=2, threads=8) as base:
        for i in range(clients):
            session = requests.Session()
            page = session.get(f"{base}/sign/education")
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
            sessions.append((session, token, VARIANTS[i % len(VARIANTS)]))
        barrier = threading.Barrier(clients)
        statuses = []

        def submit(session, token, email):
            barrier.wait()
            response = session.post(
                f"{base}/sign/education",
                data={"name": "Ada", "email": email, "csrf_token": token},
                allow_redirects=False,
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=submit, args=s) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert statuses == [303] * clients
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
    queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert queued == app.config["MAIL_MAX_PER_SIGNATURE"]


def test_a_burst_of_confirmations_on_one_count_cell_counts_each_exactly_once(
    app, backend, make_signature, confirm_token
):
    """The surge's worst case: every confirmation lands on one count cell and one place cell,
    at once, over real HTTP; some people press the button twice. Each is counted once."""
    if backend != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL, the production database")
    people = 40
    pending = [make_signature(email=f"burst{i}@example.com", postcode="SW1A") for i in range(people)]
    links = [confirm_token(signature) for signature in pending]
    sector_id = pending[0].sector_id
    with gunicorn_server(app, workers=2, threads=8) as base:
        session = requests.Session()
        page = session.get(f"{base}/confirm/{links[0]}")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        fields = {"csrf_token": token, "name": "Burst", "shown_sector": sector_id, "shown_postcode": "SW1A"}
        presses = links + links[: people // 4]  # a quarter press twice
        barrier = threading.Barrier(len(presses))
        statuses = []

        def press(link):
            barrier.wait(timeout=30)
            response = session.post(f"{base}/confirm/{link}", data=fields, allow_redirects=False, timeout=30)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=press, args=(link,)) for link in presses]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        counts = requests.get(f"{base}/api/v1/counts", timeout=10).json()
    assert statuses == [303] * len(presses)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Signature.status == "confirmed")) == people
    assert db.session.scalar(select(func.sum(CountCell.count))) == people
    assert db.session.scalar(select(func.sum(AreaCountCell.count))) == people
    assert counts["total"] == people
