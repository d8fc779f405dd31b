"""Updates to signers (admins): write (with optional versions in the site's other languages), preview,
test, send, pause, cancel and follow progress."""

from __future__ import annotations

from babel import Locale
from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.content_loader import name_of
from app.extensions import db
from app.i18n import current_language, default_language, html_lang, languages
from app.models import UpdateStatus
from app.organiser import bp
from app.organiser.access import actor, admin_required
from app.organiser.forms import EmptyForm, UpdateForm
from app.services import updates
from app.services.updates import Audience, UpdateNotEditable, UpdateNotFound

STATUS_NAMES = {
    UpdateStatus.DRAFT: _l("draft"),
    UpdateStatus.SENDING: _l("sending"),
    UpdateStatus.PAUSED: _l("paused"),
    UpdateStatus.CANCELLED: _l("cancelled"),
}


def language_label(code: str) -> str:
    """A language's name in the page's language: "Welsh" on an English page, "Cymraeg" on a Welsh one."""
    return Locale.parse(code).get_display_name(current_language())


def field_name(part: str, code: str) -> str:
    """subject_cy, body_cy: a field of one language's version (a code like pt-BR becomes pt_BR)."""
    return f"{part}_{code.replace('-', '_')}"


class Version:
    """One other language's optional pair of fields on the update form."""

    def __init__(self, form: UpdateForm, code: str) -> None:
        self.code = code
        self.name = language_label(code)
        self.default_name = language_label(default_language())  # whose words its signers get without it
        self.subject = form[field_name("subject", code)]
        self.body = form[field_name("body", code)]


class VersionedUpdateForm(UpdateForm):
    """UpdateForm and, for each language but the default, an optional subject and body (added by _form_class)."""

    codes: tuple[str, ...] = ()

    def versions(self) -> list[Version]:
        return [Version(self, code) for code in self.codes]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for version in self.versions():
            subject, body = (version.subject.data or "").strip(), (version.body.data or "").strip()
            if body and not subject:
                version.subject.errors = [
                    *version.subject.errors,
                    _(
                        "Enter a %(language)s title too, or leave the %(language)s text empty.",
                        language=version.name,
                    ),
                ]
                valid = False
            if subject and not body:
                version.body.errors = [
                    *version.body.errors,
                    _(
                        "Write the %(language)s text too, or leave the %(language)s title empty.",
                        language=version.name,
                    ),
                ]
                valid = False
        return valid

    def translations(self) -> dict[str, tuple[str, str]]:
        return {version.code: (version.subject.data or "", version.body.data or "") for version in self.versions()}


def _form_class() -> type[VersionedUpdateForm]:
    """The form for this site's languages, labelled in the page's language (built per request: both can vary)."""
    codes = tuple(code for code in languages() if code != default_language())
    fields: dict = {"codes": codes}
    for code in codes:
        name, lang = language_label(code), {"lang": html_lang(code)}
        fields[field_name("subject", code)] = StringField(
            _("%(language)s title", language=name),
            description=_("The email's subject line for signers who chose %(language)s.", language=name),
            validators=[Optional(), Length(max=200)],
            render_kw=lang,
        )
        fields[field_name("body", code)] = TextAreaField(
            _("%(language)s text", language=name),
            description=_("Markdown, as above."),
            validators=[Optional(), Length(max=20_000)],
            render_kw=lang,
        )
    return type("VersionedUpdateForm", (VersionedUpdateForm,), fields)


def _form(item=None) -> VersionedUpdateForm:
    form = _form_class()()
    sectors, unions = updates.audience_choices(db.session)
    form.sector.choices = [("", _("All sectors"))] + [(str(row.id), name_of("sectors", row)) for row in sectors]
    form.union.choices = [("", _("Any union or none"))] + [
        (str(row.id), name_of("organisations", row)) for row in unions
    ]
    if item is not None and not form.is_submitted():
        form.subject.data, form.body.data = item.subject, item.body_markdown
        form.sector.data = str(item.sector_id or "")
        form.union.data = str(item.organisation_id or "")
        for version in form.versions():
            text = updates.translation(item, version.code)
            if text is not None:
                version.subject.data, version.body.data = text.subject, text.body_markdown
    return form


def _previews(item) -> list[dict]:
    """The update as each language's signers read it: the default version first, then each one written."""
    shown = [(default_language(), item.subject, item.body_markdown)] + [
        (text.language, text.subject, text.body_markdown)
        for code in languages()
        if (text := updates.translation(item, code)) is not None
    ]
    return [
        {
            "name": language_label(code),
            "lang": html_lang(code),
            "subject": subject,
            "body_markdown": body,
            "body_html": updates.render_body(body),
        }
        for code, subject, body in shown
    ]


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
            db.session,
            actor(),
            subject=form.subject.data,
            body_markdown=form.body.data,
            audience=_audience(form),
            translations=form.translations(),
        )
        return redirect(url_for(".update_detail", update_id=item.id), 303)
    return render_template(
        "organiser/updates.html", form=form, items=updates.list_updates(db.session), status_names=STATUS_NAMES
    )


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
                translations=form.translations(),
            )
            flash(_("Draft saved."))
        except UpdateNotEditable as error:
            flash(str(error))
        return redirect(url_for(".update_detail", update_id=update_id), 303)
    return render_template(
        "organiser/update.html",
        item=item,
        form=form,
        buttons=EmptyForm(),
        audience_size=updates.audience_size(db.session, Audience.of(item)),
        previews=_previews(item),
        progress=updates.progress(db.session, update_id),
        status_names=STATUS_NAMES,
    )


@bp.get("/updates/<int:update_id>/progress.json")
@admin_required
def update_progress(update_id: int):
    _update_or_404(update_id)
    return jsonify(updates.progress(db.session, update_id).as_dict())


def _button(update_id: int, action, done, not_done):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _update_or_404(update_id)
    flash(str(done if action(db.session, actor(), update_id) else not_done))
    return redirect(url_for(".update_detail", update_id=update_id), 303)


@bp.post("/updates/<int:update_id>/test")
@admin_required
def update_test(update_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _update_or_404(update_id)
    updates.send_test(db.session, actor(), update_id)
    flash(_("A test copy is on its way to %(email)s.", email=current_user.email))
    return redirect(url_for(".update_detail", update_id=update_id), 303)


@bp.post("/updates/<int:update_id>/send")
@admin_required
def update_send(update_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _update_or_404(update_id)
    queued = updates.queue_update(db.session, actor(), update_id)
    number = f"{queued:,}"
    flash(ngettext("Sending to %(number)s signer.", "Sending to %(number)s signers.", queued, number=number))
    return redirect(url_for(".update_detail", update_id=update_id), 303)


@bp.post("/updates/<int:update_id>/pause")
@admin_required
def update_pause(update_id: int):
    return _button(update_id, updates.pause_update, _l("Paused."), _l("Only an update that is sending can be paused."))


@bp.post("/updates/<int:update_id>/resume")
@admin_required
def update_resume(update_id: int):
    return _button(update_id, updates.resume_update, _l("Sending again."), _l("Only a paused update can be resumed."))


@bp.post("/updates/<int:update_id>/cancel")
@admin_required
def update_cancel(update_id: int):
    return _button(
        update_id, updates.cancel_update, _l("Cancelled: nothing more will be sent."), _l("This update is not sending.")
    )
