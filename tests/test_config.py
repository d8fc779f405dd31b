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
