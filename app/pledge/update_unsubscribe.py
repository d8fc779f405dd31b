"""One-click unsubscribe (RFC 8058) from the link in an update to signers."""

from __future__ import annotations

from flask import render_template, request

from app.extensions import csrf, db, keys
from app.pledge import bp
from app.security import no_store
from app.services import updates


@bp.route("/updates/<int:update_id>/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the secret link authorises the POST; mail clients send it with no page and no cookie
@no_store
def update_unsubscribe(update_id: int, token: str):
    """GET shows a button (link scanners open links); POST, from it or a mail client, unsubscribes.

    A bad link raises tokens.BadToken, which signer.bad_link answers for the whole blueprint.
    """
    if request.method == "POST":
        updates.unsubscribe(db.session, keys(), update_id, token)
        return render_template("pledge/update_unsubscribed.html")
    updates.check_unsubscribe_token(db.session, keys(), update_id, token)
    return render_template("pledge/update_unsubscribe.html")
