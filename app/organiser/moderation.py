"""Moderation (admins): find, invalidate or delete sign-ups, release held ones, block email domains."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for

from app.extensions import db, keys
from app.organiser import bp
from app.organiser.access import actor, admin_required
from app.organiser.forms import BlockDomainForm, BulkForm, EmptyForm, ReasonForm, SearchForm
from app.services import moderation


@bp.get("/moderation")
@admin_required
def moderation_search():
    form = SearchForm(request.args)
    results, error, criteria = None, None, None
    if request.args and form.validate():
        criteria = _criteria(form)
        try:
            results = moderation.find(db.session, keys(), actor(), criteria)
        except moderation.ModerationError as exc:
            error = str(exc)
    status = 400 if error or form.errors else 200
    return make_response(
        render_template(
            "organiser/moderation.html",
            form=form,
            results=results,
            error=error,
            reason_form=ReasonForm(),
            bulk_query=request.query_string.decode(),
        ),
        status,
    )


def _criteria(form: SearchForm) -> moderation.Criteria:
    return moderation.Criteria(
        email=form.email.data or None,
        domain=form.domain.data or None,
        source=form.source.data or None,
        status=form.status.data or None,
        created_from=form.created_from.data,
        created_to=form.created_to.data,
    )


@bp.post("/moderation/<int:signature_id>/<any(invalidate, delete):action>")
@admin_required
def moderate(signature_id: int, action: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give a reason of up to 200 characters.")
        return redirect(request.referrer or url_for(".moderation_search"), 303)
    try:
        if action == "invalidate":
            moderation.invalidate(db.session, actor(), [signature_id], form.reason.data)
        else:
            moderation.delete(db.session, actor(), signature_id, form.reason.data)
    except moderation.ModerationError as error:
        flash(str(error))
    else:
        flash(f"Signature {signature_id}: {action}d.")
    return redirect(url_for(".moderation_search"), 303)


@bp.route("/moderation/bulk", methods=["GET", "POST"])
@admin_required
def moderation_bulk():
    search = SearchForm(request.args)
    if not request.args or not search.validate():
        return redirect(url_for(".moderation_search"))
    criteria = _criteria(search)
    form = BulkForm()
    try:
        if form.validate_on_submit():
            changed = moderation.bulk_invalidate(
                db.session, keys(), actor(), criteria, form.reason.data, form.expected.data
            )
            flash(f"{changed} sign-ups invalidated.")
            return redirect(url_for(".moderation_search"), 303)
        matched = moderation.count_matching(db.session, keys(), criteria)
    except moderation.ModerationError as error:
        flash(str(error))
        return redirect(url_for(".moderation_search"), 303)
    return render_template("organiser/bulk.html", form=form, matched=matched, criteria=criteria.describe())


@bp.get("/moderation/held")
@admin_required
def held():
    return render_template("organiser/held.html", held=moderation.held(db.session, keys()), form=EmptyForm())


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
        flash("Released: we have sent its confirmation email.")
    return redirect(url_for(".held"), 303)


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
            flash("Domain blocked: new sign-ups from it will be held for review.")
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
    return redirect(url_for(".blocked_domains"), 303)
