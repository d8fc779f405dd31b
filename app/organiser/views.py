"""The organiser dashboard: exact figures for admins; a union's organiser sees its members
who did not agree to sharing only through the disclosure rule."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.organiser import bp
from app.organiser.access import scope_org_id
from app.services.dashboard import dashboard as dashboard_figures
from app.services.dashboard import union_dashboard
from app.services.disclosure import THRESHOLD
from app.services.settings import signing_paused


@bp.get("/")
@login_required
def dashboard():
    org_id = scope_org_id()
    figures = dashboard_figures(db.session) if org_id is None else union_dashboard(db.session, org_id)
    return render_template(
        "organiser/dashboard.html",
        d=figures,
        union=org_id is not None,
        rule=_rule(),
        threshold=THRESHOLD,
        paused=signing_paused(db.session),
    )


def _rule() -> str:
    """disclosure.RULE in the page's language (test_dashboard checks the English is RULE itself)."""
    return _(
        "Figures about fewer than %(threshold)s people are not shown, and neither is what they are about: such rows "
        "are added together under “other”, which is shown only if it comes to %(threshold)s or more. Where a hidden "
        "figure could still be worked out from the figures shown, the smallest shown rows are hidden with it.",
        threshold=THRESHOLD,
    )
