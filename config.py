"""Configuration classes: defaults here, values from the environment, production fails fast."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _development_secrets() -> dict[str, str]:
    """Secrets for development, generated once into instance/ (never committed)."""
    path = INSTANCE_DIR / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    # Fernet keys, comma-separated; the first encrypts, all decrypt (key rotation).
    ENCRYPTION_KEY: str | None = os.environ.get("ENCRYPTION_KEY")
    # Key for the keyed hash (blind index) of canonical emails; never rotate casually.
    BLIND_INDEX_KEY: str | None = os.environ.get("BLIND_INDEX_KEY")

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'care-dont-share.db'}")
    # hide_parameters: error messages and logs never echo row values. No pool_pre_ping: a
    # connection the server closed is dropped at checkout without a round trip (app/db_pool.py).
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    # Connections each process keeps open to PostgreSQL: at least gunicorn's --threads, or every
    # request beyond the pool opens and closes a connection of its own (a new server process
    # each time). Ignored for SQLite.
    DATABASE_POOL_SIZE = _env_int("DATABASE_POOL_SIZE", 10)
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000").rstrip("/")
    # The site's languages, the default first; each other one mirrors the site under /<code>/
    # and needs app/translations/<code>/ and its content files (README, "Languages").
    LANGUAGES = tuple(code.strip() for code in os.environ.get("LANGUAGES", "en,cy").split(",") if code.strip())

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Care Don't Share <pledge@example.org>")
    MAIL_SINK_DIR = os.environ.get("MAIL_SINK_DIR", str(INSTANCE_DIR / "mail"))
    MAIL_TIMEOUT_SECONDS = 10
    # Emails one signature may be sent because of form submissions (flood guard).
    MAIL_MAX_PER_SIGNATURE = 3
    # Work-address verification emails one signature may be sent, in all (issue 12).
    WORK_EMAIL_MAX_PER_SIGNATURE = 3
    MAIL_RETRY_BASE_SECONDS = 30
    MAIL_RETRY_MAX_SECONDS = 3600
    # Updates to signers each `flask mail worker` process sends per second, after all other mail:
    # with N workers the queue's total is N times this. Keep it within your mail provider's limits.
    MAIL_UPDATES_PER_SECOND = float(os.environ.get("MAIL_UPDATES_PER_SECOND", "20"))

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = True
    # If Redis is unreachable, limit in memory rather than refuse or lose sign-ups.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Sign-ups per client address (burst; sustained). Over it, sign-ups are held for review,
    # silently. Generous, because a school or hospital may sign from behind one address.
    RATELIMIT_SIGN = os.environ.get("RATELIMIT_SIGN", "20 per minute; 300 per hour")
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "1200 per minute")
    # Work-address verification requests per client address; over it nothing is sent, silently.
    RATELIMIT_WORK_EMAIL = os.environ.get("RATELIMIT_WORK_EMAIL", "10 per minute; 60 per hour")
    # Failed organiser sign-ins. Per account and client address, so failures from one place
    # never stop the owner signing in from another; per address (also password-reset
    # requests); per account from everywhere, a ceiling that is audited when reached; and
    # wrong two-factor codes per account.
    RATELIMIT_LOGIN_ACCOUNT_ADDRESS = os.environ.get("RATELIMIT_LOGIN_ACCOUNT_ADDRESS", "5 per 15 minutes")
    RATELIMIT_LOGIN_IP = os.environ.get("RATELIMIT_LOGIN_IP", "30 per 15 minutes")
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "50 per hour")
    RATELIMIT_LOGIN_CODE = os.environ.get("RATELIMIT_LOGIN_CODE", "5 per 15 minutes")

    CONFIRM_TOKEN_MAX_AGE_DAYS = _env_int("CONFIRM_TOKEN_MAX_AGE_DAYS", 30)
    # A pending sign-up gets one reminder this long after signing (`flask reminders send`).
    CONFIRM_REMINDER_HOURS = _env_int("CONFIRM_REMINDER_HOURS", 48)
    UNCONFIRMED_RETENTION_DAYS = _env_int("UNCONFIRMED_RETENTION_DAYS", 30)

    COUNTS_MAX_AGE_SECONDS = 10
    COUNTS_STALE_SECONDS = 60
    COUNT_POLL_SECONDS = _env_int("COUNT_POLL_SECONDS", 15)
    # Each process answers repeats of a counts, widget or badge address from memory for this
    # long (app/widget/response_cache.py); 0 switches it off. Cache hits skip RATELIMIT_API.
    WIDGET_CACHE_SECONDS = float(os.environ.get("WIDGET_CACHE_SECONDS", "1"))
    # Each process keeps sectors, organisations, the pause switch and blocked domains for this
    # long (app/services/reference.py): a pause or a newly blocked domain reaches every process
    # within it. 0 reads them on every request.
    REFERENCE_CACHE_SECONDS = float(os.environ.get("REFERENCE_CACHE_SECONDS", "5"))

    MAX_CONTENT_LENGTH = 16 * 1024
    WTF_CSRF_TIME_LIMIT = 6 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Organiser accounts
    ORGANISER_IDLE_MINUTES = _env_int("ORGANISER_IDLE_MINUTES", 30)
    # A signed-in session ends this long after sign-in however busy it is.
    ORGANISER_SESSION_MAX_HOURS = _env_int("ORGANISER_SESSION_MAX_HOURS", 12)
    PASSWORD_LINK_MAX_AGE_HOURS = 24
    PASSWORD_MIN_LENGTH = 12
    # Reset emails one account may be sent in an hour, whoever asks.
    PASSWORD_RESET_MAX_PER_HOUR = _env_int("PASSWORD_RESET_MAX_PER_HOUR", 3)
    # Retention: the campaign's end (YYYY-MM-DD); after it `flask retention run` anonymises.
    CAMPAIGN_END_DATE = os.environ.get("CAMPAIGN_END_DATE") or None


class DevelopmentConfig(Config):
    ENV_NAME = "development"

    def __init__(self) -> None:
        generated = _development_secrets()
        for name, value in generated.items():
            if not getattr(self, name):
                setattr(self, name, value)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    ENCRYPTION_KEY = Fernet.generate_key().decode()
    BLIND_INDEX_KEY = "test-blind-index-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    SITE_URL = "http://localhost"
    MAIL_SERVER = None
    RATELIMIT_STORAGE_URI = "memory://"
    WIDGET_CACHE_SECONDS = 0.0  # tests that exercise the cache switch it on
    REFERENCE_CACHE_SECONDS = 0.0  # likewise


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REQUIRED = (
        "SECRET_KEY",
        "ENCRYPTION_KEY",
        "BLIND_INDEX_KEY",
        "DATABASE_URL",
        "SITE_URL",
        "MAIL_SERVER",
    )

    MIN_SECRET_BYTES = 32

    def __init__(self) -> None:
        missing = [name for name in self.REQUIRED if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production configuration is missing: "
                + ", ".join(missing)
                + ". Set these environment variables (see README: Configuration)."
            )
        problems = [
            f"{name} must be at least {self.MIN_SECRET_BYTES} bytes (e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
            for name in ("SECRET_KEY", "BLIND_INDEX_KEY")
            if len(os.environ[name].encode()) < self.MIN_SECRET_BYTES
        ]
        if not _valid_fernet_keys(os.environ["ENCRYPTION_KEY"]):
            problems.append(
                "ENCRYPTION_KEY must be a Fernet key, or comma-separated Fernet keys "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            )
        if problems:
            raise RuntimeError("Production configuration is too weak: " + "; ".join(problems) + ".")
        # Refuse requests for any other host, so nothing can be tricked into using it.
        extra = [host.strip() for host in os.environ.get("EXTRA_TRUSTED_HOSTS", "").split(",") if host.strip()]
        self.TRUSTED_HOSTS = [urlsplit(os.environ["SITE_URL"]).hostname or "", *extra]


def _valid_fernet_keys(value: str) -> bool:
    try:
        return all(Fernet(key.strip()) for key in value.split(","))
    except ValueError:
        return False


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Instantiate the configuration named by APP_ENV (default: development)."""
    name = name or os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}; got {name!r}") from None
