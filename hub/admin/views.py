"""Admin area (stub: being written)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
def index():
    return "admin"


@bp.get("/accounts")
def accounts():
    return "accounts"
