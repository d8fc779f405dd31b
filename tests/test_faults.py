"""Faults, through real gunicorn on PostgreSQL: the database going away and coming back under a
running server, and two app servers sharing one database under a burst of duplicate sign-ups.
(Mail server outages are tested in test_mail.py.)"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import OutboxMessage, Signature
from app.services.normalise import canonical_email
from tests.forms import csrf_token
from tests.live_server import free_port, gunicorn_server

PAGES = ["/", "/sign/education", "/unions/neu", "/recommendations", "/api/v1/counts"]
# The counts API's per-process micro-cache (WIDGET_CACHE_SECONDS), set here as in production.
CACHE_SECONDS = 1
LEAKS = ("Traceback", "psycopg", "OperationalError", "sqlalchemy", "connection refused", "5432")
# One Gmail mailbox, spelt many ways.
VARIANTS = [
    "grace.hopper@gmail.com",
    "GraceHopper@gmail.com",
    "grace.hopper@googlemail.com",
    "g.r.a.c.e.hopper@gmail.com",
    "GRACE.HOPPER@GMAIL.COM",
    "gracehopper+pledge@gmail.com",
    "grace.hopper+1@googlemail.com",
    "Grace.Hopper+x@GoogleMail.com",
]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream address; stop() also cuts open connections."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.05)
        self._stopped.clear()
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread:
            self._thread.join(5)
        with self._lock:
            open_sockets, self._sockets = self._sockets, set()
        for sock in open_sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while not self._stopped.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                try:
                    server = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    _close(client)
                    continue
                client.settimeout(None)
                server.settimeout(None)
                with self._lock:
                    self._sockets |= {client, server}
                for source, target in ((client, server), (server, client)):
                    threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(target)
            with self._lock:
                self._sockets -= {source, target}


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def require_postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("fault tests run against PostgreSQL only (set TEST_DATABASE_URL); SQLite has no server to lose")


def form_session(base: str, path: str = "/sign/education") -> tuple[requests.Session, str]:
    """A visitor with a session cookie and the CSRF token of the form they were shown."""
    session = requests.Session()
    # A connection per request: one kept alive from the GET may be closed by gunicorn (keep-alive 2 s)
    # while the visitor waits at a barrier, and a POST is never retried on a reset.
    session.headers["Connection"] = "close"
    page = session.get(f"{base}{path}", timeout=10)
    assert page.status_code == 200
    return session, csrf_token(page.text)


def sign(session: requests.Session, base: str, token: str, email: str) -> requests.Response:
    return session.post(
        f"{base}/sign/education",
        data={"name": "Grace Hopper", "email": email, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def worker_pids(base: str) -> set[int]:
    """The PIDs of the gunicorn workers serving base: children of the master bound to its port."""
    bind = base.removeprefix("http://").encode()
    serving = {}  # pid -> parent pid, for the master and its workers (forks share the command line)
    for proc in Path("/proc").iterdir():
        try:
            if bind in proc.joinpath("cmdline").read_bytes().split(b"\0"):
                serving[int(proc.name)] = int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    (master,) = [pid for pid, parent in serving.items() if parent not in serving]
    workers = {pid for pid, parent in serving.items() if parent == master}
    assert workers, "no gunicorn workers found"
    return workers


def signatures_for(app, email: str) -> int:
    key = app.extensions["care_keys"].cipher.blind_index(canonical_email(email))
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Signature).where(Signature.email_key == key))


@pytest.fixture
def proxied_database(app, backend):
    """A TCP proxy in front of the test PostgreSQL, and the database URL that goes through it."""
    require_postgresql(backend)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    try:
        yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    finally:
        proxy.stop()


def test_database_outage_gives_503s_and_the_same_server_recovers(app, proxied_database):
    proxy, database_url = proxied_database
    env = {"DATABASE_URL": database_url, "WIDGET_CACHE_SECONDS": str(CACHE_SECONDS)}
    with gunicorn_server(app, workers=2, threads=4, extra_env=env) as base:
        for path in PAGES:
            assert requests.get(f"{base}{path}", timeout=10).status_code == 200
        visitor, token = form_session(base)  # the form was loaded before the outage
        workers = worker_pids(base)

        proxy.stop()  # the database is gone, and so is every connection the pool held
        time.sleep(CACHE_SECONDS + 0.2)  # counts served just before may come from memory until then

        for path in PAGES:
            page = requests.get(f"{base}{path}", timeout=10)
            assert page.status_code == 503, path
            assert page.headers["Retry-After"].isdigit()
            assert page.headers["Cache-Control"] == "no-store"
            assert not [leak for leak in LEAKS if leak.lower() in page.text.lower()], path
        assert "try again" in requests.get(base, timeout=10).text
        health = requests.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 503 and health.json() == {"status": "unhealthy", "database": "unavailable"}
        refused = sign(visitor, base, token, "outage@example.com")
        assert refused.status_code == 503 and "nothing was saved" in refused.text

        proxy.start()  # the database is back; the server is not restarted

        health = requests.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}
        for path in PAGES:
            assert requests.get(f"{base}{path}", timeout=10).status_code == 200, path
        visitor, token = form_session(base)
        assert sign(visitor, base, token, "recovered@example.com").status_code == 303

        # A blip nobody saw (say, a database failover): the connections pooled before it are
        # dead, yet the very next requests succeed.
        proxy.stop()
        proxy.start()
        for path in PAGES:
            assert requests.get(f"{base}{path}", timeout=10).status_code == 200, path
        assert worker_pids(base) == workers  # the same worker processes served it all
    assert signatures_for(app, "outage@example.com") == 0
    assert signatures_for(app, "recovered@example.com") == 1


def test_two_app_servers_share_one_database_consistently(app, backend, confirm_token):
    require_postgresql(backend)
    clients = 32
    # Rate limits are per process and per address; every request here comes from 127.0.0.1.
    env = {"RATELIMIT_ENABLED": "false"}
    with (
        gunicorn_server(app, workers=2, threads=8, extra_env=env) as first,
        gunicorn_server(app, workers=2, threads=8, extra_env=env) as second,
    ):
        servers = [first, second]
        visitors = []
        for i in range(clients):
            base = servers[i % 2]
            session, token = form_session(base)
            visitors.append((session, base, token, VARIANTS[i % len(VARIANTS)]))
        barrier = threading.Barrier(clients)
        statuses: list[int] = []

        def submit(session, base, token, email):
            barrier.wait(timeout=30)
            statuses.append(sign(session, base, token, email).status_code)

        threads = [threading.Thread(target=submit, args=visitor) for visitor in visitors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert statuses == [303] * clients

        db.session.expire_all()
        signature = db.session.execute(select(Signature)).scalar_one()  # exactly one
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert queued == app.config["MAIL_MAX_PER_SIGNATURE"]

        # Confirm on the first server, through the page's button, sending the page's own fields ...
        path = f"{first}/confirm/{confirm_token(signature)}"
        session = requests.Session()
        page = session.get(path, timeout=10)
        tags = [tag for tag in re.findall(r"<input[^>]*>", page.text) if 'type="checkbox"' not in tag]
        fields = {re.search(r'\sname="([^"]+)"', t).group(1): re.search(r'value="([^"]*)"', t).group(1) for t in tags}
        assert {"csrf_token", "name", "shown_sector"} <= fields.keys()
        confirmed = session.post(path, data=fields, allow_redirects=False)
        assert confirmed.status_code == 303

        # ... and both servers count it.
        documents = [requests.get(f"{base}/api/v1/counts", timeout=10) for base in servers]
        bodies = [json.loads(response.text) for response in documents]
        assert bodies[0] == bodies[1]
        assert bodies[0]["total"] == 1
        assert {s["slug"]: s["count"] for s in bodies[0]["sectors"]}["education"] == 1
        assert documents[0].headers["ETag"] == documents[1].headers["ETag"]


def test_the_proxy_really_cuts_the_database_off(app, proxied_database):
    """The outage test is only as good as its proxy: a connection through it dies on stop()."""
    import psycopg

    proxy, database_url = proxied_database
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, connect_timeout=5) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
        proxy.stop()
        with pytest.raises(psycopg.OperationalError):
            connection.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)
    proxy.start()
    with psycopg.connect(dsn, connect_timeout=5) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
