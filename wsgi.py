"""The WSGI entry point: gunicorn imports app from here. Production unless APP_ENV says otherwise."""

import os

from app import create_app, warm_caches

app = create_app(os.environ.get("APP_ENV", "production"))
warm_caches(app)  # before the first request, not during it (each gunicorn worker imports this)
