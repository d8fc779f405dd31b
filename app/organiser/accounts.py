"""Organiser accounts (admins): who has access, and switching an account off or on again."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.extensions import db
from app.organiser import bp
from app.organiser.access import actor, admin_required
from app.organiser.forms import EmptyForm
from app.services import organisers


@bp.get("/accounts")
@admin_required
def accounts():
    return render_template("organiser/accounts.html", accounts=organisers.list_organisers(db.session))


@bp.post("/accounts/<int:account_id>/disable")
@admin_required
def disable_account(account_id: int):
    return _change(
        organisers.disable_organiser, account_id, _l("Account %(id)s is disabled and signed out everywhere.")
    )


@bp.post("/accounts/<int:account_id>/enable")
@admin_required
def enable_account(account_id: int):
    return _change(organisers.enable_organiser, account_id, _l("Account %(id)s can sign in again."))


def _change(change: Callable[..., object], account_id: int, done: LazyString):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        change(db.session, actor(), account_id)
    except organisers.AccountError as error:
        flash(str(error))
    else:
        flash(done % {"id": account_id})
    return redirect(url_for(".accounts"), 303)
