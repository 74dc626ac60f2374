"""Theme pages and the thesaurus."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("themes", __name__)
