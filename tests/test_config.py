"""Production refuses to start without its secrets, naming what is missing."""

import pytest

from config import ProductionConfig


def test_production_names_missing_settings(monkeypatch):
    for name in ProductionConfig.REQUIRED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "x")
    with pytest.raises(RuntimeError) as error:
        ProductionConfig()
    message = str(error.value)
    assert "ENCRYPTION_KEY" in message and "DATABASE_URL" in message and "MAIL_SERVER" in message
    assert "SECRET_KEY" not in message


@pytest.fixture
def production_env(monkeypatch):
    """A complete, strong production environment; tests weaken one part of it."""
    from cryptography.fernet import Fernet

    values = {
        "SECRET_KEY": "s" * 32,
        "BLIND_INDEX_KEY": "b" * 32,
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": "sqlite://",
        "SITE_URL": "https://pledge.example.org",
        "MAIL_SERVER": "localhost",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_production_starts_with_strong_settings(production_env):
    assert ProductionConfig().TRUSTED_HOSTS == ["pledge.example.org"]


@pytest.mark.parametrize("name", ["SECRET_KEY", "BLIND_INDEX_KEY"])
def test_production_refuses_a_short_secret(production_env, monkeypatch, name):
    monkeypatch.setenv(name, "x" * 31)
    with pytest.raises(RuntimeError, match=f"{name} must be at least 32 bytes"):
        ProductionConfig()


@pytest.mark.parametrize("value", ["x", "not-a-fernet-key" * 3])
def test_production_refuses_an_encryption_key_that_is_not_fernet(production_env, monkeypatch, value):
    from cryptography.fernet import Fernet

    monkeypatch.setenv("ENCRYPTION_KEY", f"{Fernet.generate_key().decode()},{value}")
    with pytest.raises(RuntimeError, match="ENCRYPTION_KEY must be a Fernet key"):
        ProductionConfig()


def test_production_refuses_requests_for_another_host(production_env):
    from app import create_app

    secrets = {name: production_env[name] for name in ("SECRET_KEY", "BLIND_INDEX_KEY", "ENCRYPTION_KEY")}
    client = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://", **secrets).test_client()
    assert client.get("/healthz", base_url="https://pledge.example.org").status_code == 200
    refused = client.get("/healthz", base_url="https://attacker.example")
    assert refused.status_code == 400 and "not trusted" in refused.get_json()["error"]["message"]


def test_wsgi_entry_point_defaults_to_production(monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "Production configuration is missing" in result.stderr


def test_forwarded_host_is_ignored_behind_the_proxy(database_url):
    from flask import request

    from app import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, TRUSTED_PROXIES=1)
    app.add_url_rule("/_host", "host", lambda: request.host)
    response = app.test_client().get(
        "/_host", base_url="http://pledge.example.org", headers={"X-Forwarded-Host": "attacker.example"}
    )
    assert response.text == "pledge.example.org"
