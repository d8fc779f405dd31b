"""Organiser pages. Every response is no-store; every POST has CSRF; admin pages 403 others."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import wraps

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.extensions import db, keys, login_manager
from app.models import Organisation, Organiser, Sector, utcnow
from app.organiser import bp
from app.organiser.forms import (
    BlockDomainForm,
    BulkForm,
    CodeForm,
    EmptyForm,
    ExportForm,
    LoginForm,
    PasswordForm,
    PauseForm,
    ReasonForm,
    ResetRequestForm,
    SearchForm,
)
from app.rate_limits import client_key, over_limit
from app.services import audit, moderation, organisers, tokens
from app.services.counts import UnknownFilter
from app.services.dashboard import dashboard as dashboard_figures
from app.services.export import ExportFilters, ExportFormat, ExportScope, stream_export
from app.services.settings import set_signing_paused, signing_paused

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


@bp.after_request
def never_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def actor() -> audit.Actor:
    return audit.Actor.of(current_user)


def scope_org_id() -> int | None:
    """None for admins (everything); the organiser's own union otherwise."""
    return None if current_user.is_admin else current_user.organisation_id


# Signing in and out -----------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        throttled = over_limit("RATELIMIT_LOGIN_IP", client_key()) | over_limit("RATELIMIT_LOGIN_ACCOUNT", email)
        try:
            if throttled:
                audit.record(db.session, audit.ANONYMOUS, "login.failed", reason="throttled")
                db.session.commit()
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
        audit.record(db.session, audit.Actor.of(organiser), "login.failed", account_id=organiser.id, reason="code")
        db.session.commit()
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
    audit.record(db.session, actor(), "logout", account_id=current_user.id)
    db.session.commit()
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
    import pyotp

    uri = pyotp.TOTP(secret).provisioning_uri(name=current_user.email, issuer_name="Care Don't Share")
    status = 400 if form.errors else 200
    return make_response(
        render_template("organiser/two_factor.html", enabled=False, form=form, secret=secret, uri=uri), status
    )


# Dashboard -------------------------------------------------------------------------------


@bp.get("/")
@login_required
def dashboard():
    figures = dashboard_figures(db.session, scope_org_id())
    return render_template("organiser/dashboard.html", d=figures, paused=signing_paused(db.session))


# Exports ---------------------------------------------------------------------------------


def _export_form() -> ExportForm:
    form = ExportForm(request.args)
    form.sector.choices = _choices(Sector)
    form.org.choices = _choices(Organisation) if current_user.is_admin else [SelectChoice("", "Your union")]
    return form


@bp.get("/exports")
@login_required
def exports():
    form = _export_form()
    return render_template("organiser/exports.html", form=form, query=request.query_string.decode())


@bp.get("/exports/signatories.<any(csv, json):extension>")
@login_required
def export_download(extension: str):
    if not current_user.totp_enabled:
        flash("Switch on two-factor sign-in before exporting personal data.")
        return redirect(url_for(".two_factor"), 303)
    form = _export_form()
    if not form.validate():
        return make_response(render_template("organiser/exports.html", form=form, query=""), 400)
    consent = {"yes": True, "no": False}.get(form.consent_updates.data or "")
    filters = ExportFilters(
        sector=form.sector.data or None,
        org=form.org.data or None,
        source=form.source.data or None,
        confirmed_from=form.confirmed_from.data,
        confirmed_to=form.confirmed_to.data,
        consent_updates=consent,
    )
    export_format = ExportFormat.CSV if extension == "csv" else ExportFormat.OSDI
    try:
        chunks = stream_export(db.session, keys(), actor(), export_format, filters, ExportScope.of(current_user))
    except UnknownFilter as error:
        form.sector.errors.append(str(error))
        return make_response(render_template("organiser/exports.html", form=form, query=""), 400)
    response = Response(stream_with_context(chunks), mimetype=export_format.media_type.split(";")[0])
    response.headers["Content-Disposition"] = f'attachment; filename="{export_format.filename(utcnow())}"'
    return response


# Audit log (admins) ----------------------------------------------------------------------


@bp.get("/audit")
@admin_required
def audit_log():
    action = request.args.get("action", "").strip()[:64] or None
    who = request.args.get("actor", "").strip()[:254] or None
    events = audit.events(db.session, action=action, actor=who, limit=500)
    return render_template("organiser/audit.html", events=events, action=action or "", who=who or "")


# Moderation (admins) ---------------------------------------------------------------------


@bp.get("/moderation")
@admin_required
def moderation_search():
    form = SearchForm(request.args)
    results, error, criteria = None, None, None
    if request.args and form.validate():
        criteria = _criteria(form)
        try:
            results = moderation.find(db.session, keys(), actor(), criteria)
        except moderation.ModerationError as exc:
            error = str(exc)
    status = 400 if error or form.errors else 200
    return make_response(
        render_template(
            "organiser/moderation.html",
            form=form,
            results=results,
            error=error,
            reason_form=ReasonForm(),
            bulk_query=request.query_string.decode(),
        ),
        status,
    )


def _criteria(form: SearchForm) -> moderation.Criteria:
    return moderation.Criteria(
        email=form.email.data or None,
        domain=form.domain.data or None,
        source=form.source.data or None,
        status=form.status.data or None,
        created_from=form.created_from.data,
        created_to=form.created_to.data,
    )


@bp.post("/moderation/<int:signature_id>/<any(invalidate, delete):action>")
@admin_required
def moderate(signature_id: int, action: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give a reason of up to 200 characters.")
        return redirect(request.referrer or url_for(".moderation_search"), 303)
    try:
        if action == "invalidate":
            moderation.invalidate(db.session, actor(), [signature_id], form.reason.data)
        else:
            moderation.delete(db.session, actor(), signature_id, form.reason.data)
    except moderation.ModerationError as error:
        flash(str(error))
    else:
        flash(f"Signature {signature_id}: {action}d.")
    return redirect(url_for(".moderation_search"), 303)


@bp.route("/moderation/bulk", methods=["GET", "POST"])
@admin_required
def moderation_bulk():
    search = SearchForm(request.args)
    if not request.args or not search.validate():
        return redirect(url_for(".moderation_search"))
    criteria = _criteria(search)
    form = BulkForm()
    try:
        if form.validate_on_submit():
            changed = moderation.bulk_invalidate(
                db.session, keys(), actor(), criteria, form.reason.data, form.expected.data
            )
            flash(f"{changed} sign-ups invalidated.")
            return redirect(url_for(".moderation_search"), 303)
        matched = moderation.count_matching(db.session, keys(), criteria)
    except moderation.ModerationError as error:
        flash(str(error))
        return redirect(url_for(".moderation_search"), 303)
    return render_template("organiser/bulk.html", form=form, matched=matched, criteria=criteria.describe())


@bp.get("/moderation/held")
@admin_required
def held():
    return render_template("organiser/held.html", held=moderation.held(db.session, keys()), form=EmptyForm())


@bp.post("/moderation/held/<int:signature_id>/release")
@admin_required
def release(signature_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        moderation.release(db.session, actor(), signature_id)
    except moderation.ModerationError as error:
        flash(str(error))
    else:
        flash("Released: we have sent its confirmation email.")
    return redirect(url_for(".held"), 303)


@bp.route("/moderation/domains", methods=["GET", "POST"])
@admin_required
def blocked_domains():
    form = BlockDomainForm()
    if form.validate_on_submit():
        try:
            moderation.block_domain(db.session, actor(), form.domain.data, form.reason.data or "")
        except moderation.ModerationError as error:
            form.domain.errors.append(str(error))
        else:
            flash("Domain blocked: new sign-ups from it will be held for review.")
            return redirect(url_for(".blocked_domains"), 303)
    return make_response(
        render_template(
            "organiser/domains.html", form=form, domains=moderation.blocked_domains(db.session), remove=EmptyForm()
        ),
        400 if form.errors else 200,
    )


@bp.post("/moderation/domains/<int:domain_id>/remove")
@admin_required
def unblock_domain(domain_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        moderation.unblock_domain(db.session, actor(), domain_id)
    except moderation.ModerationError as error:
        flash(str(error))
    return redirect(url_for(".blocked_domains"), 303)


# Settings (admins) -----------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    form = PauseForm()
    if form.validate_on_submit():
        set_signing_paused(db.session, form.paused.data)
        audit.record(db.session, actor(), "settings.signing_paused", paused=form.paused.data)
        db.session.commit()
        flash("Signing is paused." if form.paused.data else "Signing is open.")
        return redirect(url_for(".settings"), 303)
    form.paused.data = signing_paused(db.session)
    return render_template("organiser/settings.html", form=form)


def _choices(model) -> list[SelectChoice]:
    rows = db.session.execute(select(model.slug, model.name).order_by(model.position)).all()
    return [SelectChoice("", "All")] + [SelectChoice(slug, name) for slug, name in rows]
