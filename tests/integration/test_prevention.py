"""Prevention: word filters (refuse, hold, flag), pre-moderation of new accounts and of an
organisation's comments, rate limits on writing — through the pages people use."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.admin.models import AdminAction, InstanceSettings
from hub.admin.services import ensure_settings
from hub.content.models import Comment, Discussion, Post
from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation import charter, prevention
from hub.moderation.models import CaseNote, ModerationCase, WordFilter
from tests.integration.content_rows import make_comment, make_post
from tests.integration.orgs_support import client_for


@pytest.fixture(autouse=True)
def fresh_filters():
    prevention.forget_cache()
    yield
    prevention.forget_cache()


@pytest.fixture
def cast(app, make_account, make_org, make_member):
    admin = make_account("chief", role="admin")
    people = {"admin": admin, "moderator": make_account("modo", role="moderator"),
              "author": make_account("autrice"), "outsider": make_account("passant"),
              "org_admin": make_account("gerante")}
    org = make_org(owner=make_account("fondatrice"), handle="collectif", name="Collectif")
    make_member(org, people["author"], "editor")
    make_member(org, people["org_admin"], "admin")
    version = charter.publish_version(admin, [charter.ArticleDraft("Respect", "Courtoisie.")])
    for person in people.values():
        charter.accept(person, version)
    db.session.commit()
    return type("Cast", (), {"org": org, "people": people})


def as_(app, cast, who):
    return client_for(app, cast.people[who])


def add_filter(cast, pattern, effect, regex=False, message=""):
    row = prevention.add_filter(cast.people["admin"], pattern, regex, effect, message)
    db.session.commit()
    return row


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def comment_on_post(app, cast, who, body):
    post = make_post(cast.org, title="Assemblée générale")
    return post, as_(app, cast, who).post(f"/comments/post/{post.id}", data={"body": body})


# -- matching -----------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "regex", "text", "hit"), [
    ("ecolo", False, "Les ÉCOLOS ? Non : les Écolo !", True),
    ("Écolo", False, "un texte ecolo", True),
    ("ecolo", False, "écologie", False),  # a plain word matches whole words only
    ("faux médicament", False, "Vente de FAUX   medicaments", False),
    ("faux médicament", False, "un Faux Médicament ici", True),
    (r"cas+ino", True, "CASSINO en ligne", True),
    (r"\bvi[a@]gra\b", True, "VIAGRA pas cher", True),
    (r"\d{4}", True, "appel au 0612", True),
    (r"\d{4}", True, "sans chiffres", False),
])
def test_matching_ignores_case_and_accents(app, cast, pattern, regex, text, hit):
    add_filter(cast, pattern, "flag", regex=regex)
    assert bool(prevention.matches([text])) is hit


def test_a_bad_or_empty_filter_is_refused_and_nothing_is_saved(app, cast):
    for pattern, regex in (("(unclosed", True), ("", False), ("x" * 301, False),
                           (".*", True)):
        with pytest.raises(ValidationFailed):
            prevention.add_filter(cast.people["admin"], pattern, regex, "flag")
    with pytest.raises(ValidationFailed):
        prevention.add_filter(cast.people["admin"], "spam", False, "explode")
    db.session.rollback()
    assert count(WordFilter) == 0


# -- effects ------------------------------------------------------------------------------


def test_a_refused_word_shows_the_message_and_saves_nothing(app, cast):
    add_filter(cast, "casino", "refuse", message="Pas de jeux d'argent ici.")
    post = make_post(cast.org, title="Assemblée générale")
    browser = as_(app, cast, "outsider")
    response = browser.post(f"/comments/post/{post.id}", data={"body": "Venez au CASINO !"})
    assert response.status_code == 302
    page = browser.get(response.location).get_data(as_text=True)
    assert "Pas de jeux d&#39;argent ici." in page
    assert count(Comment) == 0


def test_a_refused_word_in_a_discussion_is_shown_on_the_form(app, cast):
    add_filter(cast, "casino", "refuse", message="Pas de jeux d'argent ici.")
    response = as_(app, cast, "author").post("/@collectif/discussions/new", data={
        "title": "Soirée Casino", "body": "Venez", "visibility": "public"})
    assert response.status_code == 400
    assert "jeux d" in response.get_data(as_text=True)
    assert count(Discussion) == 0


def test_a_held_word_keeps_the_comment_hidden_until_approved(app, cast, client):
    add_filter(cast, "bitcoin", "hold")
    post, response = comment_on_post(app, cast, "outsider", "Investissez en Bitcoin")
    assert response.status_code == 302
    [comment] = db.session.scalars(select(Comment))
    assert comment.hidden_at is not None
    assert "Investissez" not in client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    [case] = db.session.scalars(select(ModerationCase))
    assert (case.kind, case.target_type, case.target_id) == ("held", "comment", comment.id)
    queue = as_(app, cast, "moderator").get("/moderation").get_data(as_text=True)
    assert f"/moderation/cases/{case.id}" in queue


def test_a_flagged_word_publishes_and_opens_a_case_with_a_note(app, cast, client):
    add_filter(cast, "manif sauvage", "flag")
    post, response = comment_on_post(app, cast, "outsider", "Une MANIF   SAUVAGE demain")
    [comment] = db.session.scalars(select(Comment))
    assert comment.hidden_at is None
    assert "demain" in client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    [case] = db.session.scalars(select(ModerationCase))
    assert case.kind == "flagged"
    [note] = db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id))
    assert "manif sauvage" in note.body and note.author_id is None


def test_an_edit_is_screened_too(app, cast):
    add_filter(cast, "casino", "refuse")
    post = make_post(cast.org, title="Assemblée")
    comment = make_comment("post", post, "Bonjour", author_id=cast.people["outsider"].id)
    response = as_(app, cast, "outsider").post(f"/comments/{comment.id}/edit",
                                               data={"body": "Venez au casino"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).body_source == "Bonjour"


def test_moderators_are_not_filtered(app, cast):
    add_filter(cast, "casino", "refuse")
    post, response = comment_on_post(app, cast, "moderator", "Le mot casino, cité")
    assert count(Comment) == 1


def test_a_held_post_is_not_published_nor_sent(app, cast, client):
    add_filter(cast, "bitcoin", "hold")
    response = as_(app, cast, "author").post("/@collectif/news/new", data={
        "title": "Bitcoin pour tous", "body": "Texte", "visibility": "public",
        "status": "published"})
    assert response.status_code == 302
    [post] = db.session.scalars(select(Post))
    assert post.hidden_at is not None
    assert "Bitcoin pour tous" not in client.get("/@collectif").get_data(as_text=True)


# -- pre-moderation -------------------------------------------------------------------------


def test_the_first_contributions_of_new_accounts_wait_for_approval(app, cast):
    settings = ensure_settings()
    settings.new_account_holds = 2
    db.session.commit()
    post = make_post(cast.org, title="Assemblée")
    outsider = as_(app, cast, "outsider")
    outsider.post(f"/comments/post/{post.id}", data={"body": "Premier"})
    [first] = db.session.scalars(select(Comment))
    assert first.hidden_at is not None
    # Approved by a moderator: it counts; the next one is held again (1 of 2 seen).
    case = db.session.scalar(select(ModerationCase))
    assert as_(app, cast, "moderator").post(f"/moderation/cases/{case.id}/act", data={
        "action": "reinstate", "reason": "Bienvenue"}).status_code == 302
    outsider.post(f"/comments/post/{post.id}", data={"body": "Deuxième"})
    second = db.session.scalar(select(Comment).where(Comment.body_source == "Deuxième"))
    assert second.hidden_at is not None
    db.session.get(Comment, second.id).hidden_at = None  # approved
    db.session.commit()
    outsider.post(f"/comments/post/{post.id}", data={"body": "Troisième"})
    third = db.session.scalar(select(Comment).where(Comment.body_source == "Troisième"))
    assert third.hidden_at is None


def test_an_organisation_holds_outsiders_comments_not_its_members(app, cast):
    admin = as_(app, cast, "org_admin")
    assert "Hold comments for approval" in admin.get("/@collectif/rules").get_data(as_text=True)
    assert admin.post("/@collectif/rules/holding",
                      data={"holds_comments": "1"}).status_code == 302
    db.session.expire_all()
    assert cast.org.holds_comments is True
    assert count(AdminAction, AdminAction.action == "org.holds_comments") == 1
    post = make_post(cast.org, title="Assemblée")
    as_(app, cast, "outsider").post(f"/comments/post/{post.id}", data={"body": "Dehors"})
    as_(app, cast, "author").post(f"/comments/post/{post.id}", data={"body": "Dedans"})
    held = {c.body_source: c.hidden_at is not None for c in db.session.scalars(select(Comment))}
    assert held == {"Dehors": True, "Dedans": False}


@pytest.mark.parametrize("who", ["author", "outsider"])
def test_only_organisation_admins_hold_its_comments(app, cast, who):
    response = as_(app, cast, who).post("/@collectif/rules/holding", data={"holds_comments": "1"})
    assert response.status_code == 403
    db.session.expire_all()
    assert cast.org.holds_comments is False
    with pytest.raises(PermissionDenied):
        prevention.set_holds_comments(cast.people[who], cast.org, True)


# -- the admin pages ---------------------------------------------------------------------------


def test_an_admin_manages_filters_and_the_log_records_it(app, cast):
    admin = as_(app, cast, "admin")
    assert admin.post("/admin/word-filters", data={
        "pattern": "casino", "effect": "refuse", "message": "Non."}).status_code == 302
    page = admin.get("/admin/word-filters").get_data(as_text=True)
    assert "casino" in page
    tried = admin.post("/admin/word-filters/try", data={"sample": "Le CASINO"})
    assert "Filters tripped" in tried.get_data(as_text=True)
    bad = admin.post("/admin/word-filters", data={"pattern": "(", "is_regex": "y",
                                                  "effect": "flag"})
    assert bad.status_code == 400 and "not valid" in bad.get_data(as_text=True)
    row = db.session.scalar(select(WordFilter))
    assert admin.post(f"/admin/word-filters/{row.id}/delete", data={}).status_code == 302
    assert count(WordFilter) == 0
    actions = [a.action for a in db.session.scalars(select(AdminAction).order_by(AdminAction.id))
               if a.action.startswith("word_filter.")]
    assert actions == ["word_filter.add", "word_filter.remove"]


@pytest.mark.parametrize("who", ["moderator", "author"])
def test_others_may_not_manage_filters(app, cast, who):
    browser = as_(app, cast, who)
    assert browser.get("/admin/word-filters").status_code == 403
    assert browser.post("/admin/word-filters", data={
        "pattern": "casino", "effect": "refuse"}).status_code == 403
    assert count(WordFilter) == 0


def test_the_settings_page_sets_pre_moderation_and_the_appeal_delay(app, cast):
    admin = as_(app, cast, "admin")
    settings = ensure_settings()
    db.session.commit()
    data = {"name": settings.name, "default_locale": "en",
            "registration_mode": settings.registration_mode,
            "org_creation": settings.org_creation, "new_account_holds": "3",
            "appeal_days": "30"}
    assert admin.post("/admin/settings", data=data).status_code == 302
    db.session.expire_all()
    settings = db.session.get(InstanceSettings, 1)
    assert (settings.new_account_holds, settings.appeal_days) == (3, 30)
    bad = admin.post("/admin/settings", data={**data, "appeal_days": "0"})
    assert bad.status_code == 400
    db.session.expire_all()
    assert db.session.get(InstanceSettings, 1).appeal_days == 30


# -- rate limits ------------------------------------------------------------------------------


def test_commenting_too_often_gets_a_clear_429(make_app, make_account, make_org):
    app = make_app(HUB_COMMENT_RATE_LIMIT="2 per hour")
    with app.app_context():
        admin = make_account("chief", role="admin")
        writer = make_account("bavarde")
        org = make_org(owner=make_account("fondatrice"), handle="collectif", name="Collectif")
        version = charter.publish_version(admin, [charter.ArticleDraft("Respect", "…")])
        charter.accept(writer, version)
        db.session.commit()
        post = make_post(org, title="Assemblée")
        browser = client_for(app, writer)
        codes = [browser.post(f"/comments/post/{post.id}", data={"body": f"n°{i}"}).status_code
                 for i in range(3)]
        assert codes == [302, 302, 429]
        page = browser.post(f"/comments/post/{post.id}", data={"body": "encore"})
        assert page.status_code == 429 and "You tried too often" in page.get_data(as_text=True)
        assert count(Comment) == 2
        # Another person is not limited by the first one's allowance.
        other = make_account("calme")
        charter.accept(other, version)
        db.session.commit()
        assert client_for(app, other).post(f"/comments/post/{post.id}",
                                           data={"body": "moi"}).status_code == 302


def test_previews_and_refusals_do_not_use_the_writing_allowance(make_app, make_account,
                                                                make_org, make_member):
    app = make_app(HUB_POST_RATE_LIMIT="1 per hour")
    with app.app_context():
        admin = make_account("chief", role="admin")
        writer = make_account("redac")
        org = make_org(owner=make_account("fondatrice"), handle="collectif", name="Collectif")
        make_member(org, writer, "editor")
        version = charter.publish_version(admin, [charter.ArticleDraft("Respect", "…")])
        charter.accept(writer, version)
        db.session.commit()
        browser = client_for(app, writer)
        form = {"title": "Soirée", "body": "Venez", "visibility": "public"}
        for _ in range(3):
            assert browser.post("/@collectif/discussions/new",
                                data={**form, "preview": "1"}).status_code == 200
        assert browser.post("/@collectif/discussions/new",
                            data={**form, "title": ""}).status_code == 400
        assert browser.post("/@collectif/discussions/new", data=form).status_code == 302
        assert browser.post("/@collectif/discussions/new", data=form).status_code == 429
        assert count(Discussion) == 1
