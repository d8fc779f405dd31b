"""Counts by region and postcode area: the place counters, GET /api/v1/regions and its disclosure rule."""

import threading
from collections import Counter

import pytest
import schemathesis
import yaml
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, select, text

from app.api.openapi import DOCUMENT
from app.extensions import db
from app.models import AreaCountCell, CountCell, Signature, SignatureStatus, utcnow
from app.services import audit, disclosure, geography, moderation, tokens
from app.services.counts import COUNT_SHARDS, adjust_count
from app.services.regions import layout
from app.services.signing import withdraw_signature

REGION_SLUGS = [region.slug for region in geography.regions()] + ["elsewhere"]


def counters() -> Counter:
    """(sector_id, organisation_id, area, region) -> count, from the counters (non-zero cells only)."""
    rows = db.session.execute(
        select(CountCell.sector_id, CountCell.organisation_id, AreaCountCell.area_code, AreaCountCell.region)
        .add_columns(AreaCountCell.count)
        .join(CountCell, CountCell.id == AreaCountCell.count_cell_id)
    ).all()
    counted = Counter()
    for row in rows:
        counted[tuple(row[:4])] += row[4]  # summed over the pair's shards
    return +counted


def fresh_count() -> Counter:
    """The same, counted afresh from the confirmed signatures."""
    confirmed = db.session.execute(
        select(Signature.sector_id, Signature.organisation_id, Signature.postcode_outward).where(
            Signature.status == SignatureStatus.CONFIRMED
        )
    ).all()
    return Counter(
        (sector, org, geography.area_code(outward) or "", geography.region_of(outward))
        for sector, org, outward in confirmed
    )


@pytest.fixture
def add(sector_id, org_id):
    """Count signatures straight into the counters, as confirmations would (no signature rows)."""

    def add_to_counters(outward, how_many, sector="education", union=None):
        organisation = org_id(union) if union else None
        adjust_count(db.session, sector_id(sector), organisation, how_many, utcnow(), postcode_outward=outward, shard=0)
        db.session.commit()

    return add_to_counters


def figures(body) -> dict:
    """{"london": 15, "london/E": 12, ...} from a /api/v1/regions document."""
    found = {}
    for region in body["regions"]:
        found[region["slug"]] = region["count"]
        for area in region["areas"]:
            found[f"{region['slug']}/{area['code']}"] = area["count"]
    return found


def signed(make_signature, places: dict[str | None, int], **fields) -> list[Signature]:
    made = []
    for outward, how_many in places.items():
        for i in range(how_many):
            email = f"{outward or 'none'}-{i}-{fields.get('sector', '')}@example.com"
            made.append(make_signature(email=email, postcode=outward, status=SignatureStatus.CONFIRMED, **fields))
    return made


def test_counters_agree_with_a_fresh_count_after_confirmations_withdrawals_and_invalidations(app, keys, make_signature):
    places = {"CH5": 3, "CH1": 2, "SW1A": 2, None: 2, "BX1": 1, "JE2": 1, "ZZ9": 1, "sy23": 1}
    made = signed(make_signature, places)
    made += signed(make_signature, {"CH5": 2, "LD1": 1}, sector="health", union="unison")
    assert counters() == fresh_count()
    ch5, ch1 = (next(s for s in made if s.postcode_outward == code) for code in ("CH5", "CH1"))
    withdraw_signature(db.session, keys, tokens.make_token(keys.token_key, tokens.MANAGE, ch5.id, ch5.token_nonce))
    moderation.invalidate(db.session, audit.CLI, [ch1.id, made[-1].id], "test")
    assert counters() == fresh_count()
    education = next(s.sector_id for s in made)
    assert counters()[(education, None, "CH", "wales")] == 2  # CH5, less the withdrawn one
    assert counters()[(education, None, "CH", "north-west")] == 1  # CH1, less the invalidated one
    assert counters()[(education, None, "", "not-given")] == 4  # none given, BX (not a place), ZZ (no such area)
    assert counters()[(education, None, "GY", "elsewhere")] == 0 and counters()[(education, None, "JE", "elsewhere")]
    assert counters()[(education, None, "SY", "wales")] == 1  # SY23, Aberystwyth, written in lower case


def test_every_confirmed_signature_is_counted_once_by_place(app, make_signature, client):
    signed(make_signature, {"CF10": 2, None: 1})
    cells = db.session.execute(select(CountCell.count)).scalars().all()
    places = db.session.execute(select(AreaCountCell.count)).scalars().all()
    assert sum(cells) == sum(places) == 3 == client.get("/api/v1/counts").json["total"]


def test_document_shape(client, add):
    add("CF10", 12)
    body = client.get("/api/v1/regions").json
    assert set(body) == {"updated_at", "suppressed_below", "rounded_to", "not_given", "regions"}
    assert body["suppressed_below"] == 10 and body["rounded_to"] == 1
    assert body["updated_at"].endswith("+00:00")
    assert [r["slug"] for r in body["regions"]] == REGION_SLUGS
    for region in body["regions"]:
        assert set(region) == {"slug", "name", "name_cy", "count", "areas"} and region["areas"]
        assert all(set(area) == {"code", "name", "name_cy", "count"} for area in region["areas"])
    every_area = {area["code"] for region in body["regions"] for area in region["areas"]}
    assert every_area == {area.code for area in geography.areas()}
    wales = next(r for r in body["regions"] if r["slug"] == "wales")
    assert {"CF", "CH", "SY", "LD", "NP"} <= {a["code"] for a in wales["areas"]}
    elsewhere = next(r for r in body["regions"] if r["slug"] == "elsewhere")
    assert [a["code"] for a in elsewhere["areas"]] == ["BF", "GY", "IM", "JE"]


def test_small_figures_are_null_and_larger_ones_shown(client, add):
    add("E1", 12)
    add("N1", 3)
    add("M1", 4)
    body = client.get("/api/v1/regions").json
    shown = figures(body)
    assert shown["london"] == 15 and shown["london/E"] == 12
    assert shown["london/N"] is None and shown["north-west"] is None and shown["north-west/M"] is None
    assert body["not_given"] is None
    assert {value for key, value in shown.items() if key not in ("london", "london/E")} == {None}


def test_secondary_suppression_hides_what_subtraction_would_reveal(client, add):
    add("E1", 12)
    add("N1", 15)
    add("M1", 4)
    shown = figures(client.get("/api/v1/regions").json)
    # London's other areas are all empty, so London less N would give E: E goes too.
    assert shown["london"] == 27 and shown["london/N"] == 15 and shown["london/E"] is None


def test_a_hidden_region_hides_its_areas(client, add):
    add("E1", 20)
    add("CF10", 30)
    shown = figures(client.get("/api/v1/regions").json)
    # Every other region is empty, so the total (public) less Wales would give London.
    assert shown["wales"] == 30 and shown["london"] is None and shown["london/E"] is None


def test_not_given_is_under_the_rule_too(client, add):
    add(None, 11)
    add("E1", 12)
    add("M1", 3)
    assert client.get("/api/v1/regions").json["not_given"] == 11
    add(None, -5)
    assert client.get("/api/v1/regions").json["not_given"] is None


def test_filtered_views_are_rounded_to_five_after_suppression(client, add):
    add("E1", 12)
    add("N1", 3)
    add("M1", 4)
    add("E1", 1, sector="health")
    unfiltered = client.get("/api/v1/regions").json
    assert unfiltered["rounded_to"] == 1 and figures(unfiltered)["london/E"] == 13
    education = client.get("/api/v1/regions?sector=education").json
    assert education["rounded_to"] == 5
    shown = figures(education)
    assert shown["london"] == 15 and shown["london/E"] == 10 and shown["london/N"] is None
    assert all(value % 5 == 0 for value in shown.values() if value is not None)
    health = client.get("/api/v1/regions?sector=health&org=neu").json
    assert health["rounded_to"] == 5 and set(figures(health).values()) == {None}


def test_unknown_slug_is_named_in_the_message(client):
    assert "nope" in client.get("/api/v1/regions?org=nope").json["error"]["message"]


def test_cors_etag_cache_control_and_304(client, add):
    first = client.get("/api/v1/regions", headers={"Origin": "https://neu.org.uk"})
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    cache = first.headers["Cache-Control"]
    assert "max-age=" in cache and "stale-while-revalidate=" in cache and "public" in cache
    etag = first.headers["ETag"]
    assert client.get("/api/v1/regions", headers={"If-None-Match": etag}).status_code == 304
    add("E1", 12)
    changed = client.get("/api/v1/regions", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    preflight = client.options("/api/v1/regions", headers={"Origin": "https://neu.org.uk"})
    assert preflight.status_code == 204 and "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_served_from_the_micro_cache_for_a_moment(app, client, add):
    app.config["WIDGET_CACHE_SECONDS"] = 60
    first = client.get("/api/v1/regions").json["not_given"]
    add(None, 12)
    add("E1", 3)
    assert client.get("/api/v1/regions").json["not_given"] == first
    app.config["WIDGET_CACHE_SECONDS"] = 0
    assert client.get("/api/v1/regions").json["not_given"] == 12


def test_request_does_not_read_signatures(app, client, add):
    add("E1", 12)
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        client.get("/api/v1/regions?sector=education")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert statements and not any("signature" in s.lower() for s in statements)


def test_the_api_agrees_with_a_fresh_count(app, client, keys, make_signature):
    made = signed(make_signature, {"CF10": 13, "CH5": 11, "LL11": 2, "CH1": 10, "M1": 3, None: 4})
    cardiff = next(s for s in made if s.postcode_outward == "CF10")
    withdraw_signature(
        db.session, keys, tokens.make_token(keys.token_key, tokens.MANAGE, cardiff.id, cardiff.token_nonce)
    )
    fresh = Counter()
    for (_, _, area, region), how_many in fresh_count().items():
        fresh[region] += how_many
        fresh[f"{region}/{area}"] += how_many
    body = client.get("/api/v1/regions").json
    shown = figures(body)
    assert shown == {
        **{key: None for key in shown},
        "wales": 25,
        "wales/CF": 12,
        "wales/CH": 11,
        "north-west": 13,
        "north-west/CH": 10,
    }
    assert all(value == fresh[key] for key, value in shown.items() if value is not None)
    assert body["not_given"] is None and fresh["not-given"] == 4
    total = client.get("/api/v1/counts").json["total"]
    assert total == sum(fresh[slug] for slug in [*REGION_SLUGS, "not-given"]) == 42


def test_the_data_migration_counts_existing_signatures(app, make_signature):
    signed(make_signature, {"CH5": 2, "CH1": 1, None: 1, "IM1": 1})
    before = counters()
    db.session.remove()  # PostgreSQL: our open transaction's read lock would keep the table from being dropped
    downgrade(revision="0005")
    upgrade()
    db.session.expire_all()
    assert counters() == before == fresh_count()


def test_every_region_lists_its_areas_once(app):
    for slug, _, areas in layout():
        codes = [area.code for area in areas]
        assert codes == sorted(set(codes)), slug
    assert sum(len(areas) for _, _, areas in layout()) == len(geography.areas()) + sum(
        len(set(area.districts.values()) - {area.region}) for area in geography.areas()
    )


def test_the_api_description_states_the_rule(app):
    described = yaml.safe_load(DOCUMENT.read_text())["paths"]["/api/v1/regions"]["get"]["description"]
    assert disclosure.RULE in " ".join(described.split())
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)["/api/v1/regions"]["GET"]
    operation.validate_response(app.test_client().get("/api/v1/regions"))


def test_simultaneous_confirmations_in_one_area_are_all_counted(app, backend, keys, make_signature, confirm):
    if backend != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL, the production database")
    pending = [make_signature(email=f"ada{i}@example.com", postcode="CH5") for i in range(5)]
    pending += [make_signature(email=f"bob{i}@example.com", postcode="CH5", union="neu") for i in range(3)]
    ids = [signature.id for signature in pending]
    db.session.remove()  # one connection each, within the pool's
    barrier = threading.Barrier(len(ids))
    failures = []

    def confirm_in_its_own_session(signature_id):
        with app.app_context():
            try:
                signature = db.session.get(Signature, signature_id)
                barrier.wait(timeout=30)
                confirm(signature)
            except Exception as error:  # reported below: a thread's exception would otherwise be lost
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm_in_its_own_session, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    db.session.expire_all()
    assert counters() == fresh_count()
    assert sum(count for (_, _, area, region), count in counters().items() if (area, region) == ("CH", "wales")) == 8


def test_demo_signatures_show_in_the_counts_by_place(app, client, keys):
    from app.services.seed import seed_demo_signatures

    seed_demo_signatures(db.session, keys, 240, "v-demo")
    body = client.get("/api/v1/regions").get_json()
    shown = {region["slug"]: region["count"] for region in body["regions"] if region["count"] is not None}
    assert {"london", "north-west", "west-midlands", "wales", "scotland", "northern-ireland"} <= set(shown)
    assert sum(shown.values()) + (body["not_given"] or 0) <= 240


def test_a_confirmation_creates_its_cells_when_none_exists_yet(app, make_signature, confirm):
    """A union added since `flask seed` has no count cell: the first confirmation makes the cell
    and its place cell in the same transaction, and later ones add to them."""
    pending = [make_signature(email=f"new-cell-{i}@example.com", postcode="CH5", union="neu") for i in range(3)]
    neu_id = pending[0].organisation_id
    db.session.execute(
        db.delete(AreaCountCell).where(
            AreaCountCell.count_cell_id.in_(select(CountCell.id).where(CountCell.organisation_id == neu_id))
        )
    )
    db.session.execute(db.delete(CountCell).where(CountCell.organisation_id == neu_id))
    db.session.commit()
    for signature in pending:
        confirm(signature)
    db.session.expire_all()
    cells = db.session.execute(select(CountCell.count).where(CountCell.organisation_id == neu_id)).scalars().all()
    assert sum(cells) == 3 and all(cells)
    assert counters() == fresh_count()


def withdraw(keys, signature) -> None:
    withdraw_signature(
        db.session, keys, tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce)
    )


def test_each_signature_is_counted_in_its_shard_and_withdrawn_from_it(app, client, keys, make_signature):
    """A pair's count is spread over COUNT_SHARDS rows; withdrawing takes a signature out of the
    shard it was counted in, so no shard goes below zero and the sums stay exact."""
    made = signed(make_signature, {"SW1A": 2 * COUNT_SHARDS})
    assert {signature.count_shard for signature in made} == set(range(COUNT_SHARDS))
    education = made[0].sector_id
    shards = db.session.execute(
        select(CountCell.shard, CountCell.count).where(
            CountCell.sector_id == education, CountCell.organisation_id.is_(None)
        )
    ).all()
    assert sorted(shards) == [(shard, 2) for shard in range(COUNT_SHARDS)]
    assert client.get("/api/v1/counts?sector=education").get_json()["total"] == 2 * COUNT_SHARDS
    for signature in made[: COUNT_SHARDS + 3]:
        withdraw(keys, signature)
    db.session.expire_all()
    assert counters() == fresh_count()
    assert sum(count for _, count in db.session.execute(select(CountCell.shard, CountCell.count))) == COUNT_SHARDS - 3


def test_counts_from_before_shards_stay_exact_through_the_migration(app, keys, make_signature):
    """Migration 0013 leaves every count where it was (shard 0, where signatures confirmed before
    it are recorded), so withdrawing them afterwards is exact; its downgrade folds shards back."""
    made = signed(make_signature, {"CH5": 5, None: 3}) + signed(make_signature, {"M1": 2}, union="neu")
    ids = [signature.id for signature in made]
    before = counters()
    db.session.remove()
    downgrade(revision="0012")
    with db.engine.connect() as connection:
        per_pair = connection.execute(
            text("SELECT sector_id, organisation_id, count(*) FROM count_cell GROUP BY sector_id, organisation_id")
        ).all()
        assert per_pair and all(cells == 1 for _, _, cells in per_pair)
    upgrade()
    db.session.expire_all()
    assert counters() == before == fresh_count()
    assert {db.session.get(Signature, id_).count_shard for id_ in ids} == {0}
    for id_ in ids[:4] + ids[-1:]:
        withdraw(keys, db.session.get(Signature, id_))
    db.session.expire_all()
    assert counters() == fresh_count()
