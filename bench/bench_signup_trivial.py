"""A trivial Flask route for bench_signup.py: the ceiling of Flask and gunicorn on this machine."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    return "ok"
