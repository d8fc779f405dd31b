"""GET /api/v1/counts: the PRODUCT.md contract, filters, CORS, caching; /healthz; DB outage."""

import pytest

from app import content_loader
from app.extensions import db


def test_counts_document_shape(client):
    response = client.get("/api/v1/counts")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"total", "paper", "verified_total", "updated_at", "sectors", "organisations"}
    assert [s["slug"] for s in body["sectors"]] == ["education", "health", "policing", "local-services", "public"]
    assert set(body["sectors"][0]) >= {"slug", "name", "count", "goal", "next_goal", "verified"}
    assert set(body["organisations"][0]) == {"slug", "name", "name_cy", "count", "paper", "verified"}
    assert "neu" in [o["slug"] for o in body["organisations"]]


def test_only_confirmed_signatures_count(client, make_signup, confirm_all, org_id):
    make_signup(email="a@example.com", organisation_id=org_id("neu"))
    make_signup(email="b@example.com", sector="health", organisation_id=org_id("unison"))
    assert client.get("/api/v1/counts").json["total"] == 0
    confirm_all()
    make_signup(email="c@example.com")  # still pending
    body = client.get("/api/v1/counts").json
    assert body["total"] == 2
    by_sector = {s["slug"]: s["count"] for s in body["sectors"]}
    assert by_sector["education"] == 1 and by_sector["health"] == 1 and by_sector["policing"] == 0
    assert body["updated_at"].endswith("+00:00")


def test_filters_narrow_the_document(client, make_signup, confirm_all, org_id):
    make_signup(email="a@example.com", organisation_id=org_id("neu"))
    make_signup(email="b@example.com", organisation_id=org_id("nasuwt"))
    make_signup(email="c@example.com", sector="health", organisation_id=org_id("neu"))
    confirm_all()
    sector = client.get("/api/v1/counts?sector=education").json
    assert sector["total"] == 2 and [s["slug"] for s in sector["sectors"]] == ["education"]
    assert sector["organisations"] == []
    org = client.get("/api/v1/counts?org=neu").json
    welsh = content_loader.name_of("organisations", "neu", language="cy")
    assert org["total"] == 2 and org["organisations"] == [
        {"slug": "neu", "name": "National Education Union", "name_cy": welsh, "count": 2, "paper": 0, "verified": 0}
    ]
    both = client.get("/api/v1/counts?sector=education&org=neu").json
    assert both["total"] == 1


@pytest.mark.parametrize("path", ["/api/v1/counts", "/api/v1/regions"])
@pytest.mark.parametrize(
    "query",
    [
        "sector=nope",
        "org=nope",
        "sector=",
        "colour=red",
        "sector=education&sector=health",
        "sector=" + "x" * 500,
        "org=" + "x" * 500,
        "sector=edu%00cation",  # PostgreSQL refuses a NUL byte in a string: still "unknown", not a bare 400
        "org=n%00eu",
    ],
)
def test_bad_parameters_get_400_json(client, path, query):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.is_json and response.json["error"]["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_open_to_any_origin(client):
    response = client.get("/api/v1/counts", headers={"Origin": "https://neu.org.uk"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/v1/counts", headers={"Origin": "https://neu.org.uk"})
    assert preflight.status_code == 204 and "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_etag_cache_control_and_304(client, make_signup, confirm_all):
    first = client.get("/api/v1/counts")
    etag = first.headers["ETag"]
    cache = first.headers["Cache-Control"]
    assert "max-age=" in cache and "stale-while-revalidate=" in cache and "public" in cache
    assert client.get("/api/v1/counts", headers={"If-None-Match": etag}).status_code == 304
    make_signup()
    confirm_all()
    changed = client.get("/api/v1/counts", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_count_request_does_not_read_signatures(app, client):
    from sqlalchemy import event

    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        client.get("/api/v1/counts")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert statements and not any("signature" in s.lower() for s in statements)


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_database_outage_gives_503_page_without_trace(tmp_path):
    from app import create_app

    broken = create_app(
        "testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none", MAIL_SINK_DIR=str(tmp_path)
    )
    client = broken.test_client()
    page = client.get("/")
    assert page.status_code == 503
    assert page.headers["Retry-After"].isdigit()
    assert "Traceback" not in page.text and "psycopg" not in page.text
    assert "try again" in page.text
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "unavailable"
    api = client.get("/api/v1/counts")
    assert api.status_code == 503 and api.is_json


def test_public_counts_do_not_vary_by_cookie(client):
    client.get("/sign/education")  # the visitor now has a session cookie
    response = client.get("/api/v1/counts")
    assert "cookie" not in response.headers.get("Vary", "").lower()
    assert "Set-Cookie" not in response.headers


def test_counts_are_served_from_the_micro_cache_for_a_moment(app, client, make_signup, confirm_all):
    app.config["WIDGET_CACHE_SECONDS"] = 60
    first = client.get("/api/v1/counts").json["total"]
    make_signup()
    confirm_all()
    assert client.get("/api/v1/counts").json["total"] == first  # the same second: from memory
    app.config["WIDGET_CACHE_SECONDS"] = 0
    assert client.get("/api/v1/counts").json["total"] == first + 1
