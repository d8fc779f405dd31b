"""Site settings (admins): the site-wide signing pause."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.extensions import db, forget_reference
from app.organiser import bp
from app.organiser.access import actor, admin_required
from app.organiser.forms import PauseForm
from app.services.settings import set_signing_paused, signing_paused


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    form = PauseForm()
    if form.validate_on_submit():
        set_signing_paused(db.session, actor(), form.paused.data)
        forget_reference()
        seconds = f"{current_app.config['REFERENCE_CACHE_SECONDS']:g}"
        if form.paused.data:
            flash(_("Signing is paused on every server within %(seconds)s seconds.", seconds=seconds))
        else:
            flash(_("Signing is open on every server within %(seconds)s seconds.", seconds=seconds))
        return redirect(url_for(".settings"), 303)
    form.paused.data = signing_paused(db.session)
    return render_template("organiser/settings.html", form=form)
