"""Updates to signers (admins): write, preview, test, send, pause, cancel and follow progress."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from app.extensions import db
from app.organiser import bp
from app.organiser.access import actor, admin_required
from app.organiser.forms import EmptyForm, UpdateForm
from app.services import updates
from app.services.updates import Audience, UpdateNotEditable, UpdateNotFound


def _form(item=None) -> UpdateForm:
    form = UpdateForm()
    sectors, unions = updates.audience_choices(db.session)
    form.sector.choices = [("", "All sectors")] + [(str(i), name) for i, name in sectors]
    form.union.choices = [("", "Any union or none")] + [(str(i), name) for i, name in unions]
    if item is not None and not form.is_submitted():
        form.subject.data, form.body.data = item.subject, item.body_markdown
        form.sector.data = str(item.sector_id or "")
        form.union.data = str(item.organisation_id or "")
    return form


def _audience(form: UpdateForm) -> Audience:
    return Audience(
        sector_id=int(form.sector.data) if form.sector.data else None,
        organisation_id=int(form.union.data) if form.union.data else None,
    )


def _update_or_404(update_id: int):
    try:
        return updates.get_update(db.session, update_id)
    except UpdateNotFound:
        abort(404)


@bp.route("/updates", methods=["GET", "POST"])
@admin_required
def updates_list():
    form = _form()
    if form.validate_on_submit():
        item = updates.save_draft(
            db.session, actor(), subject=form.subject.data, body_markdown=form.body.data, audience=_audience(form)
        )
        return redirect(url_for(".update_detail", update_id=item.id), 303)
    return render_template("organiser/updates.html", form=form, items=updates.list_updates(db.session))


@bp.route("/updates/<int:update_id>", methods=["GET", "POST"])
@admin_required
def update_detail(update_id: int):
    item = _update_or_404(update_id)
    form = _form(item)
    if form.validate_on_submit():
        try:
            updates.save_draft(
                db.session,
                actor(),
                update_id=update_id,
                subject=form.subject.data,
                body_markdown=form.body.data,
                audience=_audience(form),
            )
            flash("Draft saved.")
        except UpdateNotEditable as error:
            flash(str(error))
        return redirect(url_for(".update_detail", update_id=update_id), 303)
    return render_template(
        "organiser/update.html",
        item=item,
        form=form,
        buttons=EmptyForm(),
        audience_size=updates.audience_size(db.session, Audience.of(item)),
        body_html=updates.render_body(item.body_markdown),
        progress=updates.progress(db.session, update_id),
    )


@bp.get("/updates/<int:update_id>/progress.json")
@admin_required
def update_progress(update_id: int):
    _update_or_404(update_id)
    return jsonify(updates.progress(db.session, update_id).as_dict())


def _button(update_id: int, action, done: str, not_done: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _update_or_404(update_id)
    flash(done if action(db.session, actor(), update_id) else not_done)
    return redirect(url_for(".update_detail", update_id=update_id), 303)


@bp.post("/updates/<int:update_id>/test")
@admin_required
def update_test(update_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _update_or_404(update_id)
    updates.send_test(db.session, actor(), update_id)
    flash(f"A test copy is on its way to {current_user.email}.")
    return redirect(url_for(".update_detail", update_id=update_id), 303)


@bp.post("/updates/<int:update_id>/send")
@admin_required
def update_send(update_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _update_or_404(update_id)
    queued = updates.queue_update(db.session, actor(), update_id)
    flash(f"Sending to {queued:,} signers.")
    return redirect(url_for(".update_detail", update_id=update_id), 303)


@bp.post("/updates/<int:update_id>/pause")
@admin_required
def update_pause(update_id: int):
    return _button(update_id, updates.pause_update, "Paused.", "Only an update that is sending can be paused.")


@bp.post("/updates/<int:update_id>/resume")
@admin_required
def update_resume(update_id: int):
    return _button(update_id, updates.resume_update, "Sending again.", "Only a paused update can be resumed.")


@bp.post("/updates/<int:update_id>/cancel")
@admin_required
def update_cancel(update_id: int):
    return _button(
        update_id, updates.cancel_update, "Cancelled: nothing more will be sent.", "This update is not sending."
    )
