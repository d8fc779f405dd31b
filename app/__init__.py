"""The application factory."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import INSTANCE_DIR, Config, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | str | None = None, **overrides) -> Flask:
    """Build the app: config, logging, extensions, blueprints, languages, errors, CLI, security headers."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_object(config if isinstance(config, Config) else load_config(config))
    app.config.update(overrides)
    _configure_logging(app)
    _init_extensions(app)
    _register_blueprints(app)

    from app import cli, errors, i18n, security
    from app.urls import absolute_url_for

    app.add_template_global(absolute_url_for)
    i18n.init_app(app)
    errors.register(app)
    cli.register(app)
    security.register(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        # Only the headers the README's proxy set-up sends; the host always comes from SITE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0, x_prefix=0)
    return app


def warm_caches(app: Flask) -> None:
    """Read the campaign's content, the postcode geography and the translations now, so a server's
    first requests do not each parse them (app processes cache them for their lifetime)."""
    from flask_babel import force_locale, get_translations

    from app import content_loader
    from app.forms import wtforms_messages
    from app.pledge.work_email import work_rules_in
    from app.services import geography

    languages = app.config["LANGUAGES"]
    content_loader.read_all(languages)
    geography.areas()
    for language in languages:
        work_rules_in(language)
        wtforms_messages(language)
        with app.test_request_context(), force_locale(language):
            get_translations()  # Flask-Babel keeps each language's catalogue for the process


def _configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("app")
    if not logger.handlers:
        logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    # Werkzeug's access log would write full client IPs; keep it quiet.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _init_extensions(app: Flask) -> None:
    from app import rate_limits
    from app.db_pool import drop_closed_connections
    from app.extensions import csrf, db, login_manager, migrate
    from app.services.keys import Keys
    from app.services.reference import ReferenceCache

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "pool_size": app.config["DATABASE_POOL_SIZE"],
        }
    db.init_app(app)
    with app.app_context():
        drop_closed_connections(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    rate_limits.init_app(app)
    login_manager.init_app(app)
    app.extensions["care_keys"] = Keys.from_config(app.config)
    app.extensions["care_reference"] = ReferenceCache(app.config["REFERENCE_CACHE_SECONDS"])


def _register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.organiser import bp as organiser_bp
    from app.places import bp as places_bp
    from app.pledge import bp as pledge_bp
    from app.posters import bp as posters_bp
    from app.widget import bp as widget_bp

    app.register_blueprint(pledge_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(posters_bp)
    app.register_blueprint(places_bp)
    app.register_blueprint(organiser_bp)
