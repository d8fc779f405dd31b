"""Signing in and out, passwords and two-factor setup for organiser accounts."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import abort, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import db, keys, login_manager
from app.models import Organiser
from app.organiser import bp
from app.organiser.forms import CodeForm, EmptyForm, LoginForm, PasswordForm, ResetRequestForm
from app.rate_limits import client_key, over_limit
from app.services import organisers, tokens

LOGIN_FAILED = (
    "We could not sign you in with that email address and password. "
    "After several failed tries, sign-in is paused for 15 minutes."
)


@login_manager.user_loader
def load_organiser(user_id: str) -> Organiser | None:
    account_id, _, nonce = user_id.partition(":")
    organiser = db.session.get(Organiser, int(account_id)) if account_id.isdigit() else None
    if organiser is None or organiser.session_nonce != nonce or not organiser.is_active:
        return None
    return organiser


@bp.before_request
def expire_idle_sessions():
    if current_user.is_authenticated:
        now = time.time()
        idle = current_app.config["ORGANISER_IDLE_MINUTES"] * 60
        if now - session.get("organiser_seen", now) > idle:
            logout_user()
            session.pop("organiser_seen", None)
            flash("You were signed out after a period of inactivity.")
            return redirect(url_for(".login", next=request.path))
        session["organiser_seen"] = now
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        throttled = over_limit("RATELIMIT_LOGIN_IP", client_key()) | over_limit("RATELIMIT_LOGIN_ACCOUNT", email)
        try:
            if throttled:
                organisers.record_throttled_login(db.session)
                raise organisers.LoginFailed
            organiser = organisers.authenticate(
                db.session,
                email,
                form.password.data,
                max_failures=current_app.config["ORGANISER_LOCKOUT_FAILURES"],
                lockout=timedelta(minutes=current_app.config["ORGANISER_LOCKOUT_MINUTES"]),
            )
        except organisers.LoginFailed:
            error = LOGIN_FAILED
        else:
            if organiser.totp_enabled:
                session["organiser_2fa"] = organiser.get_id()
                return redirect(url_for(".login_code", next=_safe_next()), 303)
            return _complete_login(organiser)
    status = 400 if form.is_submitted() else 200
    return make_response(render_template("organiser/login.html", form=form, error=error), status)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    pending = session.get("organiser_2fa")
    organiser = load_organiser(pending) if pending else None
    if organiser is None:
        return redirect(url_for(".login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if not over_limit("RATELIMIT_LOGIN_ACCOUNT", f"2fa:{organiser.id}") and organisers.verify_totp(
            keys(), organiser, form.code.data
        ):
            session.pop("organiser_2fa", None)
            return _complete_login(organiser)
        organisers.record_code_failure(db.session, organiser)
        error = "That code did not work. Codes change every 30 seconds; try the current one."
    return make_response(render_template("organiser/code.html", form=form, error=error), 400 if error else 200)


def _safe_next() -> str | None:
    target = request.args.get("next", "")
    return target if target.startswith("/organiser") and "//" not in target else None


def _complete_login(organiser: Organiser):
    login_user(organiser)
    session["organiser_seen"] = time.time()
    organisers.record_login(db.session, organiser)
    return redirect(_safe_next() or url_for(".dashboard"), 303)


@bp.post("/logout")
@login_required
def logout():
    if not EmptyForm().validate_on_submit():
        abort(400)
    organisers.record_logout(db.session, current_user)
    logout_user()
    session.clear()
    flash("You have signed out.")
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
            flash("Your password is set. Sign in with it now.")
            return redirect(url_for(".login"), 303)
    status = 400 if form.errors else 200
    return make_response(render_template("organiser/password.html", form=form, organiser=organiser), status)


@bp.route("/password/reset", methods=["GET", "POST"])
def reset_password():
    form = ResetRequestForm()
    if form.validate_on_submit():
        if not over_limit("RATELIMIT_LOGIN_IP", client_key()):
            organisers.request_password_reset(db.session, form.email.data)
        return render_template("organiser/reset_sent.html")
    return make_response(render_template("organiser/reset.html", form=form), 400 if form.errors else 200)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            organisers.confirm_totp(db.session, keys(), current_user, form.code.data)
        except organisers.AccountError as error:
            form.code.errors.append(str(error))
        else:
            flash("Two-factor sign-in is on.")
            return redirect(url_for(".dashboard"), 303)
    elif current_user.totp_enabled:
        return render_template("organiser/two_factor.html", enabled=True)
    if not form.is_submitted() or organisers.totp_secret(keys(), current_user) is None:
        organisers.begin_totp_setup(db.session, keys(), current_user)
    secret = organisers.totp_secret(keys(), current_user)
    uri = organisers.totp_provisioning_uri(keys(), current_user)
    status = 400 if form.errors else 200
    return make_response(
        render_template("organiser/two_factor.html", enabled=False, form=form, secret=secret, uri=uri), status
    )
