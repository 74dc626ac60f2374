"""The resource catalogue: pages, sharing, files, folders, re-sharing."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("resources", __name__)
