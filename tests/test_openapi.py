"""The public API against its OpenAPI document: schemathesis generates requests for every operation
from /api/v1/openapi.json as the running app serves it, and checks each response against it."""

from __future__ import annotations

import jsonschema_rs
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.openapi import DOCUMENT
from app.models import SignatureStatus

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def confirmed_signatures(app, make_signature):
    """A few confirmed signatures, so counts are non-zero and updated_at is a timestamp."""
    make_signature(email="a@example.com", union="neu", status=SignatureStatus.CONFIRMED)
    make_signature(email="b@example.com", sector="health", union="unison", status=SignatureStatus.CONFIRMED)
    make_signature(email="c@example.com", sector="public", status=SignatureStatus.CONFIRMED)


@pytest.fixture
def api_schema(app, confirmed_signatures):
    """The document as the running app serves it; schemathesis calls the app through WSGI."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


# Listed from the file so pytest can name each operation; a test checks the served copy matches.
PATHS = yaml.safe_load(DOCUMENT.read_text())["paths"]
OPERATIONS = [(method.upper(), path) for path, item in PATHS.items() for method in item]
# Requests the document does not allow can only be made where there are query parameters.
RUNS = [(method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS] + [
    (method, path, GenerationMode.NEGATIVE)
    for method, path in OPERATIONS
    if any(p["in"] == "query" for p in PATHS[path][method.lower()].get("parameters", []))
]


# schemathesis's own pytest integration (schema.parametrize) does not work with pytest 9.2
# (it sets Function._nodeid, which pytest removed), so each operation is driven by its
# hypothesis strategy directly: valid requests, then requests the document does not allow.
@pytest.mark.parametrize(("method", "path", "mode"), RUNS, ids=lambda v: getattr(v, "value", v))
def test_every_operation_conforms_to_the_document(api_schema, method, path, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    def conforms(case):
        case.call_and_validate(checks=CHECKS)

    conforms()


def test_every_api_route_is_documented(app, api_schema):
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule == "/healthz"
        for method in rule.methods - {"HEAD"}
        if not (method == "OPTIONS" and rule.provide_automatic_options)  # Flask's own, not ours
    }
    documented = {(method, path) for method, path in OPERATIONS}
    assert served == documented
    assert api_schema.raw_schema["paths"] == PATHS  # the served copy is the file


def test_the_document_is_valid_openapi_3_1(app):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    loaded.validate()  # against the OpenAPI 3.1 meta-schema
    for component in loaded.raw_schema["components"]["schemas"].values():
        jsonschema_rs.meta.validate(component)  # JSON Schema 2020-12, the dialect OpenAPI 3.1 uses
    assert loaded.raw_schema["openapi"].startswith("3.1.")
    assert set(loaded.raw_schema["paths"]) == {
        "/api/v1/counts",
        "/api/v1/regions",
        "/healthz",
        "/api/v1/openapi.json",
    }


def test_empty_counts_match_the_document(app, client):
    """Before any confirmation: zero counts, still as documented."""
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)["/api/v1/counts"]["GET"]
    response = client.get("/api/v1/counts")
    assert response.json["total"] == 0
    operation.validate_response(response)


def test_the_document_is_cacheable_and_open_to_any_origin(client):
    first = client.get("/api/v1/openapi.json", headers={"Origin": "https://neu.org.uk"})
    assert first.status_code == 200 and first.mimetype == "application/json"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in first.headers["Cache-Control"] and "max-age=" in first.headers["Cache-Control"]
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    preflight = client.options("/api/v1/openapi.json", headers={"Origin": "https://neu.org.uk"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_a_wrong_document_would_be_caught(app):
    """The checks can fail: a document that promises a field the API does not send is refused."""
    document = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).raw_schema
    document["components"]["schemas"]["Counts"]["required"].append("region")
    document["components"]["schemas"]["Counts"]["properties"]["region"] = {"type": "string"}
    operation = schemathesis.openapi.from_dict(document)["/api/v1/counts"]["GET"]
    response = app.test_client().get("/api/v1/counts")
    with pytest.raises(Exception, match="region"):
        operation.validate_response(response)
