"""The search page: accents and case, stemming, filters, visibility, snippets, hostile input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, literal_column, select, text

from hub.content.models import SearchDocument
from hub.content.search import index
from hub.content.search.queries import SearchFilters, search
from hub.extensions import db
from hub.models_base import utcnow
from tests.integration.content_rows import (  # noqa: F401
    english,
    make_comment,
    make_discussion,
    make_event,
    make_post,
    make_resource,
)


@pytest.fixture
def org(make_org):
    return make_org(handle="terre", name="Terre Vivante")


def page(client, **args) -> str:
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def titles(viewer=None, **filters) -> list[str]:
    """Result titles, without highlighting, as the query layer returns them."""
    with current_app.test_request_context():
        hits = search(SearchFilters(**filters), viewer).hits
    return [str(hit.title).replace("<mark>", "").replace("</mark>", "") for hit in hits]


def test_accents_and_case_do_not_matter(app, org):
    make_post(org, title="Écologie urbaine", body="Des jardins partagés.")
    make_post(org, title="ecologie rurale", body="Les champs.")
    assert sorted(titles(q="ecologie")) == ["ecologie rurale", "Écologie urbaine"]
    assert sorted(titles(q="ÉCOLOGIE")) == ["ecologie rurale", "Écologie urbaine"]
    assert titles(q="partages") == ["Écologie urbaine"]
    assert titles(q="JARDINS PARTAGÉS") == ["Écologie urbaine"]


def test_plural_and_singular_find_each_other(app, org):
    make_post(org, title="Les associations locales")
    assert titles(q="association") == ["Les associations locales"]
    assert titles(q="associations") == ["Les associations locales"]


def test_stemming_on_postgresql(app, org):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("French and English stemmers exist on PostgreSQL only")
    make_post(org, title="Politiques", body="Des politiques écologiques.")
    make_resource(org, title="Report", abstract="The gardens were running.", language="en")
    assert titles(q="écologie") == ["Politiques"]
    assert titles(q="run") == ["Report"]


def test_every_kind_is_found_and_links_to_its_page(client, org):
    post = make_post(org, title="Potager collectif")
    make_resource(org, title="Guide", abstract="Le potager en ville.")
    make_event(org, title="Atelier potager")
    discussion = make_discussion(org, title="Questions", body="Quel potager choisir ?")
    make_comment("discussion", discussion, body="Un potager sur le toit.")
    make_comment("post", post, body="Bravo pour ce potager.")
    html = page(client, q="potager")
    for label in ("News", "Resource", "Event", "Discussion", "Comment"):
        assert f">{label}</span>" in html
    assert "Comment on: Questions" in html
    assert "Comment on: Potager collectif" in html
    assert "<mark>potager</mark>" in html.lower()


def test_organisations_are_found(client, org):
    html = page(client, q="vivante")
    assert ">Organisation</span>" in html
    assert 'href="/@terre"' in html


def test_organisation_edits_reach_the_index(app, org, login, client):
    from hub.orgs.services import OrgDraft, update_organisation

    owner = org.created_by_id
    from hub.accounts.models import Account

    update_organisation(db.session.get(Account, owner), org,
                        OrgDraft(name="Terre Solidaire", summary="Maraîchage"))
    db.session.commit()
    assert titles(q="maraichage") == ["Terre Solidaire"]
    assert titles(q="vivante") == []


def test_resources_are_found_by_extracted_text(app, org):
    make_resource(org, title="Rapport annuel", file_text="Page 12 : la phytoépuration.")
    assert titles(q="phytoepuration") == ["Rapport annuel"]


def test_members_only_documents_match_only_for_members(app, org, make_account, make_member):
    make_post(org, title="Réunion interne", visibility="members")
    make_discussion(org, title="Réunion publique")
    member, outsider = make_account(), make_account()
    make_member(org, member)
    assert titles(q="reunion") == ["Réunion publique"]
    assert titles(outsider, q="reunion") == ["Réunion publique"]
    assert sorted(titles(member, q="reunion")) == ["Réunion interne", "Réunion publique"]


def test_members_only_never_shows_on_the_page_for_visitors(client, org):
    make_post(org, title="Secret bien gardé", visibility="members")
    assert "Secret" not in page(client, q="secret")


@pytest.mark.parametrize("state", ["draft", "scheduled", "unlisted", "deleted", "hidden"])
def test_unlisted_items_are_not_indexed(app, org, state):
    extra: dict = {}
    if state in ("draft", "scheduled"):
        extra["status"] = state
    elif state == "unlisted":
        extra["visibility"] = "unlisted"
    elif state == "deleted":
        extra["deleted_at"] = utcnow()
    else:
        extra["hidden_at"] = utcnow()
    make_post(org, title="Introuvable", **extra)
    assert titles(q="introuvable") == []


def test_deleting_and_hiding_remove_the_document(app, org):
    post = make_post(org, title="Éphémère")
    resource = make_resource(org, title="Éphémère aussi")
    assert len(titles(q="ephemere")) == 2
    post.deleted_at = utcnow()
    index.sync("post", post)
    resource.hidden_at = utcnow()
    index.sync("resource", resource)
    db.session.commit()
    assert titles(q="ephemere") == []
    assert db.session.scalar(select(func.count()).select_from(SearchDocument).where(
        SearchDocument.kind.in_(["post", "resource"]))) == 0


def test_an_edit_replaces_the_indexed_text(app, org):
    post = make_post(org, title="Ancien titre")
    post.title = "Nouveau titre"
    index.sync("post", post)
    db.session.commit()
    assert titles(q="ancien") == []
    assert titles(q="nouveau") == ["Nouveau titre"]


def test_filters_by_kind_theme_language_organisation_and_date(app, org, make_org):
    other = make_org(handle="mer", name="Mer Bleue")
    make_post(org, title="Climat et villes", themes="Écologie")
    make_resource(org, title="Climat en anglais", language="en", themes="Énergie")
    make_resource(other, title="Climat ailleurs", language="fr")
    make_post(org, title="Climat ancien", when=utcnow() - timedelta(days=400))
    assert titles(q="climat", kinds=("resource",)) == ["Climat en anglais", "Climat ailleurs"]
    assert titles(q="climat", theme="ecologie") == ["Climat et villes"]
    assert titles(q="climat", theme="ÉCOLOGIE") == ["Climat et villes"]
    assert titles(q="climat", language="en") == ["Climat en anglais"]
    assert titles(q="climat", org_handle="mer") == ["Climat ailleurs"]
    old = (utcnow() - timedelta(days=400)).date()
    assert titles(q="climat", date_to=old) == ["Climat ancien"]
    assert "Climat ancien" not in titles(q="climat", date_from=old + timedelta(days=1))


def test_the_page_applies_filters_from_the_form(client, org):
    make_post(org, title="Climat et villes")
    make_resource(org, title="Climat en anglais", language="en")
    html = page(client, q="climat", kind="resource", lang="en")
    assert "</mark> en anglais" in html and "et villes" not in html
    assert "There is no organisation @nobody" in page(client, q="climat", org="nobody")
    assert "Give dates as YYYY-MM-DD." in page(client, q="climat", **{"from": "hier"})


def test_newest_first_and_relevance(app, org):
    make_post(org, title="Autre sujet", body="vélo", when=utcnow() - timedelta(days=1))
    make_post(org, title="Vélo vélo", body="vélo partout", when=utcnow() - timedelta(days=5))
    make_post(org, title="Rien", body="un vélo", when=utcnow() - timedelta(hours=1))
    assert titles(q="velo") == ["Rien", "Autre sujet", "Vélo vélo"]
    assert titles(q="velo", sort="relevance")[0] == "Vélo vélo"


def test_results_are_paginated(client, org):
    for n in range(25):
        make_post(org, title=f"Jardin {n}")
    first = page(client, q="jardin")
    assert first.count('class="result"') == 20
    assert "Next page" in first
    second = page(client, q="jardin", page=2)
    assert second.count('class="result"') == 5
    assert "Previous page" in second and "Next page" not in second
    rel = page(client, q="jardin", sort="relevance", page=2)
    assert rel.count('class="result"') == 5


@pytest.mark.parametrize("q", ['"', '"unclosed', "*", "jardin*", "AND", "jardin AND",
                               "OR NOT", "(", "jardin)", ":", "title:jardin", "NEAR(a b)",
                               "^jardin", "-jardin", "'", "a & b | !c", "x:*", "\\", "%_",
                               "﷽", "\x00jardin"])
def test_query_syntax_never_breaks_the_page(client, org, q):
    make_post(org, title="Jardin : AND (partagé)")
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    client.get("/search", query_string={"q": q, "sort": "relevance"})


def test_phrase_search(app, org):
    make_post(org, title="Jardin partagé du quartier")
    make_post(org, title="Partagé, le jardin")
    assert titles(q='"jardin partage"') == ["Jardin partagé du quartier"]


def test_empty_query_shows_the_form_only(client, org):
    make_post(org, title="Jardin")
    html = page(client)
    assert 'name="q"' in html and 'class="result"' not in html
    assert "Type at least one word" in page(client, q="!!! ???")


def test_snippet_is_escaped_and_highlighted(client, org):
    hostile = ('<script>alert(1)</script> Le compost <img src=x onerror=alert(2)> '
               'est "prêt" & <b>mûr</b>.')
    make_resource(org, title="<i>Compost</i> & co", abstract="", file_text=hostile)
    html = page(client, q="compost")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert "<mark>compost</mark>" in html
    assert "&lt;i&gt;<mark>Compost</mark>&lt;/i&gt; &amp; co" in html


def test_search_runs_a_fixed_number_of_queries(client, org, count_queries):
    def make(n):
        for i in range(n):
            post = make_post(org, title=f"Mare {i}")
            make_comment("post", post, body=f"La mare {i}")
            make_event(org, title=f"Mare en fête {i}")
    def counts() -> tuple[int, int]:
        with count_queries() as newest:
            assert client.get("/search?q=mare").status_code == 200
        with count_queries() as relevance:
            assert client.get("/search?q=mare&sort=relevance").status_code == 200
        return newest.count, relevance.count

    make(1)
    client.get("/search?q=mare")
    few = counts()
    make(6)
    assert counts() == few


def test_newest_first_follows_dates_not_the_order_of_indexing(app, org):
    """An event announced long before its date comes first, however many items were
    indexed after it; moving its date moves it in the results."""
    event = make_event(org, title="Fête du compost", starts_in=timedelta(days=300))
    for n in range(25):
        make_post(org, title=f"Compost {n}", when=utcnow() - timedelta(hours=n + 1))
    assert titles(q="compost")[0] == "Fête du compost"
    event.starts_at = utcnow() - timedelta(days=30)
    index.sync("event", event)
    db.session.commit()
    found = titles(q="compost")
    assert "Fête du compost" not in found and len(found) == 20
    assert titles(q="compost", page=2)[-1] == "Fête du compost"


def test_ligatures_are_found_as_typed(app, org):
    make_post(org, title="Les œuvres du quartier")
    assert titles(q="œuvres") == ["Les œuvres du quartier"]
    assert titles(q="ŒUVRE") == ["Les œuvres du quartier"]


def test_relevance_ranks_a_bounded_set_of_newest_matches(app, org, monkeypatch):
    from hub.content.search import queries

    monkeypatch.setattr(queries, "RANKED_CANDIDATES", 3)
    make_post(org, title="Haie haie haie", body="haie", when=utcnow() - timedelta(days=9))
    for n in range(3):
        make_post(org, title=f"Billet {n}", body="une haie", when=utcnow() - timedelta(hours=n))
    # The old, most relevant post is not among the 3 newest matches: not ranked, not shown.
    assert titles(q="haie", sort="relevance") == ["Billet 0", "Billet 1", "Billet 2"]
    assert titles(q="haie")[-1] == "Haie haie haie"


@pytest.mark.parametrize("use_unaccent", [True, False])
def test_postgresql_folds_as_python_does(app, use_unaccent):
    """hub_search_fold (unaccent when the database allows it, translate() otherwise) folds
    accented letters as the query side does."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from hub.content.search.text import fold

    sample = "Écologie à Noël, ça coûte: ÀÉÎÕÜ àéîõü ÇÑ çñ Åå Øø Ėė Žž Ğğ ŁŁ"
    if use_unaccent:
        folded = db.session.scalar(select(func.hub_search_fold(sample)))
    else:  # the fallback's expression, as the migration writes it
        import importlib

        migration = importlib.import_module("migrations.versions.0004_content")
        source, target = migration._accent_map()
        folded = db.session.scalar(select(func.lower(func.translate(sample, source, target))))
    expected = fold(sample)
    differ = [(a, b) for a, b in zip(folded, expected, strict=False) if a != b]
    # unaccent also folds the few letters NFKD keeps (ø, ł): queries are folded in SQL too.
    assert all(b in "øł" for _a, b in differ), differ
    assert len(folded) == len(expected)


def test_kind_labels_follow_each_visitors_language(client, org):
    """The labels are kept per locale: a French visitor after an English one reads French."""
    make_post(org, "Compost partagé")
    english_page = page(client, q="compost")
    assert 'class="badge kind-post">News<' in english_page
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    assert 'class="badge kind-post">Actualité<' in page(client, q="compost")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert 'class="badge kind-post">News<' in page(client, q="compost")


def test_postgresql_plans_each_search_for_its_words(app, org):
    """psycopg prepares a statement run five times, and PostgreSQL may then reuse one
    generic plan for every word: for a rare word that plan read the whole table (a rare
    word's search went from 3 to 12 ms on 200,000 documents). Each search is planned for
    its own words."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    make_post(org, "Un palétuvier rare")
    # What PostgreSQL chose on its own with 200,000 documents (this small table would not
    # tempt it): from now on, generic plans wherever it may.
    db.session.execute(text("SET plan_cache_mode = force_generic_plan"))
    with current_app.test_request_context():
        for _ in range(8):  # one connection: the session's transaction
            assert search(SearchFilters(q="paletuvier"), None).hits
    generic = db.session.scalar(select(func.coalesce(func.sum(
        literal_column("generic_plans")), 0)).select_from(
        text("pg_prepared_statements")).where(
        literal_column("statement").like("%search_vector%")))
    assert generic == 0
