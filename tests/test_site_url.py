"""Every absolute URL the site writes comes from SITE_URL, never from the Host or X-Forwarded-Host header."""

import pytest

from app.urls import absolute_url_for

SITE = "https://pledge.example.org"
HOSTILE = {"Host": "attacker.example", "X-Forwarded-Host": "forwarded.example", "X-Forwarded-For": "198.51.100.7"}

PAGES = [
    "/thank-you/education",
    "/embed?org=neu",
    "/embed/codes.json?org=neu&sector=education",
    "/oembed?url=https%3A%2F%2Fattacker.example%2Funions%2Fneu",
    "/widget/union/neu",
    "/unions/neu",
    "/sign/education",
]


@pytest.fixture
def behind_proxy(app):
    app.config.update(SITE_URL=SITE, TRUSTED_PROXIES=1)
    return app


@pytest.mark.parametrize("path", PAGES)
def test_pages_write_absolute_urls_from_site_url_whatever_the_host_header(behind_proxy, client, path):
    response = client.get(path, headers=HOSTILE)
    assert response.status_code == 200, response.text[:300]
    body = response.get_data(as_text=True)
    assert "attacker.example/" not in body.replace("url=https%3A%2F%2Fattacker.example", "")
    assert "forwarded.example" not in body


def test_share_links_on_the_thank_you_page_point_at_the_site(behind_proxy, client):
    body = client.get("/thank-you/education", headers=HOSTILE).text
    assert "https%3A%2F%2Fpledge.example.org" in body or "https://pledge.example.org" in body


def test_embed_codes_are_absolute_under_site_url(behind_proxy, client):
    codes = client.get("/embed/codes.json?org=neu&sector=education", headers=HOSTILE).get_json()
    flat = repr(codes)
    assert f"{SITE}/widget.js" in flat and f"{SITE}/badge/union/neu/education.svg" in flat
    assert f"{SITE}/sign/education?org=neu" in flat


def test_absolute_url_for_keeps_a_path_prefix_and_anchor(app):
    app.config["SITE_URL"] = "https://example.org/pledge"
    assert absolute_url_for("pledge.sign", sector_slug="health", org="rcn") == (
        "https://example.org/pledge/sign/health?org=rcn"
    )
    assert absolute_url_for("pledge.index", _anchor="sign") == "https://example.org/pledge/#sign"
