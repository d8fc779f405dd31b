"""Run the real app under gunicorn on a loopback port, configured like the test app."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def host_page(html: str, folder: Path):
    """Yield the URL of a page holding `html`, served from another origin (another loopback port)."""
    (folder / "index.html").write_text(html, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def gunicorn_server(app, workers: int = 2, threads: int = 4, extra_env: dict | None = None):
    """Yield the base URL of gunicorn serving wsgi:app with app's database, keys and mail sink."""
    port = free_port()
    config = app.config
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": config["SECRET_KEY"],
        "ENCRYPTION_KEY": config["ENCRYPTION_KEY"],
        "BLIND_INDEX_KEY": config["BLIND_INDEX_KEY"],
        "MAIL_SINK_DIR": config["MAIL_SINK_DIR"],
        "SITE_URL": f"http://127.0.0.1:{port}",
        "INSTANCE_PATH": str(Path(config["MAIL_SINK_DIR"]).parent / "instance"),
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "wsgi:app",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still starting
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
