"""The WSGI entry point: gunicorn imports app from here."""

from app import create_app

app = create_app()
