"""News posts of organisations: pages, writing, scheduling, Markdown preview."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("posts", __name__)
