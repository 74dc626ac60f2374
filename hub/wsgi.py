"""WSGI entry point for gunicorn and other servers: ``gunicorn hub.wsgi:app``."""

from hub import create_app

app = create_app()
