"""Organisation pages (stub: being written)."""

from flask import Blueprint

bp = Blueprint("orgs", __name__)


@bp.get("/orgs")
def directory():
    return "directory"


@bp.get("/orgs/new")
def new():
    return "new"


def render_org_page(org):
    return org.name


@bp.get("/invitations/<token>")
def invitation(token):
    return token
