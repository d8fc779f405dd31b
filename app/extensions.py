"""Unbound Flask extensions, bound to the app in create_app()."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.rate_limits import limiter  # noqa: F401  (defined beside its key function, client_key)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "organiser.login"
# Flask-Login's own protection hashes the client's IP into every visitor's session and sets
# cookies on public pages; we rely instead on sessions held on the server (the cookie holds a
# random token, see app/organiser/access.py), their idle and absolute limits, HttpOnly,
# SameSite=Lax, Secure cookies, and never use "remember me".
login_manager.session_protection = None


def keys():
    """The Keys object create_app built (encryption, blind index, token signing)."""
    from flask import current_app

    return current_app.extensions["care_keys"]


def reference():
    """This process's snapshot of sectors, organisations, the pause switch and blocked domains;
    one snapshot for the whole of a request."""
    from flask import current_app, g

    if "care_reference" not in g:
        g.care_reference = current_app.extensions["care_reference"].snapshot(db.session)
    return g.care_reference


def forget_reference() -> None:
    """After this process changed reference data: read it afresh on the next request."""
    from flask import current_app

    current_app.extensions["care_reference"].forget()
