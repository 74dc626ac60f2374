"""Wiring of the web application: extensions, blueprints, jobs, locale, headers.

Kept apart from ``create_app`` so the factory reads as one screen.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale, get_timezone
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hub.extensions import babel, csrf, db, limiter, login, migrate

LOCALES = ("fr", "en")
_process_hooks_installed = False

#: No third-party request from any page: remote images in user Markdown are kept in the
#: HTML (the sanitiser allows https) but the browser does not fetch them until an image
#: proxy serves them from this instance.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


def configure(app: Flask) -> None:
    logging.basicConfig(level=app.config["HUB_LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    proxies = app.config["HUB_PROXY_COUNT"]
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore
                                x_host=proxies)
    _bind_extensions(app)
    _register_jobs(app)
    _register_blueprints(app)
    _install_request_hooks(app)
    from hub.errors import register_error_handlers

    register_error_handlers(app)


def _bind_extensions(app: Flask) -> None:
    import hub.models  # noqa: F401  (complete metadata before anything binds)

    db.init_app(app)
    from hub import pagecache

    pagecache.init_app(app)
    from hub.feeds import http as feed_http

    feed_http.init_app(app)
    from hub.feeds import links as feed_links

    feed_links.init_app(app)
    from hub import fragments

    fragments.init_app(app)
    from hub.federation import negotiation

    negotiation.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    _fast_template_gettext(app)
    _fast_date_filter(app)
    login.init_app(app)
    login.login_view = "accounts.login"
    login.login_message_category = "info"
    from flask_babel import lazy_gettext

    login.login_message = lazy_gettext("Please log in to see this page.")

    @login.user_loader
    def load_account(user_id: str):
        from hub.accounts.queries import find_account_for_session

        return find_account_for_session(user_id)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_pragmas(db.engine)


def _fast_template_gettext(app: Flask) -> None:
    """Templates call gettext dozens of times a page; Flask-Babel looks the locale and the
    catalogue up again at each call (a third of a search page's time). Keep the catalogue
    for the locale in force — ``force_locale`` (e-mails) swaps the locale object, so the
    identity check follows it."""
    from flask import g
    from flask_babel import get_translations

    def translations():
        ctx = g.get("_flask_babel")
        locale = getattr(ctx, "babel_locale", None)
        if locale is None:
            return get_translations()
        kept = getattr(ctx, "hub_translations", None)
        if kept is None or kept[0] is not locale:
            kept = ctx.hub_translations = (locale, get_translations())
        return kept[1]

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
        """Jinja's new-style gettext in one call instead of three (same result: Markup
        when escaping, the variables escaped into it, and always formatted)."""
        translated = translations().ugettext(string)
        if eval_ctx.autoescape:
            translated = Markup(translated)  # noqa: S704 - our own catalogues
        return translated % variables

    app.jinja_env.globals.update(gettext=gettext, _=gettext)


def _fast_date_filter(app: Flask) -> None:
    """``dateformat`` as Flask-Babel's, but a day is formatted once per locale and format,
    and moved to the reader's zone by ``zoneinfo`` (pytz, which Flask-Babel uses, costs
    more than the formatting): a results page of twenty dates spent more on them than on
    its search query."""

    def dateformat(value: date | datetime | None, format: str = "medium") -> str:
        if value is None:
            return ""
        return reader_days([value], format)[0]

    app.jinja_env.filters["dateformat"] = dateformat


_ZONES: dict[str, Any] = {"UTC": UTC}


def reader_days(values: list[date | datetime], format: str = "medium") -> list[str]:
    """Days in the reader's language and time zone (``dateformat`` for a whole list: the
    zone and locale are looked up once)."""
    name = get_timezone().zone
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    locale = get_locale()
    days = []
    for value in values:
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
            value = value.date()
        days.append(format_day(value, format, locale))
    return days


@lru_cache(maxsize=4096)
def format_day(day: date, format: str, locale: Any) -> str:
    """A day in a locale's words (pure, so cached per process)."""
    from babel.dates import format_date

    return format_date(day, format, locale=locale)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _register_jobs(app: Flask) -> None:
    from hub.jobs import install_session_hooks, jobs
    from hub.mail.sender import due_emails, send_email

    global _process_hooks_installed
    if not _process_hooks_installed:  # handlers and session hooks are per process
        from hub.pagecache import install_version_hooks

        jobs.register("send_email", send_email)
        jobs.register_sweeper(due_emails)
        from hub.content.jobs import register as register_content_jobs

        register_content_jobs(jobs)
        from hub.feeds.jobs import register as register_feed_jobs

        register_feed_jobs(jobs)
        from hub.federation.jobs import register as register_federation_jobs

        register_federation_jobs(jobs)
        install_session_hooks()
        install_version_hooks()
        _process_hooks_installed = True
    jobs.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from hub.accounts.sso_views import bp as sso_bp
    from hub.accounts.views import bp as accounts_bp
    from hub.admin.views import bp as admin_bp
    from hub.content.comments.views import bp as comments_bp
    from hub.content.discussions.views import bp as discussions_bp
    from hub.content.events.views import bp as events_bp
    from hub.content.posts.views import bp as posts_bp
    from hub.content.resources.views import bp as resources_bp
    from hub.content.search.views import bp as search_bp
    from hub.content.stats_views import bp as stats_bp
    from hub.content.themes_views import bp as themes_bp
    from hub.federation.actor_views import bp as ap_bp
    from hub.federation.discovery_views import bp as discovery_bp
    from hub.federation.follow_views import bp as follows_bp
    from hub.federation.inbox_views import bp as inbox_bp
    from hub.federation.network_views import bp as network_bp
    from hub.feeds.views import bp as feeds_bp
    from hub.feeds.watch.views import bp as watch_bp
    from hub.main import bp as main_bp
    from hub.moderation.filters_views import bp as word_filters_bp
    from hub.moderation.queue_views import bp as moderation_bp
    from hub.moderation.views import bp as charter_bp
    from hub.notifications.views import bp as notifications_bp
    from hub.orgs.views import bp as orgs_bp

    for blueprint in (main_bp, posts_bp, resources_bp, discussions_bp, comments_bp, events_bp,
                      themes_bp, search_bp, notifications_bp, stats_bp, feeds_bp,
                      watch_bp, ap_bp, discovery_bp, inbox_bp, follows_bp, network_bp,
                      charter_bp, moderation_bp, word_filters_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(sso_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(orgs_bp)


def select_locale() -> str:
    from hub.admin.queries import instance_settings

    if not has_request_context():
        return instance_settings().default_locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    from flask_login import current_user

    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    best = request.accept_languages.best_match(LOCALES)
    if best:
        return best
    return instance_settings().default_locale


def select_timezone() -> str | None:
    """Logged-in people see dates in their own zone; visitors in the instance's (the page
    cache may share a visitor's page with everyone, so it must not depend on the visitor)."""
    from flask_login import current_user

    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.timezone or None
    return None


def _install_request_hooks(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict:
        from hub.admin.queries import instance_settings
        from hub.content.comments.views import comment_section

        return {"instance": instance_settings(), "comment_section": comment_section,
                "current_locale": str(get_locale()),
                "locales": LOCALES, "role_label": role_label,
                "instance_name": lambda: instance_settings().name}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "interest-cohort=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def role_label(role: str) -> str:
    """Translated names of organisation and instance roles, for templates and e-mails."""
    from flask_babel import gettext as _

    return {
        "owner": _("owner"), "admin": _("admin"), "editor": _("editor"), "member": _("member"),
        "moderator": _("moderator"), "user": _("user"),
    }.get(role, role)

