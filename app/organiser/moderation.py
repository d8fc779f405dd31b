"""Moderation (admins): find, invalidate or delete sign-ups, release held ones, block email domains."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.datastructures import MultiDict

from app.extensions import db, forget_reference, keys
from app.organiser import bp
from app.organiser.access import actor, admin_required
from app.organiser.forms import BlockDomainForm, BulkForm, EmptyForm, ReasonForm, SearchForm, SelectionForm
from app.services import moderation

SEARCH_FIELDS = ("email", "domain", "source", "status", "created_from", "created_to")


@bp.get("/moderation")
@admin_required
def moderation_search():
    form = SearchForm(request.args)
    results, error = None, None
    if request.args and form.validate():
        try:
            results = moderation.find(
                db.session,
                keys(),
                actor(),
                _criteria(form),
                page=request.args.get("page", 1, type=int),
                upto=request.args.get("upto", type=int),
            )
        except moderation.ModerationError as exc:
            error = str(exc)
    return _search_page(form, results=results, error=error)


def _search_page(
    form: SearchForm,
    *,
    results: moderation.Page | None = None,
    error: str | None = None,
    revealed: moderation.Found | None = None,
    back: str | None = None,
):
    """The moderation page: the search, its results or one revealed row; 400 if the search failed."""
    page = render_template(
        "organiser/moderation.html",
        form=form,
        results=results,
        error=error,
        revealed=revealed,
        back=back,
        search_args=_search_args(),
    )
    return make_response(page, 400 if error or form.errors else 200)


def _search_args() -> dict[str, str]:
    """The criteria in this request's query, for links that keep them (paging, bulk)."""
    return {name: request.args[name] for name in SEARCH_FIELDS if request.args.get(name)}


def _criteria(form: SearchForm) -> moderation.Criteria:
    return moderation.Criteria(
        email=form.email.data or None,
        domain=form.domain.data or None,
        source=form.source.data or None,
        status=form.status.data or None,
        created_from=form.created_from.data,
        created_to=form.created_to.data,
    )


def _back(default: str = ".moderation_search") -> str:
    """The list an action was taken from (the form's "back": the search with its page, or held)."""
    back = urlsplit(request.form.get("back", ""))
    args = dict(parse_qsl(back.query))
    if back.path == url_for(".held"):
        return url_for(".held", **{k: v for k, v in args.items() if k == "page"})
    if back.path == url_for(".moderation_search"):
        return url_for(".moderation_search", **{k: v for k, v in args.items() if k in (*SEARCH_FIELDS, "page", "upto")})
    return url_for(default)


@bp.post("/moderation/<int:signature_id>/reveal")
@admin_required
def reveal(signature_id: int):
    """One sign-up's name and email in full: a deliberate, audited step (never cached: no-store)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        found = moderation.reveal(db.session, keys(), actor(), signature_id)
    except moderation.ModerationError as error:
        flash(str(error))
        return redirect(_back(), 303)
    back = _back()
    search = SearchForm(MultiDict(parse_qsl(urlsplit(back).query)))
    return _search_page(search, revealed=found, back=back)


@bp.post("/moderation/<int:signature_id>/<any(invalidate, delete):action>")
@admin_required
def moderate(signature_id: int, action: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason of up to 200 characters."))
        return redirect(_back(), 303)
    try:
        if action == "invalidate":
            moderation.invalidate(db.session, actor(), [signature_id], form.reason.data)
        else:
            moderation.delete(db.session, actor(), signature_id, form.reason.data)
    except moderation.ModerationError as error:
        flash(str(error))
    else:
        if action == "invalidate":
            flash(_("Signature %(id)s: invalidated.", id=signature_id))
        else:
            flash(_("Signature %(id)s: deleted.", id=signature_id))
    return redirect(_back(), 303)


@bp.post("/moderation/selected/<any(invalidate, delete):action>")
@admin_required
def moderate_selection(action: str):
    """The rows ticked on a page of results, invalidated or deleted together (each audited)."""
    form = SelectionForm()
    if not form.validate_on_submit():
        flash(" ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect(_back(), 303)
    try:
        changed = moderation.moderate_selected(db.session, actor(), action, form.ids.data, form.reason.data)
    except moderation.ModerationError as error:
        flash(str(error))
    else:
        flash(_selection_done(action, changed, len(set(form.ids.data))))
    return redirect(_back(), 303)


def _selection_done(action: str, changed: int, selected: int) -> str:
    # English says "sign-ups" whatever the number, as it always has; ngettext gives Welsh its plural forms.
    if action == "invalidate":
        return ngettext(
            "%(changed)s of %(num)s selected sign-ups invalidated.",
            "%(changed)s of %(num)s selected sign-ups invalidated.",
            selected,
            changed=changed,
        )
    return ngettext(
        "%(changed)s of %(num)s selected sign-ups deleted.",
        "%(changed)s of %(num)s selected sign-ups deleted.",
        selected,
        changed=changed,
    )


@bp.route("/moderation/bulk", methods=["GET", "POST"])
@admin_required
def moderation_bulk():
    search = SearchForm(request.args)
    if not request.args:
        return redirect(url_for(".moderation_search"))
    if not search.validate():
        return _search_page(search)
    criteria = _criteria(search)
    form = BulkForm()
    try:
        if form.validate_on_submit():
            changed = moderation.bulk_invalidate(
                db.session, keys(), actor(), criteria, form.reason.data, form.expected.data
            )
            flash(ngettext("%(num)s sign-ups invalidated.", "%(num)s sign-ups invalidated.", changed))
            return redirect(url_for(".moderation_search", **_search_args()), 303)
        matched = moderation.count_matching(db.session, keys(), criteria)
    except moderation.ModerationError as error:
        flash(str(error))
        return redirect(url_for(".moderation_search"), 303)
    return render_template(
        "organiser/bulk.html", form=form, matched=matched, criteria=criteria.describe(), search_args=_search_args()
    )


@bp.get("/moderation/held")
@admin_required
def held():
    found = moderation.held(db.session, keys(), request.args.get("page", 1, type=int))
    return render_template("organiser/held.html", held=found, form=EmptyForm())


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
        flash(_("Released: we have sent its confirmation email."))
    return redirect(_back(".held"), 303)


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
            forget_reference()
            flash(
                _(
                    "Domain blocked: new sign-ups from it will be held for review within %(seconds)s seconds "
                    "on every server.",
                    seconds=_reference_lifetime(),
                )
            )
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
    forget_reference()
    return redirect(url_for(".blocked_domains"), 303)


def _reference_lifetime() -> str:
    return f"{current_app.config['REFERENCE_CACHE_SECONDS']:g}"
