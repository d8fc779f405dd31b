"""The real app plus a trivial route, for bench_counts.py: both then run in the same gunicorn server.

Only the benchmark imports this module; the production app (wsgi.py) has no such route.
"""

from app import create_app

app = create_app()


@app.get("/bench/ping")
def bench_ping():
    """The baseline: the whole app's request handling (security headers and all) and no work."""
    return "ok"
