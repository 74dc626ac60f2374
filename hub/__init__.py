"""Maillage: a self-hostable, federated community hub for associations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
__version__ = "0.1.0"


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, jobs, error pages."""
    from hub import web
    from hub.config import load_settings, to_flask_config

    app = Flask(
        "hub",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=False,
    )
    app.config.from_mapping(to_flask_config(load_settings(overrides=overrides)))
    for key, value in (overrides or {}).items():
        if not key.startswith("HUB_"):
            app.config[key] = value
    app.instance_path = app.config["HUB_INSTANCE_PATH"]
    web.configure(app)
    return app
