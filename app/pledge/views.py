"""Public pages and the sign-up form. Views validate, call one service and turn the result into a response.

The pages a signer reaches from our emails (confirm, manage, unsubscribe) are in signer.py.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for

from app import content_loader as content
from app.errors import error_response
from app.extensions import db, keys, reference
from app.i18n import current_language
from app.pledge import THANKS, bp
from app.pledge.forms import SignForm
from app.rate_limits import signing_over_limit
from app.security import no_store
from app.services.counts import get_counts
from app.services.milestones import latest_announcement
from app.services.normalise import clean_name, normalise_postcode
from app.services.reference import OrganisationRef, SectorRef
from app.services.regions import UnknownPlace, signers_near
from app.services.signing import HoldReason, SignUp, sign_pledge
from app.urls import absolute_url_for


def _sector_or_404(slug: str) -> SectorRef:
    sector = reference().sector(slug)
    if sector is None or content.sector(slug) is None:
        abort(404)
    return sector


def _organisation_or_404(slug: str) -> OrganisationRef:
    org = reference().organisation(slug)
    if org is None:
        abort(404)
    return org


@bp.get("/")
def index():
    return render_template(
        "pledge/index.html",
        counts=get_counts(db.session),
        paused=reference().signing_paused,
        milestone=latest_announcement(db.session),
    )


@bp.route("/sign/<sector_slug>", methods=["GET", "POST"])
@no_store
def sign(sector_slug: str):
    sector = _sector_or_404(sector_slug)
    preset_org = request.args.get("org")
    if preset_org is not None:
        _organisation_or_404(preset_org)
    form = SignForm(data={"organisation": preset_org or "", "source": request.args.get("source", "")})
    form.set_organisations(reference().organisations)
    paused = reference().signing_paused
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


def _submit(form: SignForm, sector: SectorRef) -> None:
    org = form.organisation.data or None
    org_id = _organisation_or_404(org).id if org else None
    postcode = (form.postcode.data or "").strip()  # whitespace alone means "no postcode", as in the form
    outward = normalise_postcode(postcode)[1] if postcode else None
    sign_pledge(
        db.session,
        keys(),
        SignUp(
            name=clean_name(form.name.data),
            email=form.email.data,
            sector_id=sector.id,
            organisation_id=org_id,
            postcode_outward=outward,
            source=form.cleaned_source(),
            wording_version=content.pledge()["version"],
            language=current_language(),
        ),
        max_emails=current_app.config["MAIL_MAX_PER_SIGNATURE"],
        hold_reason=_hold_reason(form),
        blocked_domains=reference().blocked_domains,
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
    sector = reference().sector_by_id(org.default_sector_id) or reference().sectors[-1]
    form = SignForm(data={"organisation": org.slug, "source": request.args.get("source", "")})
    form.set_organisations(reference().organisations)
    return render_template(
        "pledge/union.html",
        org=org,
        copy=content.organisation(org.slug) or {},
        form=form,
        sector=sector,
        counts=get_counts(db.session),
        preset_org=org.slug,
        paused=reference().signing_paused,
    )


@bp.get("/thank-you/<sector_slug>")
@no_store
def thank_you(sector_slug: str):
    """Adds how many have signed in a place: ?region=&area=, or the signer's own, which their
    confirmation put in the session. Never stored by caches: it may speak to one signer."""
    sector = _sector_or_404(sector_slug)
    place = request.args if ("region" in request.args or "area" in request.args) else session.get(THANKS, {})
    region, area = place.get("region"), place.get("area")
    nearby = None
    if region or area:
        try:
            nearby = signers_near(db.session, region or "", area or "")
        except UnknownPlace as error:
            return error_response(400, str(error))
    return render_template(
        "pledge/thank_you.html",
        sector=sector,
        counts=get_counts(db.session),
        nearby=nearby,
        share_url=absolute_url_for("pledge.sign", sector_slug=sector.slug),
    )


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
