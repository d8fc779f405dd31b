"""Offline campaigning in the organiser area: paper tallies, and CSV files typed up from paper forms."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import content_loader as content
from app.extensions import db, keys
from app.models import Organisation, PaperImport, Sector
from app.organiser import bp
from app.organiser.access import actor, admin_required, scope_org_id
from app.organiser.paper_forms import (
    BatchForm,
    CorrectTallyForm,
    StartImportForm,
    TallyForm,
    UploadForm,
    WithdrawTallyForm,
)
from app.services import paper, paper_import
from app.services.paper_import import MAX_BYTES, ImportRefused, RowOutcome

# The upload and the previewed file sent back are bigger than the site's request limit (config.py).
LARGE_FORM_ENDPOINTS = frozenset(
    {"organiser.paper_upload", "organiser.start_paper_import", "organiser.paper_import_batch"}
)


@bp.url_value_preprocessor
def allow_paper_files(endpoint, values) -> None:
    """Raise the request size limit for the paper-form pages only. A URL value preprocessor runs
    before every before_request function, so before CSRFProtect reads the form."""
    if endpoint in LARGE_FORM_ENDPOINTS:
        request.max_content_length = 4 * MAX_BYTES  # the text URL-encoded, with room for the rest
        request.max_form_memory_size = 2 * MAX_BYTES


def _recorder() -> paper.Recorder:
    return paper.Recorder(actor(), current_user.is_admin, scope_org_id())


def _choices(form: TallyForm) -> None:
    sectors = db.session.execute(select(Sector).order_by(Sector.position, Sector.id)).scalars().all()
    organisations = db.session.execute(select(Organisation).order_by(Organisation.position)).scalars().all()
    if current_user.is_admin:
        form.set_choices(sectors, organisations)
    else:
        form.set_choices(sectors, organisations, current_user.organisation, paper.ORGANISER_MAX)


def _details(form: TallyForm) -> paper.TallyDetails:
    return paper.TallyDetails(
        event_name=form.event_name.data,
        event_date=form.event_date.data,
        sector_id=int(form.sector.data),
        organisation_id=int(form.organisation.data) if form.organisation.data else None,
        count=form.count.data,
    )


def _refused(form, error: paper.TallyRefused) -> None:
    """Put the service's message on the field it is about (or on the count if it names none)."""
    field = getattr(form, error.field or "", None) or form.count
    field.errors = [*field.errors, str(error)]


def _paper_page(form: TallyForm, status: int = 200):
    org_id = scope_org_id()
    return render_template(
        "organiser/paper.html",
        form=form,
        tallies=paper.tallies(db.session, org_id),
        imports=paper_import.imports(db.session, org_id),
        organiser_max=paper.ORGANISER_MAX,
    ), status


@bp.get("/paper")
@login_required
def paper_tallies():
    form = TallyForm()
    _choices(form)
    return _paper_page(form)


@bp.post("/paper/tallies")
@login_required
def record_tally():
    form = TallyForm()
    _choices(form)
    if form.validate_on_submit():
        try:
            tally = paper.record_tally(db.session, _recorder(), _details(form))
        except paper.TallyRefused as error:
            _refused(form, error)
        else:
            flash(_("Recorded %(count)s on paper at %(event)s.", count=f"{tally.count:,}", event=tally.event_name))
            return redirect(url_for(".paper_tallies"), 303)
    return _paper_page(form, 400)


@bp.route("/paper/tallies/<int:tally_id>", methods=["GET", "POST"])
@admin_required
def correct_tally(tally_id: int):
    try:
        tally = paper.tally_for(db.session, tally_id)
    except paper.TallyNotFound:
        abort(404)
    form = CorrectTallyForm(
        data=None
        if request.method == "POST"
        else {
            "event_name": tally.event_name,
            "event_date": tally.event_date,
            "sector": str(tally.sector_id),
            "organisation": str(tally.organisation_id or ""),
            "count": tally.count,
        }
    )
    _choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            paper.correct_tally(db.session, _recorder(), tally_id, _details(form), form.reason.data)
        except paper.TallyRefused as error:
            _refused(form, error)
        else:
            flash(_("Tally corrected."))
            return redirect(url_for(".paper_tallies"), 303)
    if form.is_submitted():
        status = 400
    return render_template(
        "organiser/paper_tally.html",
        form=form,
        tally=tally,
        withdraw_form=WithdrawTallyForm(formdata=None, prefix="withdraw"),
    ), status


@bp.post("/paper/tallies/<int:tally_id>/withdraw")
@admin_required
def withdraw_tally(tally_id: int):
    try:
        tally = paper.tally_for(db.session, tally_id)
    except paper.TallyNotFound:
        abort(404)
    form = WithdrawTallyForm(prefix="withdraw")
    if form.validate_on_submit():
        try:
            paper.withdraw_tally(db.session, _recorder(), tally_id, form.reason.data)
        except paper.TallyRefused as error:
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            flash(_("Tally withdrawn: it no longer counts."))
            return redirect(url_for(".paper_tallies"), 303)
    correct = CorrectTallyForm(formdata=None)
    _choices(correct)
    return render_template("organiser/paper_tally.html", form=correct, tally=tally, withdraw_form=form), 400


def _wording_version() -> str:
    return content.pledge()["version"]


@bp.route("/paper/import", methods=["GET", "POST"])
@login_required
def paper_upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("organiser/paper_import.html", form=form), 400 if form.is_submitted() else 200
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [_("Choose a CSV file to upload.")]
        return render_template("organiser/paper_import.html", form=form), 400
    try:
        text = paper_import.decode(upload.read(MAX_BYTES + 1))
        checked = paper_import.preview(
            db.session,
            text,
            form.event_name.data,
            scope_org_id=scope_org_id(),
            wording_version=_wording_version(),
        )
    except ImportRefused as error:
        form.file.errors = [str(error)]
        return render_template("organiser/paper_import.html", form=form), 400
    start = StartImportForm(formdata=None, data={"event_name": checked.event_name, "text": text})
    return render_template("organiser/paper_preview.html", preview=checked, start=start, outcomes=RowOutcome, form=form)


@bp.post("/paper/imports")
@login_required
def start_paper_import():
    """Start the previewed import. The page's script asks for JSON and sends the rows in batches,
    moving its progress bar; without JavaScript every batch runs here and the result page shows."""
    form = StartImportForm()
    if not form.validate_on_submit():
        return _import_error(_("The import form was incomplete: upload the file again."))
    try:
        started = paper_import.start_import(
            db.session,
            actor(),
            form.text.data,
            form.event_name.data,
            scope_org_id=scope_org_id(),
            wording_version=_wording_version(),
        )
    except ImportRefused as error:
        return _import_error(str(error))
    if _wants_json():
        return jsonify(_progress(started))
    while started.finished_at is None:
        started = _batch(started, form.text.data)
    return redirect(url_for(".paper_import_result", import_id=started.id), 303)


@bp.post("/paper/imports/<int:import_id>/batch")
@login_required
def paper_import_batch(import_id: int):
    running = _own_import(import_id)
    form = BatchForm()
    if not form.validate_on_submit():
        return jsonify(error=_("Send the previewed file's text with the page's token.")), 400
    try:
        running = _batch(running, form.text.data)
    except ImportRefused as error:
        return jsonify(error=str(error)), 400
    return jsonify(_progress(running))


@bp.get("/paper/imports/<int:import_id>")
@login_required
def paper_import_result(import_id: int):
    return render_template("organiser/paper_import_result.html", imported=_own_import(import_id))


def _batch(running: PaperImport, text: str) -> PaperImport:
    return paper_import.import_batch(
        db.session,
        keys(),
        actor(),
        running,
        text,
        wording_version=_wording_version(),
        max_emails=current_app.config["MAIL_MAX_PER_SIGNATURE"],
    )


def _own_import(import_id: int) -> PaperImport:
    """An import the signed-in organiser may see: an admin any, a union organiser their union's."""
    found = db.session.get(PaperImport, import_id)
    org_id = scope_org_id()
    if found is None or (org_id is not None and found.organisation_id != org_id):
        abort(404)
    return found


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _import_error(message: str):
    if _wants_json():
        return jsonify(error=message), 400
    form = UploadForm(formdata=None)
    form.file.errors = [message]
    return render_template("organiser/paper_import.html", form=form), 400


def _progress(running: PaperImport) -> dict:
    return {
        "id": running.id,
        "total": running.total_rows,
        "processed": running.processed_rows,
        "queued": running.queued_count,
        "duplicates": running.duplicate_count,
        "errors": running.rejected_count,
        "finished": running.finished_at is not None,
        "batch_url": url_for(".paper_import_batch", import_id=running.id),
        "result_url": url_for(".paper_import_result", import_id=running.id),
    }
