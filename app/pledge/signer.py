"""The pages a signer reaches from our emails: confirm (with their choices), manage, withdraw, unsubscribe."""

from __future__ import annotations

import json

from flask import abort, current_app, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app import content_loader as content
from app.errors import error_response, invalid_link
from app.extensions import csrf, db, keys, reference
from app.models import Signature, SignatureStatus
from app.pledge import THANKS, bp
from app.pledge.forms import ConfirmForm, ConsentsForm, WithdrawForm
from app.pledge.work_email import thank_you_offer
from app.security import mark_no_store, no_store
from app.services import geography, tokens
from app.services.confirmation import (
    DetailsChanged,
    confirm_link,
    confirm_signature,
    confirmable_signature,
    offered_confirmation,
)
from app.services.consents import ConsentRefused, can_share_with, stop_updates, update_consents
from app.services.signing import personal_data, signature_for_token, withdraw_signature


@bp.errorhandler(tokens.BadToken)
def bad_link(error: tokens.BadToken):
    """A confirm or manage link that is malformed, forged or revoked (404), or expired (410); never stored."""
    if str(error) == "expired":
        response = error_response(
            410,
            _("This link has expired. Sign the pledge again and we will send you a new one."),
            _("This link has expired"),
        )
    else:
        response = invalid_link()
    return mark_no_store(response)


@bp.errorhandler(ConsentRefused)
def consent_refused(error: ConsentRefused):
    """A choice the service will not record (say, sharing with "another union"): nothing was saved."""
    return mark_no_store(error_response(400, str(error), _("We could not save your choices")))


def _confirm_max_age() -> int:
    return current_app.config["CONFIRM_TOKEN_MAX_AGE_DAYS"] * 86400


def _wording_version() -> str:
    return content.pledge()["version"]


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@no_store
def confirm(token: str):
    if request.method == "POST":
        return _confirm_post(token)
    signature = confirmable_signature(db.session, keys(), token, _confirm_max_age())
    if signature.status == SignatureStatus.CONFIRMED:
        return render_template("pledge/confirmed_already.html", signature=signature, manage_url=_manage_url(signature))
    return _confirm_page(signature, ConfirmForm.offering(offered_confirmation(keys(), signature, _wording_version())))


def _confirm_post(token: str):
    """The surge path: a few columns of the signature (confirm_link), no ORM object unless the
    page must be shown again."""
    link = confirm_link(db.session, keys(), token, _confirm_max_age())
    if link.status == SignatureStatus.CONFIRMED:  # pressed again: nothing changes; the manage page changes choices
        return redirect(_thank_you_url(link.sector_id, link.postcode_outward, thank_you_offer(link)), 303)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _confirm_page(confirmable_signature(db.session, keys(), token, _confirm_max_age()), form, status=400)
    confirmation = form.confirmation(_wording_version())
    try:
        confirm_signature(db.session, keys(), token, _confirm_max_age(), confirmation, link=link)
    except DetailsChanged:  # signed again since the page was shown: show what would now be recorded
        signature = confirmable_signature(db.session, keys(), token, _confirm_max_age())
        offered = offered_confirmation(keys(), signature, _wording_version())
        return _confirm_page(signature, ConfirmForm.offering(offered), status=409, changed=True)
    # From what was confirmed, not the signature: the commit expired it, and reading it back
    # would cost the surge two more queries (bench/README.md, "Confirmation load").
    return redirect(_thank_you_url(confirmation.sector_id, confirmation.postcode_outward, thank_you_offer(link)), 303)


def _thank_you_url(sector_id: int, postcode_outward: str | None, work_offer: dict | None = None) -> str:
    """The thank-you page. The signer's postcode area (so it can say how many there have signed)
    and the work-email offer's link go in the session, not the address: an address with them
    would sit in the browser's history and in proxies' logs, saying where a signer lives."""
    area = geography.area_code(postcode_outward)
    session[THANKS] = {
        **({"region": geography.region_of(postcode_outward), "area": area} if area else {}),
        **(work_offer or {}),
    }
    return url_for(".thank_you", sector_slug=reference().sector_by_id(sector_id).slug)


def _confirm_page(signature: Signature, form: ConfirmForm, status: int = 200, changed: bool = False):
    return render_template(
        "pledge/confirm.html",
        form=form,
        signature=signature,
        can_share=can_share_with(signature.organisation),
        changed=changed,
    ), status


def _manage_url(signature: Signature) -> str:
    """The signature's manage link: whoever holds its confirmation link holds the email with both."""
    return url_for(
        ".manage", token=tokens.make_token(keys().token_key, tokens.MANAGE, signature.id, signature.token_nonce)
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
        can_share=can_share_with(signature.organisation),
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
    signature_for_token(db.session, keys(), tokens.MANAGE, token)
    if request.method == "POST":
        stop_updates(db.session, keys(), token)
        return render_template("pledge/unsubscribed.html", token=token)
    return render_template("pledge/unsubscribe.html", token=token)
