"""The ``maillage`` command: init, run, web, worker, create-admin, demo.

Bad arguments print one line and exit 2; refused actions exit 1.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import secrets
import sys
import threading
from typing import NoReturn

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"maillage: {message} (see 'maillage --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="maillage", description="Maillage, a federated hub for associations.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    sub.add_parser("init", help="apply database migrations and create instance settings")
    for name, text in (("run", "web server and job worker in one process"),
                       ("web", "web server only (run workers with 'maillage worker')")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--host", help="listen address (default HUB_HOST)")
        p.add_argument("--port", type=int, help="listen port (default HUB_PORT)")
        p.add_argument("--demo", action="store_true",
                       help="create demo content if the database is empty")
    w = sub.add_parser("worker", help="job worker only")
    w.add_argument("--threads", type=int, help="worker threads (default HUB_WORKER_THREADS)")
    a = sub.add_parser("create-admin", help="create an instance administrator")
    a.add_argument("handle")
    a.add_argument("email")
    a.add_argument("--password", help="password (asked for when omitted; '-' generates one)")
    sub.add_parser("demo", help="create demo content (three organisations, an admin)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from hub import create_app
    from hub.config import ConfigError

    try:
        app = create_app()
    except ConfigError as exc:
        print(f"maillage: configuration error: {exc}", file=sys.stderr)
        return 1
    handler = globals()[f"cmd_{args.command.replace('-', '_')}"]
    return handler(app, args)


def _upgrade(app) -> None:
    from flask_migrate import upgrade

    from hub import ROOT

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        from hub.admin.services import ensure_settings
        from hub.extensions import db

        ensure_settings()
        db.session.commit()


def cmd_init(app, args) -> int:
    _upgrade(app)
    print(f"maillage: database ready at {_safe_url(app.config['SQLALCHEMY_DATABASE_URI'])}")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _maybe_demo(app) -> None:
    from hub.demo import create_demo, has_content
    from hub.extensions import db

    with app.app_context():
        if has_content():
            return
        password = create_demo()
        db.session.commit()
    print("\n  Demo content created. Administrator: admin_demo"
          f"\n  Password (shown once): {password}\n", flush=True)


def cmd_demo(app, args) -> int:
    from hub.demo import create_demo, has_content
    from hub.extensions import db

    _upgrade(app)
    with app.app_context():
        if has_content():
            print("maillage: the database already has accounts; demo not created",
                  file=sys.stderr)
            return 1
        password = create_demo()
        db.session.commit()
    print(f"maillage: demo created; administrator admin_demo, password: {password}")
    return 0


def _serve(app, args) -> threading.Thread:
    from waitress import serve

    host = args.host or app.config["HUB_HOST"]
    port = args.port or app.config["HUB_PORT"]
    thread = threading.Thread(
        target=serve, args=(app,), name="hub-web", daemon=True,
        kwargs={"host": host, "port": port, "threads": app.config["HUB_WEB_THREADS"],
                "ident": "maillage", "clear_untrusted_proxy_headers": True},
    )
    thread.start()
    print(f"maillage: serving on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    return thread


def cmd_run(app, args) -> int:
    from hub.jobs import jobs

    _upgrade(app)
    if args.demo:
        _maybe_demo(app)
    _serve(app, args)
    jobs.run_worker(app, app.config["HUB_WORKER_THREADS"])
    return 0


def cmd_web(app, args) -> int:
    if args.demo:  # a scaled deployment runs `maillage init` once instead
        _upgrade(app)
        _maybe_demo(app)
    thread = _serve(app, args)
    try:
        while thread.is_alive():
            thread.join(1)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_worker(app, args) -> int:
    from hub.jobs import jobs

    threads = args.threads or app.config["HUB_WORKER_THREADS"]
    print(f"maillage: worker started with {threads} thread(s), pid {os.getpid()}", flush=True)
    jobs.run_worker(app, threads)
    return 0


def cmd_create_admin(app, args) -> int:
    from hub.demo import create_account
    from hub.errors import HubError
    from hub.extensions import db

    password = args.password
    generated = False
    if password == "-":  # noqa: S105  ("-" asks for a generated password)
        password, generated = secrets.token_urlsafe(12), True
    elif password is None:
        if not sys.stdin.isatty():
            print("maillage: give --password (or '-' to generate one)", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
    from hub.accounts.services import _ensure_email_free, check_password_strength

    with app.app_context():
        try:
            _ensure_email_free(args.email)
            check_password_strength(password, handle=args.handle, email=args.email)
            create_account(args.handle, args.email, password, role="admin")
            from hub.admin.services import ensure_settings

            ensure_settings()
            db.session.commit()
        except HubError as exc:
            db.session.rollback()
            print(f"maillage: {exc.message}", file=sys.stderr)
            return 1
    print(f"maillage: administrator @{args.handle} created"
          + (f", password: {password}" if generated else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
