"""The signatory export: a filter page and the streamed CSV or OSDI JSON download."""

from __future__ import annotations

from flask import Response, make_response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.content_loader import name_of
from app.extensions import db, keys
from app.models import Organisation, Sector, utcnow
from app.organiser import bp
from app.organiser.access import actor
from app.organiser.forms import ExportForm
from app.services.counts import UnknownFilter
from app.services.export import DayOutOfRange, ExportFilters, ExportFormat, ExportScope, stream_export


def _choices(model, kind: str) -> list[SelectChoice]:
    """An "All" choice, then every sector or union (kind: "sectors" or "organisations") named in the page's language."""
    rows = db.session.execute(select(model).order_by(model.position)).scalars()
    return [SelectChoice("", _("All"))] + [SelectChoice(row.slug, name_of(kind, row)) for row in rows]


def _export_form() -> ExportForm:
    form = ExportForm(request.args)
    form.sector.choices = _choices(Sector, "sectors")
    form.org.choices = (
        _choices(Organisation, "organisations") if current_user.is_admin else [SelectChoice("", _("Your union"))]
    )
    return form


@bp.get("/exports")
@login_required
def exports():
    form = _export_form()
    if request.args and not form.validate():  # filters carried back from a link: say what is wrong
        return make_response(render_template("organiser/exports.html", form=form, query=""), 400)
    return render_template("organiser/exports.html", form=form, query=request.query_string.decode())


@bp.get("/exports/signatories.<any(csv, json):extension>")
@login_required
def export_download(extension: str):
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
    except DayOutOfRange as error:  # the form checks the range first; this keeps a 500 impossible
        form.confirmed_to.errors.append(str(error))
        return make_response(render_template("organiser/exports.html", form=form, query=""), 400)
    response = Response(stream_with_context(chunks), mimetype=export_format.media_type.split(";")[0])
    response.headers["Content-Disposition"] = f'attachment; filename="{export_format.filename(utcnow())}"'
    return response
