"""Public pages: the pledge, sign-up forms, confirmation, managing a signature, copy pages."""

from flask import Blueprint

bp = Blueprint("pledge", __name__)
# The session key for what the thank-you page says to the signer who just confirmed: their
# area and region, and the work-email offer's link (signer.py sets it, views.py and
# work_email.py read it).
THANKS = "thanks"

from app.pledge import signer, update_unsubscribe, views, work_email  # noqa: E402,F401


@bp.app_context_processor
def inject_content():
    from app import content_loader

    return {
        "content_pledge": content_loader.pledge,
        "content_sector": content_loader.sector,
        "content_sectors": content_loader.sectors,
        "markdown": content_loader.render_markdown,
    }
