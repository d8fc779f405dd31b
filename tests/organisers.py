"""Signing organisers in as a person would: password, then a code from their authenticator app."""

from __future__ import annotations

import time

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import update

from app.extensions import db
from app.models import Organiser
from app.services import two_factor
from app.services.keys import Keys
from tests.forms import csrf_token

PASSWORD = "correct horse battery staple"


def next_code(keys: Keys, account: Organiser) -> str:
    """A code the app accepts now and has not seen: this 30 seconds' code, or the next one's if
    that was used. Once both are used it forgets the account's last code, as 30 seconds passing
    would (each code works once, so a test signing in three times needs this)."""
    db.session.refresh(account)
    totp = pyotp.TOTP(two_factor.totp_secret(keys, account))
    now = int(time.time()) // totp.interval
    step = max(now, (account.totp_last_step or 0) + 1)
    if step > now + 1:
        db.session.execute(update(Organiser).where(Organiser.id == account.id).values(totp_last_step=None))
        db.session.commit()
        step = now
    return totp.generate_otp(step)


def sign_in_as(client: FlaskClient, keys: Keys, account: Organiser, password: str = PASSWORD, **request):
    """Post the sign-in form, then the two-factor code if it asks for one; the last response.

    `request` goes to every request (e.g. environ_base={"REMOTE_ADDR": ...}).
    """
    page = client.get("/organiser/login", **request)
    response = client.post(
        "/organiser/login",
        data={"email": account.email, "password": password, "csrf_token": csrf_token(page.text)},
        **request,
    )
    if response.status_code == 303 and "/organiser/login/code" in response.headers["Location"]:
        page = client.get("/organiser/login/code", **request)
        response = client.post(
            "/organiser/login/code",
            data={"code": next_code(keys, account), "csrf_token": csrf_token(page.text)},
            **request,
        )
    return response
