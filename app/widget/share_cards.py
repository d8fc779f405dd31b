"""Share cards: /share/....png, the image social sites show for a page, and the Open Graph values in base.html.

A card draws the pledge's headline and the live count of what its page counts: everyone (the home
page), a sector or a union, in the page's language (/cy/share/... for a Welsh page). Its ETag comes
from what it draws, so a revalidation is a 304 until the count changes, and each process draws each
card once per count (share_image.render_png keeps them).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import current_app, make_response, request
from flask_babel import gettext as _

from app import cache_control, content_loader
from app.i18n import current_language
from app.services import geography
from app.services.embed import Options, Target, fill, people
from app.urls import absolute_url_for
from app.widget import bp
from app.widget.cards import UnknownTarget, card_for
from app.widget.responses import cacheable, text_error
from app.widget.share_image import HEIGHT, WIDTH, ShareCard, render_png, warn_if_fonts_missing
from app.widget.text import text_for

# What a card of each kind counts, from its slug. A region's is its figure under the disclosure
# rule, as /api/v1/regions publishes it ("Fewer than 10" when hidden).
KINDS: dict[str, Callable[[str], Target]] = {
    "sector": lambda slug: Target(sector=slug),
    "union": lambda slug: Target(org=slug),
    "region": lambda slug: Target(region=slug),
}
# Pages that are shared as another: a signer's thank-you and check-your-email pages share their sector's form.
SHARED_AS = {"pledge.thank_you": "pledge.sign", "pledge.check_email": "pledge.sign"}


@bp.record_once
def _check_fonts(state) -> None:
    warn_if_fonts_missing()


@bp.get("/share/all.png", defaults={"kind": None, "slug": None})
@bp.get("/share/<kind>/<slug>.png")
def share_card(kind: str | None, slug: str | None):
    """The card as a 1200x630 PNG with the count of the moment, cached like the badge."""
    if kind is not None and kind not in KINDS:
        return text_error(
            404, _("There are no share cards for %(kind)s; use %(kinds)s.", kind=repr(kind), kinds=", ".join(KINDS))
        )
    try:
        card = card_for(KINDS[kind](slug) if kind else Target(), Options(lang=current_language()))
    except UnknownTarget as error:
        return text_error(404, str(error))
    drawn = ShareCard(
        campaign=card.embed.text["campaign"],
        site=urlsplit(current_app.config["SITE_URL"]).netloc,
        headline=content_loader.pledge()["title"],
        number=card.embed.card.number,
        # "N online and M on paper" wherever a total is shown (issue 14): on the card, after who signed.
        who=f"{card.embed.card.who} ({card.embed.card.paper_line})"
        if card.embed.card.paper_line
        else card.embed.card.who,
    )
    response = make_response(render_png(drawn))
    response.mimetype = "image/png"
    response.set_etag(drawn.fingerprint())
    return cacheable(response, cache_control.live_count(), card.updated_at).make_conditional(request)


def _page_target(endpoint: str, values: dict) -> tuple[str | None, Target]:
    """The card kind and target for a page: its sector or union if it has one we know, else everyone."""
    if endpoint == "pledge.sign" and content_loader.sector(values.get("sector_slug", "")):
        return "sector", Target(sector=values["sector_slug"])
    if endpoint == "pledge.union" and content_loader.organisation(values.get("org_slug", "")):
        return "union", Target(org=values["org_slug"])
    region = values.get("region_slug")
    if endpoint == "places.region_page" and region in {r.slug for r in geography.regions()}:
        return "region", Target(region=region)
    return None, Target()


@bp.app_template_global()
def share_meta() -> dict[str, str] | None:
    """The page's address, card and card description for its Open Graph tags.

    None where a page is not for sharing: organiser pages, pages reached by a secret link (their
    address holds the token) and addresses that match no page.
    """
    values = dict(request.view_args or {})
    if request.endpoint is None or request.blueprint == "organiser" or "token" in values:
        return None
    endpoint = SHARED_AS.get(request.endpoint, request.endpoint)
    kind, target = _page_target(endpoint, values)
    text = text_for(current_language())
    return {
        "url": absolute_url_for(endpoint, **values),
        "image": absolute_url_for("widget.share_card", kind=kind, slug=target.sector or target.org or target.region),
        "image_alt": fill(text["embed_title"], people=people(text, target, "other")),
        "image_width": str(WIDTH),
        "image_height": str(HEIGHT),
    }
