"""Settings: documented defaults, then a file named by HUB_CONFIG, then HUB_* variables.

Every setting is declared once in ``SETTINGS``; ``docs/configuration.md`` lists
the same names and a test keeps both in step. Settings an admin changes at run
time (instance name, registration mode…) live in the database, not here.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "placeholder"}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    kind: type
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("HUB_ENV", "production", str, "`production`, `development` or `testing`."),
    Setting("HUB_INSTANCE_PATH", "instance", str, "Folder for the SQLite database, queue, "
            "generated secret key, media and the file mail outbox."),
    Setting("HUB_DATABASE_URL", "", str, "SQLAlchemy URL. Empty: SQLite (WAL) in the instance "
            "folder. PostgreSQL: `postgresql+psycopg://user@host/db`."),
    Setting("HUB_REDIS_URL", "", str, "Redis URL. When set the job queue and rate limits use "
            "Redis; otherwise Huey on SQLite and in-process limits."),
    Setting("HUB_BASE_URL", "http://127.0.0.1:5000", str, "Public URL of the instance. Must be "
            "https in production, except on loopback."),
    Setting("HUB_SECRET_KEY", "", str, "Signs sessions and tokens. Empty: generated once and "
            "kept in `instance/secret_key`. A placeholder is refused in production."),
    Setting("HUB_HOST", "127.0.0.1", str, "Address `maillage run`/`web` listens on."),
    Setting("HUB_PORT", 5000, int, "Port `maillage run`/`web` listens on."),
    Setting("HUB_PROXY_COUNT", 0, int, "Reverse proxies in front of the app whose "
            "X-Forwarded-For/-Proto/-Host headers are trusted (0: none)."),
    Setting("HUB_WEB_THREADS", 8, int, "Threads of the embedded web server (waitress)."),
    Setting("HUB_WORKER_THREADS", 2, int, "Threads of the job worker."),
    Setting("HUB_QUEUE_NAME", "maillage", str, "Name of the Huey queue; web and worker "
            "processes of one instance must share it."),
    Setting("HUB_JOB_LEASE_SECONDS", 300, int, "How long a job owns a row before the sweep "
            "may hand it to another worker (a worker killed mid-job is retried after this)."),
    Setting("HUB_SWEEP_INTERVAL", 60, int, "Seconds between sweeps that re-queue due rows."),
    Setting("HUB_MAIL_BACKEND", "", str, "`smtp`, `file` (writes .eml files to "
            "`instance/outbox/`) or `console`. Empty: `smtp` when HUB_MAIL_SERVER is set, "
            "else `file`."),
    Setting("HUB_MAIL_SERVER", "", str, "SMTP host."),
    Setting("HUB_MAIL_PORT", 25, int, "SMTP port."),
    Setting("HUB_MAIL_USERNAME", "", str, "SMTP user (optional)."),
    Setting("HUB_MAIL_PASSWORD", "", str, "SMTP password (optional)."),
    Setting("HUB_MAIL_USE_TLS", False, bool, "STARTTLS after connecting."),
    Setting("HUB_MAIL_USE_SSL", False, bool, "Implicit TLS (usually port 465)."),
    Setting("HUB_MAIL_FROM", "", str, "Sender address. Empty: `noreply@<host of base URL>`."),
    Setting("HUB_MAIL_MAX_ATTEMPTS", 8, int, "Attempts before an e-mail is given up."),
    Setting("HUB_MAX_UPLOAD_MB", 8, int, "Largest request body, uploads included (413 above). "
            "Files shared in the resource library follow the upload size limit set in the "
            "administration instead."),
    Setting("HUB_DEFAULT_LOCALE", "fr", str, "Interface language before an admin sets one "
            "(`fr` or `en`)."),
    Setting("HUB_DEFAULT_TIMEZONE", "Europe/Paris", str, "Time zone dates are shown in to "
            "visitors and new accounts (IANA name); logged-in people choose their own."),
    Setting("HUB_LOGIN_RATE_LIMIT", "10 per minute", str, "Login and sign-up attempts per "
            "address (Flask-Limiter syntax)."),
    Setting("HUB_REPORT_RATE_LIMIT", "10 per hour", str, "Reports per account, or per address "
            "for visitors (Flask-Limiter syntax): visitors may report without an account."),
    Setting("HUB_POST_RATE_LIMIT", "30 per hour", str, "New posts, resources, discussions "
            "and events per account (Flask-Limiter syntax; previews do not count)."),
    Setting("HUB_COMMENT_RATE_LIMIT", "60 per hour", str, "New comments and replies per "
            "account (Flask-Limiter syntax)."),
    Setting("HUB_TOKEN_MAX_AGE_HOURS", 48, int, "Validity of e-mail confirmation, password "
            "reset and invitation links."),
    Setting("HUB_LOG_LEVEL", "INFO", str, "Python logging level."),
    Setting("HUB_OUTBOUND_ALLOW_PRIVATE", False, bool, "Let outbound requests reach private, "
            "loopback and link-local addresses (test networks, an identity provider on the "
            "LAN). Off: such requests are refused (SSRF guard)."),
    Setting("HUB_INBOX_MAX_BYTES", 1024 * 1024, int, "Largest activity accepted by an "
            "inbox, in bytes (413 above)."),
    Setting("HUB_INBOX_RATE_LIMIT", "1200 per minute", str, "Requests to the inboxes per "
            "address (Flask-Limiter syntax); generous, as a big server delivers a lot."),
    Setting("HUB_DELIVERY_TIMEOUT", 10, int, "Seconds before a delivery to a remote inbox "
            "is given up for this attempt (and retried later)."),
    Setting("HUB_DELIVERY_GIVE_UP_HOURS", 72, int, "Hours during which a delivery that "
            "fails is retried (back-off from a minute to a day) before it is given up."),
    Setting("HUB_DELIVERY_CIRCUIT_FAILURES", 5, int, "Failed deliveries in a row after which "
            "a remote host's circuit opens: its deliveries wait 1, 2, 4 … 60 minutes, then "
            "one probes it."),
    Setting("HUB_OIDC_PROVIDERS", "", str, "Path to a TOML or JSON file declaring OpenID "
            "Connect / OAuth2 sign-in providers (`[[providers]]` tables, see the README). "
            "They come in addition to those admins add in the administration area."),
    Setting("HUB_OIDC_TIMEOUT", 10, int, "Seconds before a request to an identity provider "
            "(discovery, keys, token, userinfo) is given up."),
    Setting("HUB_WATCH_INTERVAL_MINUTES", 60, int, "Minutes between two polls of a watched "
            "external feed; after an error the wait doubles, up to a day."),
    Setting("HUB_WATCH_TIMEOUT_SECONDS", 10, int, "Seconds before a request for a watched "
            "feed is given up."),
    Setting("HUB_WATCH_MAX_BYTES", 2 * 1024 * 1024, int, "Largest watched feed read, in "
            "bytes (after decompression); a larger feed is refused with an error."),
    Setting("HUB_WATCH_MAX_FAILURES", 5, int, "Failed polls in a row after which a watched "
            "feed is paused (an admin resumes it); a feed answering 410 Gone is paused at "
            "once."),
)

SETTING_NAMES = frozenset(s.name for s in SETTINGS)


def _coerce(setting: Setting, value: Any) -> Any:
    if setting.kind is bool and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if setting.kind is int and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{setting.name} must be a whole number, not {value!r}") from None
    return setting.kind(value)


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely; create_app fails fast on it."""


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Merge defaults, the HUB_CONFIG TOML file, the environment and explicit overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    config_file = (overrides or {}).get("HUB_CONFIG") or environ.get("HUB_CONFIG")
    if config_file:
        with open(config_file, "rb") as fh:
            data = tomllib.load(fh)
        for key, value in data.items():
            name = key if key.startswith("HUB_") else f"HUB_{key.upper()}"
            if name not in SETTING_NAMES:
                raise ConfigError(f"unknown setting {key!r} in {config_file}")
            values[name] = value
    for setting in SETTINGS:
        if setting.name in environ:
            values[setting.name] = environ[setting.name]
    for key, value in (overrides or {}).items():
        if key in SETTING_NAMES:
            values[key] = value
    return {s.name: _coerce(s, values[s.name]) for s in SETTINGS}


def _is_loopback(host: str | None) -> bool:
    return host in {"127.0.0.1", "localhost", "::1"} or bool(host and host.startswith("127."))


def to_flask_config(settings: dict[str, Any]) -> dict[str, Any]:
    """Validate settings and derive the Flask/extension configuration from them."""
    env = settings["HUB_ENV"]
    if env not in {"production", "development", "testing"}:
        raise ConfigError(f"HUB_ENV must be production, development or testing, not {env!r}")
    instance = Path(settings["HUB_INSTANCE_PATH"]).resolve()
    instance.mkdir(parents=True, exist_ok=True)

    base_url = settings["HUB_BASE_URL"].rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"HUB_BASE_URL must be an absolute http(s) URL, not {base_url!r}")
    if env == "production" and parts.scheme != "https" and not _is_loopback(parts.hostname):
        raise ConfigError("HUB_BASE_URL must use https in production (loopback excepted)")

    secret = settings["HUB_SECRET_KEY"]
    if not secret:
        secret = _instance_secret(instance)
    elif env == "production" and (secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 16):
        raise ConfigError("HUB_SECRET_KEY is a placeholder or too short: set a long random value")

    database_url = settings["HUB_DATABASE_URL"] or f"sqlite:///{instance / 'hub.db'}"
    mail_backend = settings["HUB_MAIL_BACKEND"] or (
        "smtp" if settings["HUB_MAIL_SERVER"] else "file"
    )
    if mail_backend not in {"smtp", "file", "console"}:
        raise ConfigError(f"HUB_MAIL_BACKEND must be smtp, file or console, not {mail_backend!r}")
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(settings["HUB_DEFAULT_TIMEZONE"])
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ConfigError("HUB_DEFAULT_TIMEZONE must be an IANA time zone such as "
                          "Europe/Paris") from None
    if settings["HUB_DEFAULT_LOCALE"] not in {"fr", "en"}:
        raise ConfigError("HUB_DEFAULT_LOCALE must be fr or en")

    testing = env == "testing"
    oidc_providers = _oidc_providers(settings["HUB_OIDC_PROVIDERS"])
    return {
        **settings,
        "TESTING": testing,
        "DEBUG": False,
        "SECRET_KEY": secret,
        "HUB_INSTANCE_PATH": str(instance),
        "HUB_BASE_URL": base_url,
        "HUB_MAIL_BACKEND": mail_backend,
        "HUB_MAIL_FROM": settings["HUB_MAIL_FROM"] or f"noreply@{parts.hostname}",
        "HUB_MEDIA_PATH": str(instance / "media"),
        "SERVER_NAME": None,
        "PREFERRED_URL_SCHEME": parts.scheme,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "MAX_CONTENT_LENGTH": settings["HUB_MAX_UPLOAD_MB"] * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": parts.scheme == "https" and not testing,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": parts.scheme == "https" and not testing,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": settings["HUB_DEFAULT_LOCALE"],
        "BABEL_DEFAULT_TIMEZONE": settings["HUB_DEFAULT_TIMEZONE"],
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "RATELIMIT_STORAGE_URI": settings["HUB_REDIS_URL"] or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "HUB_OIDC_PROVIDER_LIST": oidc_providers,
    }


def _oidc_providers(path: str) -> tuple:
    """Providers the deployment declares, read and checked once at start-up."""
    if not path:
        return ()
    import json

    from hub.accounts.oidc import providers_from_document

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        data = json.loads(raw) if path.endswith(".json") else tomllib.loads(raw.decode())
        return tuple(providers_from_document(data, dict(os.environ)))
    except (OSError, ValueError) as exc:  # tomllib and json errors are ValueErrors
        raise ConfigError(f"HUB_OIDC_PROVIDERS ({path}): {exc}") from None


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def _instance_secret(instance: Path) -> str:
    """Generate the secret key on first run and keep it, readable by the owner only."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
