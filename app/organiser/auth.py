"""Signing in and out, passwords and two-factor set-up for organiser accounts."""

from __future__ import annotations

import logging
import time

from flask import abort, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from app.extensions import db, keys
from app.models import Organiser
from app.organiser import bp
from app.organiser.access import SESSION_TOKEN
from app.organiser.forms import CodeForm, EmptyForm, LoginForm, PasswordForm, ResetRequestForm
from app.rate_limits import client_key, first_in_window, over_limit, within_limit
from app.services import organiser_sessions, organisers, tokens
from app.services import two_factor as totp

log = logging.getLogger(__name__)

LOGIN_FAILED = _l(
    "We could not sign you in with that email address and password. "
    "After several failed tries, signing in is paused for a while."
)
CODE_FAILED = _l("That code did not work. Each code works once: if you have just used it, wait for the next one.")

# Between a right password and a right code the cookie holds [account id, unix time]: no
# session exists until the code is accepted, and the password step expires.
PENDING_CODE = "organiser_pending"
PENDING_SECONDS = 300

# Only failures count against these, so an owner who signs in often is never slowed down.
PER_ACCOUNT_AND_ADDRESS = "RATELIMIT_LOGIN_ACCOUNT_ADDRESS"
PER_ADDRESS = "RATELIMIT_LOGIN_IP"
PER_ACCOUNT = "RATELIMIT_LOGIN_ACCOUNT"  # the ceiling from all addresses together
PER_ACCOUNT_CODES = "RATELIMIT_LOGIN_CODE"


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        organiser = _check_password(form.email.data.strip().lower(), form.password.data)
        if organiser is None:
            error = LOGIN_FAILED
        elif organiser.totp_enabled:
            session.clear()
            session[PENDING_CODE] = [organiser.id, int(time.time())]
            return redirect(url_for(".login_code", next=_safe_next()), 303)
        else:
            token = organiser_sessions.start_session(db.session, organiser)
            return _signed_in(token, url_for(".two_factor"), _("Every organiser account needs two-factor sign-in."))
    status = 400 if form.is_submitted() else 200
    return make_response(render_template("organiser/login.html", form=form, error=error), status)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    organiser = _pending_organiser()
    if organiser is None:
        session.pop(PENDING_CODE, None)
        return redirect(url_for(".login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        token = _check_code(organiser, form.code.data)
        if token is not None:
            return _signed_in(token, _safe_next() or url_for(".dashboard"))
        error = CODE_FAILED
    return make_response(render_template("organiser/code.html", form=form, error=error), 400 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    if not EmptyForm().validate_on_submit():
        abort(400)
    organiser_sessions.end_session(db.session, current_user, session[SESSION_TOKEN])
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for(".login"), 303)


@bp.route("/password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    max_age = current_app.config["PASSWORD_LINK_MAX_AGE_HOURS"] * 3600
    try:
        organiser = organisers.organiser_for_password_token(db.session, keys(), token, max_age)
    except tokens.BadToken:
        return make_response(render_template("organiser/link_invalid.html"), 404)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            organisers.set_password(
                db.session,
                keys(),
                token,
                form.password.data,
                max_age_seconds=max_age,
                min_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except organisers.AccountError as error:
            form.password.errors.append(str(error))
        else:
            flash(_("Your password is set. Sign in with it now."))
            return redirect(url_for(".login"), 303)
    status = 400 if form.errors else 200
    return make_response(render_template("organiser/password.html", form=form, organiser=organiser), status)


@bp.route("/password/reset", methods=["GET", "POST"])
def reset_password():
    form = ResetRequestForm()
    if form.validate_on_submit():
        if not over_limit(PER_ADDRESS, client_key()):
            organisers.request_password_reset(
                db.session, form.email.data, max_per_hour=current_app.config["PASSWORD_RESET_MAX_PER_HOUR"]
            )
        return render_template("organiser/reset_sent.html")
    return make_response(render_template("organiser/reset.html", form=form), 400 if form.errors else 200)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    if current_user.totp_enabled:
        return render_template("organiser/two_factor.html", enabled=True)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            totp.confirm_totp(db.session, keys(), current_user, form.code.data)
        except organisers.AccountError as error:
            form.code.errors.append(str(error))
        else:
            flash(_("Two-factor sign-in is on."))
            return redirect(url_for(".dashboard"), 303)
    if totp.totp_secret(keys(), current_user) is None:
        totp.begin_totp_setup(db.session, keys(), current_user)
    secret = totp.totp_secret(keys(), current_user)
    uri = totp.totp_provisioning_uri(keys(), current_user)
    status = 400 if form.errors else 200
    return make_response(
        render_template("organiser/two_factor.html", enabled=False, form=form, secret=secret, uri=uri), status
    )


def _safe_next() -> str | None:
    """The organiser page to go on to after signing in, in this page's language ("next" may carry
    the language's prefix, as Flask-Login's does, or not); None for anywhere else."""
    target = request.args.get("next", "")
    root = request.script_root
    if root and target.startswith(f"{root}/"):
        target = target[len(root) :]
    return root + target if target.startswith("/organiser") and "//" not in target else None


def _signed_in(token: str, target: str, message: str | None = None):
    """Put the new session's token in the cookie, and nothing else from before sign-in."""
    session.clear()
    session[SESSION_TOKEN] = token
    if message:
        flash(message)
    return redirect(target, 303)


def _pending_organiser() -> Organiser | None:
    pending = session.get(PENDING_CODE)
    if not (isinstance(pending, list) and len(pending) == 2 and all(isinstance(v, int) for v in pending)):
        return None
    account_id, since = pending
    if time.time() - since > PENDING_SECONDS:
        return None
    organiser = db.session.get(Organiser, account_id)
    return organiser if organiser is not None and organiser.is_active and organiser.totp_enabled else None


# Throttling -----------------------------------------------------------------------------------


def _check_password(email: str, password: str) -> Organiser | None:
    """The account if the password is right and sign-in is not paused; None otherwise (audited).

    Failures count per account and address, per address, and per account from everywhere;
    failures from one address never stop the owner signing in from another (until the
    ceiling, which only a spread-out attack reaches and which is audited and logged).
    """
    address = client_key()
    account = keys().cipher.blind_index(email).hex()  # the limiter's storage never holds the email
    limits = ((PER_ACCOUNT_AND_ADDRESS, account, address), (PER_ADDRESS, address), (PER_ACCOUNT, account))
    if not all(within_limit(*limit) for limit in limits):
        organiser_sessions.record_throttled_login(db.session)
        return None
    try:
        return organiser_sessions.authenticate(db.session, email, password)
    except organiser_sessions.LoginFailed:
        for limit in limits:
            over_limit(*limit)
        if not within_limit(PER_ACCOUNT, account) and first_in_window(PER_ACCOUNT, account):
            organiser_sessions.record_login_ceiling(db.session, email)
        return None


def _check_code(organiser: Organiser, code: str) -> str | None:
    """The new session's token, or None if the code is throttled, wrong or used (audited)."""
    account = str(organiser.id)
    if not within_limit(PER_ACCOUNT_CODES, account):
        organiser_sessions.record_code_failure(db.session, organiser, "throttled")
        return None
    try:
        return totp.sign_in_with_code(db.session, keys(), organiser, code)
    except totp.CodeRejected:
        over_limit(PER_ACCOUNT_CODES, account)
        return None
