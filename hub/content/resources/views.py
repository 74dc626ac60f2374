"""The resource catalogue: pages, sharing, files, folders, re-sharing.

Thin: parse, call one service, commit once, flash, redirect. Services decide who may do
what; the checks here only choose which links to show and refuse pages early.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from hub.content.counters import counts_views
from hub.content.models import Resource
from hub.content.resources import queries, services
from hub.content.resources.catalogue import (
    DOC_TYPES,
    LANGUAGES,
    LICENCE_URLS,
    LICENCES,
    doc_type_label,
    language_label,
    licence_label,
)
from hub.content.resources.files import TYPE_NAMES, content_disposition, file_path, human_size
from hub.content.resources.forms import (
    AddToLibraryForm,
    ConfirmForm,
    FolderForm,
    MoveShelfForm,
    ResourceForm,
)
from hub.content.themes import theme_label
from hub.content.visibility import is_viewable
from hub.content.writing import render_content
from hub.errors import Conflict, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation import limits
from hub.orgs.models import Organisation
from hub.orgs.queries import get_organisation
from hub.pagecache import public_page
from hub.views_common import current_locale_code, form_error, me

bp = Blueprint("resources", __name__)

#: Views that receive a file: their request body may be as large as the admin allows.
UPLOAD_ENDPOINTS = frozenset({"resources.new", "resources.edit"})
#: Room for the other form fields beside the file.
FORM_OVERHEAD = 1024 * 1024


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Runs before the CSRF check reads the form: lift the body limit to the admin's."""
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = services.upload_limit_bytes() + FORM_OVERHEAD


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err: RequestEntityTooLarge):
    db.session.rollback()
    mb = services.upload_limit_bytes() // (1024 * 1024)
    return render_template(
        "error.html", status=413, title=_("File too large"),
        detail=_("The file you sent is larger than the limit of %(mb)s MB.", mb=mb)), 413


def _viewer() -> Any:
    return me() if current_user.is_authenticated else None


@bp.app_template_global()
def resource_labels() -> dict[str, Any]:
    """Label functions for the catalogue's templates (one global, not six)."""
    return {"doc_type": doc_type_label, "licence": licence_label, "language": language_label,
            "size": human_size, "type": lambda mime: TYPE_NAMES.get(mime, mime),
            "licence_url": LICENCE_URLS.get,
            "theme": lambda tag: theme_label(tag, current_locale_code())}


# -- the catalogue ----------------------------------------------------------------------------


def _filters_from_args(choices: queries.FilterChoices) -> tuple[queries.CatalogueFilters, str]:
    args = request.args
    org_handle = args.get("org", "").strip()[:60]
    org_id = next((o.id for o in choices.organisations
                   if o.handle_key == org_handle.lower()), None)
    if org_handle and org_id is None:
        org_id = -1  # an organisation without a library: nothing matches
    year_text = args.get("year", "").strip()
    filters = queries.CatalogueFilters(
        theme=args.get("theme", "").strip()[:60],
        org_id=org_id,
        language=args.get("language", "") if args.get("language", "") in LANGUAGES else "",
        doc_type=args.get("type", "") if args.get("type", "") in DOC_TYPES else "",
        year=int(year_text) if year_text.isdigit() and len(year_text) == 4 else None,
        licence=args.get("licence", "") if args.get("licence", "") in LICENCES else "",
        sort=args.get("sort", "") if args.get("sort", "") in queries.SORTS else "newest",
    )
    return filters, org_handle if org_id not in (None, -1) else ""


def _catalogue_args(filters: queries.CatalogueFilters, org_handle: str) -> dict[str, Any]:
    """The filters as query arguments, for links that keep them."""
    args = {"theme": filters.theme, "org": org_handle, "language": filters.language,
            "type": filters.doc_type, "year": filters.year, "licence": filters.licence,
            "sort": filters.sort if filters.sort != "newest" else None}
    return {key: value for key, value in args.items() if value}


@bp.get("/library")
@public_page
def catalogue():
    viewer = _viewer()
    choices = queries.catalogue_choices(viewer)
    filters, org_handle = _filters_from_args(choices)
    after = request.args.get("after", "")[:1000]
    page = queries.list_catalogue(viewer, filters, after=after)
    kept = _catalogue_args(filters, org_handle)
    next_url = url_for(".catalogue", **kept, after=page.next_cursor) if page.next_cursor else None
    first_url = url_for(".catalogue", **kept) if after else None
    return render_template(
        "content/resources/catalogue.html", page=page, filters=filters, choices=choices,
        org_handle=org_handle, kept=kept, next_url=next_url, first_url=first_url,
        languages=LANGUAGES, doc_types=DOC_TYPES, licences=LICENCES)


# -- one resource -----------------------------------------------------------------------------


def _viewable(resource_id: int) -> tuple[Resource, bool]:
    resource = queries.get_resource(resource_id)
    viewer = _viewer()
    may_edit = services.may_edit_resource(viewer, resource)
    if not is_viewable(resource, viewer, may_edit=may_edit):
        abort(404)
    return resource, may_edit


@bp.get("/library/<int:resource_id>")
@counts_views("resource", "resource_id")
@public_page
def resource(resource_id: int):
    resource, may_edit = _viewable(resource_id)
    shelves = queries.list_shelves_of(resource)
    add_form = None
    if current_user.is_authenticated and resource.visibility == "public":
        held = {shelf.org_id for shelf in shelves}
        targets = [org for org in queries.list_editable_orgs(me()) if org.id not in held]
        if targets:
            add_form = AddToLibraryForm()
            add_form.org_id.choices = [SelectChoice(str(o.id), o.name) for o in targets]
    return render_template(
        "content/resources/resource.html", resource=resource, may_edit=may_edit,
        shelves=shelves, add_form=add_form,
        delete_form=ConfirmForm() if may_edit else None)


@bp.get("/library/<int:resource_id>/file")
def download(resource_id: int):
    """The uploaded file, as an attachment of the type found by content: never a page."""
    resource, _may_edit = _viewable(resource_id)
    if resource.kind != "file" or not resource.file_path:
        abort(404)
    path = file_path(resource.file_path, services.files_folder())
    if path is None:
        abort(404)
    # Werkzeug adds "; charset=utf-8" to text types itself.
    response = send_file(path, mimetype=resource.file_type.split(";")[0], as_attachment=True,
                         download_name=resource.file_name or path.name, max_age=0,
                         conditional=True)
    response.headers["Content-Disposition"] = content_disposition(
        resource.file_name or path.name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Members-only files must not stay in shared caches.
    response.headers["Cache-Control"] = ("private, no-cache" if resource.visibility != "public"
                                         else "no-cache")
    return response


@bp.route("/library/<int:resource_id>/edit", methods=["GET", "POST"])
@login_required
def edit(resource_id: int):
    resource, may_edit = _viewable(resource_id)
    if not may_edit:
        raise PermissionDenied(_("You are not allowed to do this in this organisation."))
    thesaurus = queries.list_thesaurus()
    form = ResourceForm()
    form.setup(thesaurus, [], editing=True)
    if request.method == "GET":
        form.fill_from(resource, {tag.slug for tag in thesaurus})
    previews = _previews(form)
    if previews:
        return render_template("content/resources/edit.html", form=form, resource=resource,
                               org=resource.org, previews=previews)
    if form.validate_on_submit():
        try:
            services.update_resource(me(), resource, form.draft(kind=resource.kind),
                                     upload=_upload(form))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The resource is saved."), "success")
            return redirect(url_for(".resource", resource_id=resource.id))
    status = 400 if request.method == "POST" else 200
    return render_template("content/resources/edit.html", form=form, resource=resource,
                           org=resource.org), status


@bp.post("/library/<int:resource_id>/delete")
@login_required
def delete(resource_id: int):
    resource, _may_edit = _viewable(resource_id)
    _check(ConfirmForm())
    org = resource.org
    services.delete_resource(me(), resource)
    db.session.commit()
    flash(_("The resource is deleted."), "success")
    return redirect(url_for(".library", handle=org.handle))


@bp.post("/library/<int:resource_id>/add")
@login_required
def add_to_library(resource_id: int):
    resource, _may_edit = _viewable(resource_id)
    form = AddToLibraryForm()
    _check(form)
    raw = form.org_id.data or ""
    org = db.session.get(Organisation, int(raw)) if str(raw).isdigit() else None
    if org is None:
        raise ValidationFailed(_("Choose an organisation."))
    try:
        services.add_to_library(me(), org, resource)
        db.session.commit()
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The resource is now in the library of %(name)s.", name=org.name), "success")
    return redirect(url_for(".resource", resource_id=resource.id))


def _check(form) -> None:
    if not form.validate_on_submit():
        errors = [e for messages in form.errors.values() for e in messages]
        raise ValidationFailed(str(errors[0]) if errors else _("The form is not valid."))


def _previews(form: ResourceForm) -> dict[str, str]:
    """The "Preview" button without JavaScript: render the field, save nothing."""
    wanted = request.form.get("preview") if request.method == "POST" else None
    if wanted not in ("abstract", "body"):
        return {}
    return {wanted: render_content(getattr(form, wanted).data or "").html}


def _upload(form: ResourceForm) -> services.Upload | None:
    data = form.file.data
    if data is None or not getattr(data, "filename", ""):
        return None
    return services.Upload(data.stream, data.filename)


# -- an organisation's library ----------------------------------------------------------------


@bp.route("/@<handle>/library/new", methods=["GET", "POST"])
@limits.writing
@login_required
def new(handle: str):
    org = get_organisation(handle)
    if not services.may_share(me(), org):
        raise PermissionDenied(_("Only members of %(name)s may share resources in its "
                                 "library.", name=org.name))
    form = ResourceForm()
    form.setup(queries.list_thesaurus(), queries.list_folders(org))
    watched = request.args.get("watch", "")
    if request.method == "GET" and watched.isdigit() and len(watched) < 19:
        # "Share as resource" from the watch: any watch item is public, so anyone who may
        # share here may start from one; a vanished item leaves the form empty.
        from hub.feeds.watch.queries import find_watch_item
        from hub.feeds.watch.services import resource_draft

        item = find_watch_item(int(watched))
        if item is not None:
            draft = resource_draft(item)
            form.kind.data = draft.kind
            form.title.data = draft.title
            form.source_url.data = draft.source_url
            form.authors.data = draft.authors
            form.date_published.data = draft.date_published
            form.abstract.data = draft.abstract
    limit_mb = services.upload_limit_bytes() // (1024 * 1024)
    previews = _previews(form)
    if previews:
        return render_template("content/resources/new.html", form=form, org=org,
                               limit_mb=limit_mb, previews=previews)
    if form.validate_on_submit():
        try:
            resource = services.share_resource(me(), org, form.draft(), upload=_upload(form))
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The resource is shared."), "success")
            return redirect(url_for(".resource", resource_id=resource.id))
    status = 400 if request.method == "POST" else 200
    return render_template("content/resources/new.html", form=form, org=org,
                           limit_mb=limit_mb), status


@bp.get("/@<handle>/library")
@public_page
def library(handle: str):
    return _library_page(get_organisation(handle), None)


@bp.get("/@<handle>/library/<folder_slug>")
@public_page
def folder(handle: str, folder_slug: str):
    org = get_organisation(handle)
    return _library_page(org, queries.get_folder_by_slug(org, folder_slug))


def _library_page(org: Organisation, folder, folder_form: FolderForm | None = None,
                  status: int = 200):
    viewer = _viewer()
    after = request.args.get("after", "")[:1000]
    page = queries.list_library(org, viewer, folder=folder, after=after)
    folders = queries.list_folders(org)
    manage = services.may_manage_library(viewer, org)
    endpoint_args = {"handle": org.handle}
    if folder is not None:
        endpoint_args["folder_slug"] = folder.slug
    endpoint = ".folder" if folder is not None else ".library"
    next_url = (url_for(endpoint, **endpoint_args, after=page.next_cursor)
                if page.next_cursor else None)
    move_form = None
    if manage:
        move_form = MoveShelfForm(formdata=None)
        move_form.folder_id.choices = [SelectChoice("", _("No folder")),
                                       *(SelectChoice(str(f.id), f.name) for f in folders)]
    return render_template(
        "content/resources/library.html", org=org, folder=folder, folders=folders,
        page=page, manage=manage, may_share=services.may_share(viewer, org),
        next_url=next_url, first_url=url_for(endpoint, **endpoint_args) if after else None,
        folder_form=folder_form or (FolderForm(formdata=None) if manage else None),
        move_form=move_form, confirm_form=ConfirmForm() if manage else None), status


@bp.post("/@<handle>/library/folders")
@login_required
def create_folder(handle: str):
    org = get_organisation(handle)
    if not services.may_manage_library(me(), org):
        raise PermissionDenied(_("You are not allowed to do this in this organisation."))
    form = FolderForm()
    if form.validate_on_submit():
        try:
            folder = services.create_folder(me(), org, form.name.data or "",
                                            form.description.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The folder is created."), "success")
            return redirect(url_for(".folder", handle=org.handle, folder_slug=folder.slug))
    return _library_page(org, None, folder_form=form, status=400)


@bp.post("/@<handle>/library/folders/<int:folder_id>/rename")
@login_required
def rename_folder(handle: str, folder_id: int):
    org = get_organisation(handle)
    folder = queries.get_folder(org, folder_id)
    form = FolderForm()
    _check(form)
    services.rename_folder(me(), folder, form.name.data or "", form.description.data or "")
    db.session.commit()
    flash(_("The folder is renamed."), "success")
    return redirect(url_for(".folder", handle=org.handle, folder_slug=folder.slug))


@bp.post("/@<handle>/library/folders/<int:folder_id>/delete")
@login_required
def delete_folder(handle: str, folder_id: int):
    org = get_organisation(handle)
    folder = queries.get_folder(org, folder_id)
    _check(ConfirmForm())
    services.delete_folder(me(), folder)
    db.session.commit()
    flash(_("The folder is deleted; its resources stay in the library."), "success")
    return redirect(url_for(".library", handle=org.handle))


@bp.post("/@<handle>/library/shelves/<int:shelf_id>/remove")
@login_required
def remove_shelf(handle: str, shelf_id: int):
    org = get_organisation(handle)
    shelf = queries.get_shelf(org, shelf_id)
    _check(ConfirmForm())
    try:
        services.remove_shelf(me(), shelf)
        db.session.commit()
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The resource is no longer in this library."), "success")
    return redirect(url_for(".library", handle=org.handle))


@bp.post("/@<handle>/library/shelves/<int:shelf_id>/folder")
@login_required
def move_shelf(handle: str, shelf_id: int):
    org = get_organisation(handle)
    shelf = queries.get_shelf(org, shelf_id)
    form = MoveShelfForm()
    _check(form)
    raw = form.folder_id.data or ""
    services.move_shelf(me(), shelf, int(raw) if str(raw).isdigit() else None)
    db.session.commit()
    flash(_("The resource is moved."), "success")
    return redirect(url_for(".library", handle=org.handle))
