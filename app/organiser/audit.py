"""The audit log page (admins): newest events first, filtered by action or actor."""

from __future__ import annotations

from flask import render_template, request

from app.extensions import db
from app.organiser import bp
from app.organiser.access import admin_required
from app.services.audit import events


@bp.get("/audit")
@admin_required
def audit_log():
    action = request.args.get("action", "").strip()[:64] or None
    who = request.args.get("actor", "").strip()[:254] or None
    found = events(db.session, action=action, actor=who, limit=500)
    return render_template("organiser/audit.html", events=found, action=action or "", who=who or "")
