"""Public pages. Views validate, call one service and turn the result into a response."""

from __future__ import annotations

import json

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from app import content_loader as content
from app.errors import error_response
from app.extensions import csrf, db, keys
from app.models import Organisation, Sector, SignatureStatus
from app.pledge import bp
from app.pledge.forms import ConfirmForm, ConsentsForm, SignForm, WithdrawForm
from app.rate_limits import signing_over_limit
from app.security import mark_no_store, no_store
from app.services import tokens
from app.services.counts import get_counts
from app.services.normalise import clean_text, normalise_postcode
from app.services.settings import signing_paused
from app.services.signing import (
    HoldReason,
    SignUp,
    confirm_signature,
    confirmable_signature,
    personal_data,
    sign_pledge,
    signature_for_token,
    update_consents,
    withdraw_signature,
)
from app.urls import absolute_url_for


def _sector_or_404(slug: str) -> Sector:
    sector = db.session.execute(select(Sector).where(Sector.slug == slug)).scalar_one_or_none()
    if sector is None or content.sector(slug) is None:
        abort(404)
    return sector


def _organisation_or_404(slug: str) -> Organisation:
    org = db.session.execute(select(Organisation).where(Organisation.slug == slug)).scalar_one_or_none()
    if org is None:
        abort(404)
    return org


def _organisations() -> list[Organisation]:
    return db.session.execute(select(Organisation).order_by(Organisation.position)).scalars().all()


@bp.get("/")
def index():
    return render_template("pledge/index.html", counts=get_counts(db.session), paused=signing_paused(db.session))


@bp.route("/sign/<sector_slug>", methods=["GET", "POST"])
@no_store
def sign(sector_slug: str):
    sector = _sector_or_404(sector_slug)
    preset_org = request.args.get("org")
    if preset_org is not None:
        _organisation_or_404(preset_org)
    form = SignForm(data={"organisation": preset_org or "", "source": request.args.get("source", "")})
    form.set_organisations(_organisations())
    paused = signing_paused(db.session)
    status = 200
    if paused and form.is_submitted():
        status = 503  # nothing is stored; the page says signing is paused
    elif form.validate_on_submit():
        _submit(form, sector)
        return redirect(url_for(".check_email", sector_slug=sector.slug), 303)
    elif form.is_submitted():
        status = 400
    return render_template(
        "pledge/sign.html",
        form=form,
        sector=sector,
        copy=content.sector(sector.slug),
        preset_org=preset_org,
        paused=paused,
        counts=get_counts(db.session, sector=sector.slug),
    ), status


def _hold_reason(form: SignForm) -> HoldReason | None:
    """Why this submission looks automated, if it does; the signer is never told."""
    if form.website.data:
        return HoldReason.HONEYPOT
    if signing_over_limit():
        return HoldReason.RATE_LIMITED
    return None


def _submit(form: SignForm, sector: Sector) -> None:
    org = form.organisation.data or None
    org_id = _organisation_or_404(org).id if org else None
    postcode = (form.postcode.data or "").strip()  # whitespace alone means "no postcode", as in the form
    outward = normalise_postcode(postcode)[1] if postcode else None
    sign_pledge(
        db.session,
        keys(),
        SignUp(
            name=clean_text(form.name.data, max_length=100),
            email=form.email.data,
            sector_id=sector.id,
            organisation_id=org_id,
            postcode_outward=outward,
            source=form.cleaned_source(),
            consent_updates=form.consent_updates.data,
            consent_share_union=form.consent_share_union.data,
            wording_version=content.pledge()["version"],
        ),
        max_emails=current_app.config["MAIL_MAX_PER_SIGNATURE"],
        hold_reason=_hold_reason(form),
    )


@bp.get("/sign/<sector_slug>/check-email")
@no_store
def check_email(sector_slug: str):
    sector = _sector_or_404(sector_slug)
    return render_template("pledge/check_email.html", sector=sector)


@bp.get("/unions/<org_slug>")
@no_store
def union(org_slug: str):
    org = _organisation_or_404(org_slug)
    sector = org.default_sector or db.session.execute(select(Sector).order_by(Sector.position.desc())).scalars().first()
    form = SignForm(data={"organisation": org.slug, "source": request.args.get("source", "")})
    form.set_organisations(_organisations())
    return render_template(
        "pledge/union.html",
        org=org,
        copy=content.organisation(org.slug) or {},
        form=form,
        sector=sector,
        counts=get_counts(db.session),
        preset_org=org.slug,
        paused=signing_paused(db.session),
    )


@bp.errorhandler(tokens.BadToken)
def bad_link(error: tokens.BadToken):
    """A confirm or manage link that is malformed, forged or revoked (404), or expired (410); never stored."""
    if str(error) == "expired":
        response = error_response(
            410,
            "This link has expired. Sign the pledge again and we will send you a new one.",
            "This link has expired",
        )
    else:
        response = error_response(
            404,
            "This link is not valid. Check that you copied the whole link from the email.",
            "This link is not valid",
        )
    return mark_no_store(response)


def _confirm_max_age() -> int:
    return current_app.config["CONFIRM_TOKEN_MAX_AGE_DAYS"] * 86400


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@no_store
def confirm(token: str):
    form = ConfirmForm()
    if form.validate_on_submit():
        signature = confirm_signature(db.session, keys(), token, _confirm_max_age())
        return redirect(url_for(".thank_you", sector_slug=signature.sector.slug), 303)
    signature = confirmable_signature(db.session, keys(), token, _confirm_max_age())
    return render_template(
        "pledge/confirm.html",
        form=form,
        signature=signature,
        confirmed=signature.status == SignatureStatus.CONFIRMED,
    )


@bp.get("/thank-you/<sector_slug>")
def thank_you(sector_slug: str):
    sector = _sector_or_404(sector_slug)
    return render_template(
        "pledge/thank_you.html",
        sector=sector,
        counts=get_counts(db.session),
        share_url=absolute_url_for("pledge.sign", sector_slug=sector.slug),
    )


@bp.get("/manage/<token>")
@no_store
def manage(token: str):
    signature = signature_for_token(db.session, keys(), tokens.MANAGE, token)
    consents = ConsentsForm(
        data={
            "consent_updates": signature.consent_updates,
            "consent_share_union": signature.consent_share_union,
        }
    )
    return render_template(
        "pledge/manage.html",
        signature=signature,
        consents=consents,
        withdraw=WithdrawForm(),
        token=token,
        saved=request.args.get("saved") == "1",
    )


@bp.get("/manage/<token>/data.json")
@no_store
def manage_download(token: str):
    signature = signature_for_token(db.session, keys(), tokens.MANAGE, token)
    response = make_response(json.dumps(personal_data(keys(), signature), indent=2, ensure_ascii=False))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = 'attachment; filename="my-care-dont-share-data.json"'
    return response


@bp.post("/manage/<token>/consents")
def manage_consents(token: str):
    form = ConsentsForm()
    if not form.validate_on_submit():
        abort(400)
    update_consents(
        db.session,
        keys(),
        token,
        updates=form.consent_updates.data,
        share_union=form.consent_share_union.data,
    )
    return redirect(url_for(".manage", token=token, saved=1), 303)


@bp.post("/manage/<token>/withdraw")
def manage_withdraw(token: str):
    if not WithdrawForm().validate_on_submit():
        abort(400)
    withdraw_signature(db.session, keys(), token)
    return redirect(url_for(".withdrawn"), 303)


@bp.get("/withdrawn")
def withdrawn():
    return render_template("pledge/withdrawn.html")


@bp.route("/manage/<token>/unsubscribe", methods=["GET", "POST"])
@csrf.exempt
@no_store
def unsubscribe(token: str):
    """One-click unsubscribe (RFC 8058): the secret link itself authorises the POST."""
    signature = signature_for_token(db.session, keys(), tokens.MANAGE, token)
    if request.method == "POST":
        update_consents(db.session, keys(), token, updates=False, share_union=signature.consent_share_union)
        return render_template("pledge/unsubscribed.html", token=token)
    return render_template("pledge/unsubscribe.html", token=token)


@bp.get("/recommendations")
def recommendations():
    return render_template("pledge/recommendations.html", recs=content.recommendations(), counts=get_counts(db.session))


@bp.get("/recommendations/<area_slug>")
def recommendation_area(area_slug: str):
    area = content.recommendation_area(area_slug)
    if area is None:
        abort(404)
    sector = _sector_or_404(area["sector"])
    return render_template(
        "pledge/recommendation_area.html",
        area=area,
        sector=sector,
        counts=get_counts(db.session, sector=sector.slug),
    )


@bp.get("/data-sharing")
def data_sharing():
    return _content_page("data-sharing")


@bp.get("/privacy")
def privacy():
    return _content_page("privacy")


@bp.get("/about")
def about():
    return _content_page("about")


def _content_page(name: str):
    title, body = content.page(name)
    return render_template("pledge/page.html", title=title, body=body)
