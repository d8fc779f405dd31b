"""Verifying a signature with a work email address (issue 12): the form, the one-time link's page, the offers."""

from __future__ import annotations

from functools import cache

from flask import current_app, render_template, request, session, url_for
from flask_babel import gettext as _

from app import content_loader
from app.errors import error_response, invalid_link
from app.extensions import db, keys, reference
from app.i18n import current_language
from app.models import Signature, SignatureStatus
from app.pledge import THANKS, bp
from app.pledge.forms import VerifyWorkForm, WorkEmailForm
from app.rate_limits import client_key, over_limit
from app.security import mark_no_store, no_store
from app.services import tokens
from app.services.confirmation import ConfirmLink
from app.services.normalise import InvalidInput
from app.services.work_verification import (
    OFFER,
    BadWorkLink,
    MailboxAlreadyUsed,
    NotAWorkAddress,
    SectorRules,
    VerificationRefused,
    load_rules,
    not_verified_here,
    offer_token,
    offered_signature,
    request_verification,
    verification_page,
    verify_work_email,
)


def work_rules() -> dict[str, SectorRules]:
    """app/content/work_domains.yaml with its words ("accepted") in the language being rendered."""
    return work_rules_in(current_language())


@cache
def work_rules_in(language: str) -> dict[str, SectorRules]:
    """Read once per process and language: the domains are the English file's, the words the language's."""
    return load_rules(content_loader.load_yaml("work_domains", language))


@bp.errorhandler(BadWorkLink)
def bad_work_link(error: BadWorkLink):
    """A work-email link that is malformed, forged or revoked (404), expired (410) or no longer usable (409)."""
    reason = str(error)
    if reason == "expired":
        response = error_response(
            410,
            _(
                "This link has expired: links to verify a work email work for 24 hours. "
                "Open the link in the email about your signature to manage it, and ask for a new one there."
            ),
            _("This link has expired"),
        )
    elif reason == "not confirmed":
        response = error_response(
            409, _("This link can no longer be used: the signature is not confirmed."), _("This link cannot be used")
        )
    else:
        response = invalid_link()
    return mark_no_store(response)


@bp.errorhandler(VerificationRefused)
def verification_refused(error: VerificationRefused):
    return mark_no_store(error_response(400, str(error), _("We cannot verify this signature")))


@bp.route("/work-email/<token>", methods=["GET", "POST"])
@no_store
def work_email(token: str):
    """The form for a work address. Every accepted address gets the same "check your work email" page."""
    signature = offered_signature(db.session, keys(), token)
    sector_rules = work_rules().get(signature.sector.slug)
    if sector_rules is None:
        raise VerificationRefused(not_verified_here(signature.sector))
    form = WorkEmailForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _form_page(signature, sector_rules, form, 200 if request.method == "GET" else 400)
    try:
        request_verification(
            db.session,
            keys(),
            work_rules(),
            token,
            form.work_email.data,
            max_emails=current_app.config["WORK_EMAIL_MAX_PER_SIGNATURE"],
            rate_limited=over_limit("RATELIMIT_WORK_EMAIL", client_key()),
        )
    except (NotAWorkAddress, InvalidInput) as error:
        form.work_email.errors = [str(error)]
        return _form_page(signature, sector_rules, form, 400)
    return render_template("pledge/work_email_sent.html", sector=signature.sector)


def _form_page(signature: Signature, sector_rules: SectorRules, form: WorkEmailForm, status: int):
    return render_template(
        "pledge/work_email.html", form=form, signature=signature, accepted=sector_rules.accepted
    ), status


@bp.route("/work-email/verify/<token>", methods=["GET", "POST"])
@no_store
def work_email_verify(token: str):
    """GET shows a button (mail scanners open links); its POST verifies."""
    if request.method == "GET":
        signature = verification_page(db.session, keys(), token)
        return render_template(
            "pledge/work_email_verify.html", form=VerifyWorkForm(), signature=signature, sector=signature.sector
        )
    if not VerifyWorkForm().validate_on_submit():
        return error_response(400, _("This form had expired or was missing its security code. Open the link again."))
    try:
        signature = verify_work_email(db.session, keys(), token)
    except MailboxAlreadyUsed:
        return error_response(
            409,
            _("This work email address has already verified a signature. Each work address can verify one."),
            _("This address has been used"),
        )
    return render_template("pledge/work_email_verified.html", sector=signature.sector)


def thank_you_offer(link: ConfirmLink) -> dict[str, str]:
    """The thank-you page's "verify with your work email" offer, for the session: {} where the sector has none."""
    if reference().sector_by_id(link.sector_id).slug not in work_rules():
        return {}
    return {"work": tokens.make_token(keys().token_key, OFFER, link.id, link.token_nonce)}


@bp.after_request
def thank_you_with_offer_is_private(response):
    """The thank-you page showing an offer link is not sent on as a referrer (it is no-store anyway)."""
    if request.endpoint == "pledge.thank_you" and _offer_token():
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _offer_token() -> str:
    """The work-email offer's token the confirmation put in the session."""
    return session.get(THANKS, {}).get("work", "")


@bp.app_context_processor
def work_offers():
    """Template helpers: the manage page's and the thank-you page's offer, or None."""

    def work_offer(signature: Signature):
        """For a confirmed signature in a sector with rules: its form link, or when it was verified."""
        if signature.status != SignatureStatus.CONFIRMED or signature.sector.slug not in work_rules():
            return None
        return {
            "sector": signature.sector,
            "verified_at": signature.verified_at,
            "url": url_for("pledge.work_email", token=offer_token(keys(), signature)),
        }

    def work_offer_from_link(sector):
        """The thank-you page's offer, from the token the confirmation put in the session (checked on use)."""
        token = _offer_token()
        if sector.slug not in work_rules() or not tokens.TOKEN_SHAPE.fullmatch(token):
            return None
        return {"sector": sector, "verified_at": None, "url": url_for("pledge.work_email", token=token)}

    return {"work_offer": work_offer, "work_offer_from_link": work_offer_from_link}
