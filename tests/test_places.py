"""Support by place on pages: /map, /map/<region>, /delivery/<region>, the thank-you line, the organiser's
region table, the export's region column and `flask regions rebuild`. Every figure is the disclosure rule's."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AreaCountCell, Signature, SignatureStatus, utcnow
from app.services.counts import adjust_count
from app.services.delivery_packs import delivery_pack
from app.services.place_map import _nice_step, place_map, rate_per_100k
from app.services.regions import count_by_place
from tests.test_dashboard import tables
from tests.test_regions import counters, figures, fresh_count, signed

NUMBER = re.compile(r'data-place="([^"]+)"[^>]*>([^<]*)<')


@pytest.fixture
def add(sector_id, org_id):
    """Count signatures straight into the counters, as confirmations would."""

    def add_to_counters(outward, how_many, sector="education", union=None):
        organisation = org_id(union) if union else None
        adjust_count(db.session, sector_id(sector), organisation, how_many, utcnow(), postcode_outward=outward, shard=0)
        db.session.commit()

    return add_to_counters


def page_figures(html: str) -> dict[str, str]:
    """{"london": "15", "london/E": "12", "london/N": "fewer than 10", ...} as a page shows them."""
    return dict(NUMBER.findall(html))


def shown_numbers(html: str) -> set[int]:
    return {int(text.replace(",", "")) for text in page_figures(html).values() if text[:1].isdigit()}


# The map


def test_the_map_shows_what_the_api_publishes_and_fewer_than_10_for_the_rest(client, add):
    add("E1", 12)
    add("N1", 15)
    add("CF10", 30)
    add("M1", 4)
    page = client.get("/map")
    assert page.status_code == 200
    api = client.get("/api/v1/regions").json
    shown = page_figures(page.text)
    for region in api["regions"]:
        expected = "fewer than 10" if region["count"] is None else f"{region['count']:,}"
        assert shown[region["slug"]] == expected, region["slug"]
    assert shown["london"] == "27" and shown["wales"] == "30" and shown["north-west"] == "fewer than 10"
    assert shown["not-given"] == "fewer than 10"
    assert all(n >= 10 for n in shown_numbers(page.text))


def test_the_map_is_an_accessible_svg_with_a_table_legend_and_the_rule_in_plain_words(client, add):
    add("CF10", 30)
    add("M1", 4)
    page = client.get("/map").text
    assert re.search(r'<svg class="tile-map"[^>]*role="img"[^>]*aria-labelledby="map-title map-desc"', page)
    assert '<title id="map-title">' in page and '<desc id="map-desc">' in page
    assert "<caption>Signatures by nation and region</caption>" in page
    assert "fewer than 10 signatures (not shown)" in page  # the legend names the hatching, not only a colour
    assert "We never show how many people signed in a place when it is fewer than 10" in page
    # Wales: 30 signatures among 3,131,640 residents
    assert re.search(r'data-rate-of="wales"[^>]*>1\.0<', page)
    assert page.count('<g class="tile">') == 12


def test_map_filters_round_to_5_and_bad_filters_are_400s(client, add):
    add("CF10", 12, union="neu")
    add("M1", 3, union="neu")
    add("CF10", 30)
    filtered = client.get("/map?org=neu")
    assert filtered.status_code == 200
    assert page_figures(filtered.text)["wales"] == "10"  # 12 rounded to the nearest 5
    assert "rounded to the nearest 5" in filtered.text
    assert page_figures(client.get("/map?sector=&org=").text)["wales"] == "42"  # the form's "all" choices
    for query, message in [
        ("?colour=red", "Unknown parameter"),
        ("?sector=nope", "Unknown sector"),
        ("?org=NEU!", "must be a slug"),
        ("?sector=education&sector=health", "at most once"),
    ]:
        response = client.get(f"/map{query}")
        assert response.status_code == 400, query
        assert message in response.text


def test_a_region_page_lists_its_areas_with_a_sign_button_and_its_delivery_pack(client, add):
    add("CF10", 25)
    add("CH5", 12)
    add("LL11", 3)
    add("M1", 4)
    page = client.get("/map/wales")
    assert page.status_code == 200
    shown = page_figures(page.text)
    assert shown["wales"] == "40"
    assert shown["wales/CF"] == "25" and shown["wales/CH"] == "12"
    assert shown["wales/LL"] == "fewer than 10" and shown["wales/SA"] == "fewer than 10"
    assert 'href="/#sign"' in page.text and 'href="/delivery/wales"' in page.text
    assert client.get("/map/atlantis").status_code == 404
    assert client.get("/map/not-given").status_code == 404
    assert client.get("/map/wales?bad=1").status_code == 400
    assert client.get("/map/wales?org=zzz").status_code == 400


def test_map_and_api_agree_after_confirmations_and_withdrawals(client, make_signature, keys):
    from app.services import tokens
    from app.services.signing import withdraw_signature

    made = signed(make_signature, {"CF10": 11, "E1": 10, None: 10})
    assert page_figures(client.get("/map").text)["wales"] == "11"
    withdrawn = next(s for s in made if s.postcode_outward == "CF10")
    withdraw_signature(
        db.session, keys, tokens.make_token(keys.token_key, tokens.MANAGE, withdrawn.id, withdrawn.token_nonce)
    )
    shown = page_figures(client.get("/map").text)
    api = figures(client.get("/api/v1/regions").json)
    assert shown["wales"] == "fewer than 10" and api["wales"] is None
    assert shown["london"] == "fewer than 10" and api["london"] is None  # secondary: 10 is the smallest shown
    assert shown["not-given"] == "fewer than 10"


def test_the_map_bands_are_round_and_cover_the_highest_rate(app, add):
    add("CF10", 40)
    add("E1", 10)
    add("M1", 4)
    tiles = {tile.slug: tile for tile in place_map(count_by_place(db.session)).tiles}
    assert tiles["wales"].rate == rate_per_100k(40, 3131640) == 1.3
    assert (tiles["wales"].band.low, tiles["wales"].band.high) == (1.0, 1.5)  # bands 0.5 wide
    assert tiles["london"].band is not None and tiles["london"].band.low == 0
    assert tiles["scotland"].band is None and tiles["scotland"].rate is None
    assert _nice_step(1.3, 4) == 0.5 and _nice_step(0, 4) == 1.0 and _nice_step(40, 4) == 20


# Delivery packs


def test_a_delivery_pack_has_the_pledge_the_figures_their_time_and_the_rule_and_no_names(client, make_signature):
    signed(make_signature, {"CF10": 12, "NP20": 11, "M1": 2})
    signed(make_signature, {"CF10": 3}, sector="health")
    page = client.get("/delivery/wales")
    assert page.status_code == 200
    text = page.text
    assert "Keep public services safe for everyone" in text  # the pledge's title
    assert "<strong>26</strong> people" in text
    assert re.search(r"Figures taken at \d\d:\d\d on \d+ \w+ 20\d\d \(UK time\)", text)
    assert "fewer than 10" in text and "We never show how many people signed" in text
    assert "Ada" not in text and "example.com" not in text
    pack = delivery_pack(db.session, "wales")
    sectors = {s.slug: s.count for s in pack.sectors}
    # Education 23, rounded to 25; health's 3 is hidden (the 0s too, but they are not alone).
    assert sectors["education"] == 25 and sectors["health"] is None and sectors["policing"] is None
    assert client.get("/delivery/atlantis").status_code == 404
    assert client.get("/delivery/wales?sector=health").status_code == 400


def test_a_pack_for_a_hidden_region_hides_every_sector(app, add):
    add("CF10", 5)
    add("E1", 30)
    pack = delivery_pack(db.session, "wales")
    assert pack.region.count is None
    assert {s.count for s in pack.sectors} == {None}


# The thank-you page


def test_the_thank_you_page_says_how_many_have_signed_in_the_signers_area(
    client, make_signature, confirm_via_page, confirm_token
):
    signed(make_signature, {"CF10": 11, "LL11": 2, "M1": 2})
    signature = make_signature(email="new@example.com", postcode="CF24")
    response = confirm_via_page(f"/confirm/{confirm_token(signature)}")
    assert response.status_code == 303
    # The place goes in the session, never the address (history, proxies' logs).
    assert response.headers["Location"].endswith("/thank-you/education")
    thanks = client.get(response.headers["Location"]).text
    assert "12 people in Cardiff have signed." in thanks


def test_the_thank_you_line_never_shows_fewer_than_10(client, add):
    add("CF10", 9)
    add("LL11", 20)
    add("M1", 4)
    page = client.get("/thank-you/education?region=wales&area=CF").text
    assert "in Cardiff" not in page
    assert "29 people in Wales have signed." in page  # the area is hidden: the region instead
    add("CF10", -9)
    add("LL11", -15)
    page = client.get("/thank-you/education?region=wales&area=LL").text
    assert "have signed." in page and "people in" not in page


def test_a_cross_border_area_names_its_part(client, add):
    add("CH5", 14)
    add("CF10", 20)
    add("LL11", 3)
    add("M1", 4)
    assert (
        "14 people in the Wales part of Chester have signed."
        in client.get("/thank-you/education?region=wales&area=CH").text
    )


@pytest.mark.parametrize("query", ["region=wales", "area=CF", "region=atlantis&area=CF", "region=wales&area=E"])
def test_a_bad_place_on_the_thank_you_page_is_a_400(client, query):
    response = client.get(f"/thank-you/education?{query}")
    assert response.status_code == 400


# Organisers


def test_admins_see_every_region_exactly(client, make_account, sign_in, add):
    add("CF10", 3)
    add("E1", 12)
    sign_in(make_account())
    rows = dict(tables(client.get("/organiser/").text)["By region (confirmed)"][1:])
    assert rows["Wales"] == "3" and rows["London"] == "12" and rows["Scotland"] == "0"


def test_union_organisers_see_regions_of_members_who_did_not_agree_only_through_the_rule(
    client, make_account, sign_in, make_signature
):
    signed(make_signature, {"CF10": 3}, union="neu")
    signed(make_signature, {"E1": 12, "M1": 11}, union="neu")
    make_signature(
        email="agreed@example.com", union="neu", postcode="CF11", status=SignatureStatus.CONFIRMED, share_union=True
    )
    sign_in(make_account("neu@example.org", "organiser", "neu"))
    rows = {row[0]: row[1:] for row in tables(client.get("/organiser/").text)["By region (confirmed)"][1:]}
    assert rows["Wales"] == ["1", "–"]  # the one who agreed exactly; the 3 who did not are hidden
    assert rows["North West"] == ["0", "–"]  # 11, hidden with Wales's 3 (the next smallest)
    assert rows["London"] == ["0", "12"]
    assert rows["Other regions"] == ["", "14"]


# Exports


def test_the_export_has_a_region_column(make_signature, keys):
    from app.services import audit
    from app.services.export import ExportFilters, ExportFormat, ExportScope, stream_export

    signed(make_signature, {"CH5": 1, "CH1": 1, "JE2": 1, None: 1})
    data = b"".join(
        stream_export(db.session, keys, audit.CLI, ExportFormat.CSV, ExportFilters(), ExportScope.everything())
    )
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(row["postcode_area"], row["region"]) for row in rows] == [
        ("CH5", "wales"),
        ("CH1", "north-west"),
        ("JE2", "elsewhere"),
        ("", ""),
    ]


# Rebuilding the place counters


def test_rebuild_recounts_places_from_signatures_after_the_mapping_changes(runner, make_signature):
    signed(make_signature, {"CH5": 2, "CF10": 1, None: 1})
    signed(make_signature, {"CH5": 1}, sector="health", union="unison")
    before = counters()
    # As if CH5 had been counted in the North West under an older postcode_areas.yaml.
    moved = db.session.execute(
        update(AreaCountCell)
        .where(AreaCountCell.region == "wales", AreaCountCell.area_code == "CH")
        .values(region="north-west")
    ).rowcount
    assert moved >= 2  # one place cell per count cell (pair and shard) with CH5 signatures
    db.session.commit()
    assert counters() != fresh_count()

    dry = runner.invoke(args=["regions", "rebuild", "--dry-run"])
    assert dry.exit_code == 0 and "Would change" in dry.output
    assert counters() != fresh_count()

    result = runner.invoke(args=["regions", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"{moved} added" in result.output and f"{moved} emptied" in result.output
    assert counters() == fresh_count() == before
    again = runner.invoke(args=["regions", "rebuild"])
    assert "Changed 0 place counters" in again.output


def test_rebuild_refuses_once_signatures_are_anonymised(runner, make_signature):
    signed(make_signature, {"CF10": 1})
    db.session.execute(
        update(Signature).values(
            anonymised_at=utcnow(), email_encrypted=None, name_encrypted=None, postcode_outward=None
        )
    )
    db.session.commit()
    before = counters()
    result = runner.invoke(args=["regions", "rebuild"])
    assert result.exit_code != 0 and "anonymised" in result.output
    assert counters() == before
    assert db.session.execute(select(AreaCountCell.count).where(AreaCountCell.region == "wales")).scalar() == 1


# The region option on embeds


def test_a_region_card_shows_the_published_figure_or_fewer_than_10(client, add):
    add("CF10", 30)
    add("M1", 4)
    frame = client.get("/widget/region/wales")
    assert frame.status_code == 200
    assert (
        '<span class="cds-n">30</span> <span class="cds-who">people in Wales have signed the pledge</span>'
        in frame.text
    )
    assert 'data-counts-url="/api/v1/regions" data-region="wales"' in frame.text
    assert "frame-ancestors *" in frame.headers["Content-Security-Policy"]
    hidden = client.get("/widget/region/north-west").text
    assert '<span class="cds-n">Fewer than 10</span>' in hidden and ">4<" not in hidden
    badge = client.get("/badge/region/north-west.svg")
    assert badge.status_code == 200 and "Fewer than 10" in badge.text and ">4<" not in badge.text
    assert "30 people in Wales" in client.get("/badge/region/wales.svg").text


def test_bad_region_embeds_are_404s_and_400s(client):
    assert client.get("/widget/region/atlantis").status_code == 404
    assert client.get("/badge/region/atlantis.svg").status_code == 404
    builder = client.get("/embed?region=wales&org=neu")
    assert builder.status_code == 400 and "Show a region on its own" in builder.text
    assert client.get("/embed/codes.json?region=Wales!").status_code == 400


def test_the_builder_makes_region_codes(client):
    page = client.get("/embed?region=wales")
    assert page.status_code == 200 and '<option value="wales" selected>Wales</option>' in page.text
    codes = client.get("/embed/codes.json?region=wales").json["codes"]
    assert codes["script"] == '<script async src="http://localhost/widget.js" data-region="wales"></script>'
    assert '/widget/region/wales"' in codes["iframe"]
    assert "/badge/region/wales.svg" in codes["badge"]
