"""Work done after saving: text extracted from files, title and description of links."""

from __future__ import annotations

import http.server
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.content.models import Resource, SearchDocument
from hub.extensions import db
from hub.models_base import utcnow
from tests.integration.resources_support import (  # noqa: F401
    english,
    resource_ids,
    resource_row,
    sample,
    share,
)


@pytest.fixture
def org(make_org, make_account):
    return make_org(owner=make_account("owner"), handle="collectif", name="Collectif")


@pytest.fixture
def member(make_account, make_member, org):
    account = make_account("mia")
    make_member(org, account, "member")
    return account


def search_body(resource_id: int) -> str | None:
    return db.session.scalar(select(SearchDocument.body).where(
        SearchDocument.kind == "resource", SearchDocument.object_id == resource_id))


def test_a_word_inside_a_pdf_becomes_searchable_after_the_job(client, login, member,
                                                              run_jobs):
    login(member)
    share(client, "collectif", upload=(sample("sample.pdf"), "etude.pdf"), title="Étude")
    [resource_id] = resource_ids()
    assert resource_row(resource_id)["job_status"] == "pending"
    assert "compostage" not in (search_body(resource_id) or "")

    run_jobs()

    db.session.expire_all()
    row = resource_row(resource_id)
    assert row["job_status"] == "done" and row["attempts"] == 1
    assert "compostage collectif" in row["file_text"]
    assert "biodiversité" in search_body(resource_id)


def test_text_files_are_indexed_too_and_images_need_no_job(client, login, member, run_jobs):
    login(member)
    share(client, "collectif", upload=(sample("sample.txt"), "notes.txt"), title="Notes")
    share(client, "collectif", upload=(sample("sample.png"), "affiche.png"), title="Affiche")
    text_id, image_id = resource_ids()

    run_jobs()

    assert "compostage en pied d'immeuble" in search_body(text_id)
    assert resource_row(image_id)["job_status"] == ""


def test_a_broken_pdf_fails_for_good_and_stays_usable(client, login, member, run_jobs, app):
    login(member)
    share(client, "collectif", upload=(b"%PDF-1.4\nnothing else", "broken.pdf"), title="Cassé")
    [resource_id] = resource_ids()

    run_jobs()

    row = resource_row(resource_id)
    assert row["job_status"] == "failed" and "no text could be read" in row["job_error"]
    page = client.get(f"/library/{resource_id}").get_data(as_text=True)
    assert "Processing this resource failed" in page
    client.post("/logout", data={})
    visitor_page = client.get(f"/library/{resource_id}")
    assert visitor_page.status_code == 200
    assert "Processing this resource failed" not in visitor_page.get_data(as_text=True)


PAGE = """<!doctype html><html><head>
<meta charset="iso-8859-1">
<title>Ignored when og:title is there</title>
<meta property="og:title" content="Le guide des jardins &amp; vergers">
<meta name="description" content="Comment cr\xe9er un jardin partag\xe9.">
</head><body><p>Hello</p></body></html>"""


@pytest.fixture
def site():
    """A small web site on loopback: /page (HTML), /moved (redirect), /gone (404)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/moved":
                self.send_response(301)
                self.send_header("Location", "/page")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path != "/page":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = PAGE.encode("latin-1")
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_link_gets_its_title_and_description_from_the_page(client, login, member, run_jobs,
                                                             site):
    login(member)
    share(client, "collectif", kind="link", source_url=f"{site}/moved")
    [resource_id] = resource_ids()
    assert resource_row(resource_id)["title"] == f"{site}/moved"  # until the job runs

    run_jobs()

    row = resource_row(resource_id)
    assert row["job_status"] == "done", row["job_error"]
    assert row["title"] == "Le guide des jardins & vergers"
    assert row["title_key"] == "le guide des jardins & vergers"
    assert row["abstract_source"] == "Comment créer un jardin partagé."
    assert "jardin partagé" in search_body(resource_id)
    page = client.get(f"/library/{resource_id}").get_data(as_text=True)
    assert "Le guide des jardins &amp; vergers" in page


def test_what_the_member_wrote_is_kept_and_can_be_corrected(client, login, member, run_jobs,
                                                            site):
    login(member)
    share(client, "collectif", kind="link", source_url=f"{site}/page", title="Mon titre")
    [resource_id] = resource_ids()
    run_jobs()
    row = resource_row(resource_id)
    assert row["title"] == "Mon titre"
    assert row["abstract_source"] == "Comment créer un jardin partagé."

    response = client.post(f"/library/{resource_id}/edit", data={
        "title": "Titre corrigé", "source_url": f"{site}/page", "abstract": "Résumé à moi",
        "visibility": "public", "authors": "", "publisher": "", "date_published": "",
        "language": "", "doc_type": "", "licence": "", "keywords": "", "body": ""})

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    row = resource_row(resource_id)
    assert (row["title"], row["abstract_source"]) == ("Titre corrigé", "Résumé à moi")
    assert row["edited_at"] is not None


def test_a_page_that_answers_404_fails_with_a_reason_for_the_editors(client, login, member,
                                                                     run_jobs, site):
    login(member)
    share(client, "collectif", kind="link", source_url=f"{site}/nowhere", title="Perdu")
    [resource_id] = resource_ids()

    run_jobs()

    row = resource_row(resource_id)
    assert row["job_status"] == "failed" and "HTTP 404" in row["job_error"]
    assert row["title"] == "Perdu"
    assert "HTTP 404" in client.get(f"/library/{resource_id}").get_data(as_text=True)


def test_a_private_address_is_refused_when_the_guard_is_on(make_app, make_account, make_org,
                                                           site):
    app = make_app(HUB_OUTBOUND_ALLOW_PRIVATE=False)
    with app.app_context():
        from hub.content.resources.services import ResourceDraft, share_resource
        from hub.jobs import jobs

        author = make_account("guarded")
        org = make_org(owner=author, handle="garde")
        resource = share_resource(author, org, ResourceDraft(kind="link",
                                                             source_url=f"{site}/page"))
        db.session.commit()
        resource_id = resource.id
        jobs.drain()

        db.session.expire_all()
        row = db.session.get(Resource, resource_id)
        assert row.job_status == "failed"
        assert "not reachable from this server" in row.job_error
        assert row.title == f"{site}/page"  # unchanged, still usable


def test_an_unreachable_site_is_retried_later_then_given_up(client, login, member, run_jobs):
    from hub.content.resources.work import MAX_ATTEMPTS, due_resources, run_resource_work

    login(member)
    share(client, "collectif", kind="link", source_url="http://127.0.0.1:9/closed",
          title="Fermé")
    [resource_id] = resource_ids()

    run_jobs()

    row = resource_row(resource_id)
    assert row["job_status"] == "pending" and row["attempts"] == 1
    assert row["next_attempt_at"] > utcnow() and row["job_error"]
    # Not due yet: the sweep leaves it; once due, the sweep queues it again.
    assert list(due_resources(utcnow())) == []
    later = utcnow() + timedelta(days=1)
    assert list(due_resources(later)) == [("resource_work", (resource_id,))]
    for _ in range(MAX_ATTEMPTS):
        db.session.execute(Resource.__table__.update().where(Resource.id == resource_id)
                           .values(locked_until=None))
        db.session.commit()
        run_resource_work(resource_id)
        db.session.commit()
    assert resource_row(resource_id)["job_status"] == "failed"


def test_the_sweep_queues_work_lost_between_commit_and_enqueue(client, login, member,
                                                               run_jobs, app):
    from hub.jobs import jobs

    login(member)
    share(client, "collectif", upload=(sample("sample.txt"), "notes.txt"), title="Notes")
    [resource_id] = resource_ids()
    jobs.huey.flush()  # the queued job is lost (a crash, a lost Redis)
    assert resource_row(resource_id)["job_status"] == "pending"

    jobs.sweep(utcnow() + timedelta(seconds=1))
    run_jobs()

    assert resource_row(resource_id)["job_status"] == "done"
    assert "compostage" in search_body(resource_id)
