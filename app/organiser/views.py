"""The organiser dashboard: sign-up figures, scoped to the organiser's union unless an admin."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from app.extensions import db
from app.organiser import bp
from app.organiser.access import scope_org_id
from app.services.dashboard import dashboard as dashboard_figures
from app.services.settings import signing_paused


@bp.get("/")
@login_required
def dashboard():
    figures = dashboard_figures(db.session, scope_org_id())
    return render_template("organiser/dashboard.html", d=figures, paused=signing_paused(db.session))
