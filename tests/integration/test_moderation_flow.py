"""Reports, the moderation queue, actions, appeals and the audit log, through the pages a
reporter, a moderator and the person concerned use."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.accounts.models import Account
from hub.admin.models import AdminAction
from hub.content.models import Comment, Discussion, Post
from hub.extensions import db
from hub.moderation import charter
from hub.moderation.models import Appeal, ModerationCase, OrgBan, Report
from hub.notifications.models import Notification
from tests.integration.content_rows import make_comment, make_discussion, make_post
from tests.integration.orgs_support import client_for
from tests.plugins.factories import PASSWORD


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def cast(app, make_account, make_org, make_member):
    admin = make_account("chief", role="admin")
    people = {
        "admin": admin,
        "moderator": make_account("modo", role="moderator"),
        "moderator2": make_account("modo2", role="moderator"),
        "author": make_account("autrice"),
        "member": make_account("membre"),
        "editor": make_account("redac"),
        "org_admin": make_account("gerante"),
        "outsider": make_account("passant"),
    }
    org = make_org(owner=make_account("fondatrice"), handle="collectif", name="Collectif")
    make_member(org, people["author"], "member")
    make_member(org, people["member"], "member")
    make_member(org, people["editor"], "editor")
    make_member(org, people["org_admin"], "admin")
    version = charter.publish_version(admin, [
        charter.ArticleDraft("Respect", "Soyez courtois."),
        charter.ArticleDraft("Pas de spam", "Pas de publicité.")])
    for person in people.values():
        charter.accept(person, version)
    db.session.commit()
    return type("Cast", (), {"org": org, "people": people})


def as_(app, cast, who):
    return client_for(app, cast.people[who])


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def comment_of(cast, body="Achetez mes montres !"):
    post = make_post(cast.org, title="Assemblée")
    comment = make_comment("post", post, body, author_id=cast.people["author"].id)
    return post, comment


# -- the full flow ----------------------------------------------------------------------------


def test_report_hide_outcome_appeal_reinstate_all_in_the_log(app, client, cast, mailbox,
                                                             run_jobs):
    post, comment = comment_of(cast)

    # A visitor reports the comment, citing article 2, leaving an address.
    response = client.post(f"/report/comment/{comment.id}", data={
        "articles": ["2"], "comment": "De la publicité", "email": "visiteur@example.org"})
    assert response.status_code == 302
    [case] = db.session.scalars(select(ModerationCase))
    assert (case.target_type, case.target_id, case.status) == ("comment", comment.id, "open")
    assert case.reports[0].articles == [2]

    # A moderator sees it in the queue and hides the comment with a reason.
    moderator = as_(app, cast, "moderator")
    assert f"/moderation/cases/{case.id}" in moderator.get("/moderation").get_data(as_text=True)
    acted = moderator.post(f"/moderation/cases/{case.id}/act", data={
        "action": "hide", "reason": "Publicité (article 2)", "articles": ["2"],
        "public_explanation": "Le commentaire est masqué."})
    assert acted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).hidden_at is not None
    assert db.session.get(ModerationCase, case.id).status == "resolved"

    # The reporter is told the outcome by e-mail, with the public explanation.
    run_jobs()
    [mail] = mailbox.to("visiteur@example.org")
    assert "Le commentaire est masqué." in mail.get_content()

    # Visitors no longer see it; its author sees it with the reason, and appeals.
    page = client.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    assert "Achetez mes montres" not in page
    author = as_(app, cast, "author")
    own = author.get(f"/comments/{comment.id}").get_data(as_text=True)
    assert "Achetez mes montres" in own and "Publicité (article 2)" in own
    record = author.get("/me/moderation").get_data(as_text=True)
    assert "Publicité (article 2)" in record and "Appeal this decision" in record
    [hide] = db.session.scalars(select(AdminAction).where(
        AdminAction.action == "moderation.hide"))
    assert author.post(f"/me/moderation/{hide.id}/appeal",
                       data={"text": "Ce n'était pas une publicité."}).status_code == 302
    [appeal] = db.session.scalars(select(Appeal))

    # The moderator who acted may not decide; another one grants it.
    same = moderator.post(f"/moderation/appeals/{appeal.id}",
                          data={"decision": "Non", "grant": "1"})
    assert same.status_code == 403
    other = as_(app, cast, "moderator2")
    assert other.post(f"/moderation/appeals/{appeal.id}",
                      data={"decision": "Erreur de notre part.", "grant": "1"}
                      ).status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).hidden_at is None
    assert "Achetez mes montres" in client.get(f"/@collectif/news/{post.id}").get_data(
        as_text=True)
    kinds = [n.kind for n in db.session.scalars(select(Notification).where(
        Notification.account_id == cast.people["author"].id))]
    assert kinds.count("moderation") >= 2 and "appeal" in kinds

    # All of it is in the audit log, with reasons and the case.
    log = other.get("/moderation/log").get_data(as_text=True)
    for text in ("Publicité (article 2)", "Erreur de notre part.", f"#{case.id}"):
        assert text in log
    actions = [row.action for row in db.session.scalars(
        select(AdminAction).order_by(AdminAction.id))]
    assert actions[-3:] == ["moderation.hide", "moderation.reinstate",
                            "moderation.appeal_granted"]


def test_a_member_reporter_is_told_in_app_and_sees_the_outcome(app, cast):
    _post, comment = comment_of(cast)
    member = as_(app, cast, "member")
    member.post(f"/report/comment/{comment.id}", data={"articles": ["1"]})
    case = db.session.scalar(select(ModerationCase))
    as_(app, cast, "moderator").post(f"/moderation/cases/{case.id}/act", data={
        "action": "dismiss", "reason": "Rien de grave", "public_explanation": "Pas d'abus."})

    assert count(Notification, Notification.account_id == cast.people["member"].id,
                 Notification.kind == "outcome") == 1
    mine = member.get("/me/reports").get_data(as_text=True)
    assert "no action needed" in mine and "Pas d&#39;abus." in mine


def test_reports_on_one_item_are_one_case(app, client, cast):
    _post, comment = comment_of(cast)
    client.post(f"/report/comment/{comment.id}", data={"articles": ["2"]})
    as_(app, cast, "member").post(f"/report/comment/{comment.id}", data={"comment": "spam"})
    assert count(ModerationCase) == 1 and count(Report) == 2


@pytest.mark.parametrize("data, status", [
    ({"articles": ["2"], "website": "http://bot.example"}, 400),  # the honeypot
    ({}, 400),  # no article, no words
    ({"articles": ["2"], "email": "pas-une-adresse"}, 400),
    ({"comment": "x" * 2001}, 400),
])
def test_bad_reports_are_refused_and_store_nothing(client, cast, data, status):
    _post, comment = comment_of(cast)
    assert client.post(f"/report/comment/{comment.id}", data=data).status_code == status
    assert count(Report) == 0 and count(ModerationCase) == 0


def test_what_one_cannot_see_cannot_be_reported(client, cast):
    hidden = make_post(cast.org, title="Réservé", visibility="members")
    assert client.get(f"/report/post/{hidden.id}").status_code == 404
    assert client.post(f"/report/post/{hidden.id}", data={"comment": "x"}).status_code == 404
    assert client.post("/report/post/99999", data={"comment": "x"}).status_code == 404
    assert client.post("/report/nothing/1", data={"comment": "x"}).status_code == 404
    assert count(Report) == 0


def test_reports_are_rate_limited_with_a_clear_429(make_app, make_account, make_org):
    app = make_app(HUB_REPORT_RATE_LIMIT="2 per hour")
    with app.app_context():
        org = make_org(handle="collectif")
        post = make_post(org)
        client = app.test_client()
        codes = [client.post(f"/report/post/{post.id}", data={"comment": "spam"}).status_code
                 for _ in range(3)]
        assert codes == [302, 302, 429]
        assert "Too many requests" in client.post(
            f"/report/post/{post.id}", data={"comment": "spam"}).get_data(as_text=True)
        assert count(Report) == 2


# -- who may do what ----------------------------------------------------------------------


ROLES = ("visitor", "outsider", "member", "editor", "org_admin", "moderator", "admin")
#: Who may take each action here (on content of the organisation; on an account).
ALLOWED = {
    "hide": {"org_admin", "moderator", "admin"},
    "lock": {"org_admin", "moderator", "admin"},
    "suspend": {"moderator", "admin"},
    "warn": {"moderator", "admin"},
}


def _state(cast, discussion, comment) -> tuple:
    db.session.expire_all()
    return (db.session.get(Comment, comment.id).hidden_at,
            db.session.get(Discussion, discussion.id).is_locked,
            db.session.get(Account, cast.people["author"].id).status,
            count(AdminAction, AdminAction.action.like("moderation.%")))


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_the_permission_matrix(app, client, cast, who, action):
    discussion = make_discussion(cast.org, title="Débat")
    comment = make_comment("discussion", discussion, "Hors sujet",
                           author_id=cast.people["author"].id)
    target = {"hide": ("comment", comment), "lock": ("discussion", discussion),
              "suspend": ("account", cast.people["author"]),
              "warn": ("account", cast.people["author"])}[action]
    # A case about the target, opened by a report.
    client.post(f"/report/{target[0]}/{target[1].id}", data={"articles": ["1"]})
    case = db.session.scalar(select(ModerationCase))
    browser = client if who == "visitor" else as_(app, cast, who)
    before = _state(cast, discussion, comment)

    page = browser.get(f"/moderation/cases/{case.id}")
    response = browser.post(f"/moderation/cases/{case.id}/act",
                            data={"action": action, "reason": "Raison"})

    if who in ALLOWED[action]:
        assert page.status_code == 200
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert _state(cast, discussion, comment) != before
    else:
        expected = (302,) if who == "visitor" else (403, 400)  # visitors go to log in
        assert response.status_code in expected
        if who != "visitor" and who not in ("org_admin",):
            assert response.status_code == 403
        assert _state(cast, discussion, comment) == before


def test_an_organisation_admin_sees_only_its_spaces(app, cast, make_org, make_account):
    other = make_org(handle="ailleurs")
    elsewhere = make_post(other, title="Ailleurs")
    here, _comment = comment_of(cast)
    for post in (here, elsewhere):
        as_(app, cast, "member").post(f"/report/post/{post.id}", data={"articles": ["1"]})
    ours, theirs = db.session.scalars(select(ModerationCase).order_by(ModerationCase.id))
    admin = as_(app, cast, "org_admin")

    queue = admin.get("/moderation").get_data(as_text=True)
    assert f"/moderation/cases/{ours.id}" in queue
    assert f"/moderation/cases/{theirs.id}" not in queue
    assert admin.get(f"/moderation/cases/{theirs.id}").status_code == 403
    assert as_(app, cast, "member").get("/moderation").status_code == 403


# -- actions on people -------------------------------------------------------------------------


def test_a_suspension_refuses_login_hides_everything_and_is_reversible(app, client, cast,
                                                                       mailbox, run_jobs):
    author = cast.people["author"]
    post = make_post(cast.org, title="Le billet de l'autrice", author_id=author.id)
    already = make_comment("post", post, "Déjà masqué", author_id=author.id)
    already.hidden_at = already.created_at
    db.session.commit()
    client.post(f"/report/account/{author.id}", data={"articles": ["1"]})
    case = db.session.scalar(select(ModerationCase))
    moderator = as_(app, cast, "moderator")
    moderator.post(f"/moderation/cases/{case.id}/act",
                   data={"action": "suspend", "reason": "Insultes répétées"})

    assert client.post("/login", data={"login": author.handle, "password": PASSWORD}
                       ).status_code != 302
    assert client.get(f"/@collectif/news/{post.id}").status_code == 404
    run_jobs()
    assert "Insultes répétées" in mailbox.to(author.email)[-1].get_content()

    # Lifting it shows what the suspension hid, and only that.
    admin_browser = as_(app, cast, "admin")
    from hub.moderation.actions import ActionDraft, take_action

    take_action(cast.people["admin"], ActionDraft("unsuspend", "account", author.id,
                                                  "Levée"))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Account, author.id).status == "active"
    assert db.session.get(Post, post.id).hidden_at is None
    assert db.session.get(Comment, already.id).hidden_at is not None
    assert "Levée" in admin_browser.get("/moderation/log").get_data(as_text=True)


def test_a_suspended_person_appeals_from_the_emailed_link(app, client, cast, mailbox,
                                                         run_jobs):
    """A suspended account cannot log in: the e-mail carries a signed link to appeal."""
    author = cast.people["author"]
    client.post(f"/report/account/{author.id}", data={"articles": ["1"]})
    case = db.session.scalar(select(ModerationCase))
    as_(app, cast, "moderator").post(f"/moderation/cases/{case.id}/act",
                                     data={"action": "suspend", "reason": "Insultes"})
    run_jobs()
    link = mailbox.last_link(author.email, "/appeal/")
    page = client.get(link).get_data(as_text=True)
    assert "Insultes" in page and "Send the appeal" in page
    # A forged or altered link shows nothing.
    assert client.get(link[:-3] + "abc").status_code == 404
    assert client.get("/appeal/nothing").status_code == 404
    empty = client.post(link, data={"text": "  "})
    assert empty.status_code == 400 and count(Appeal) == 0
    assert client.post(link, data={"text": "Je conteste."}).status_code == 302
    [appeal] = db.session.scalars(select(Appeal))
    assert appeal.account_id == author.id
    again = client.post(link, data={"text": "Encore"})
    assert again.status_code in (200, 400) and count(Appeal) == 1
    assert "waiting for a decision" in client.get(link).get_data(as_text=True)

    # Denied by another moderator: the person, still suspended, is told by e-mail.
    assert as_(app, cast, "moderator2").post(f"/moderation/appeals/{appeal.id}", data={
        "decision": "La décision est maintenue.", "grant": "0"}).status_code == 302
    run_jobs()
    assert "La décision est maintenue." in mailbox.to(author.email)[-1].get_content()


def test_a_limited_account_waits_for_approval(app, cast):
    from hub.moderation.actions import ActionDraft, take_action

    take_action(cast.people["moderator"], ActionDraft("limit", "account",
                                                      cast.people["author"].id, "Prudence"))
    db.session.commit()
    post = make_post(cast.org, title="Ouvert")
    author = as_(app, cast, "author")

    assert author.post(f"/comments/post/{post.id}", data={"body": "Mon avis"}
                       ).status_code == 302
    comment = db.session.scalar(select(Comment))
    assert comment.hidden_at is not None
    held = db.session.scalar(select(ModerationCase).where(ModerationCase.kind == "held"))
    assert held.target_id == comment.id
    visitor = app.test_client()
    assert "Mon avis" not in visitor.get(f"/@collectif/news/{post.id}").get_data(as_text=True)

    as_(app, cast, "moderator").post(f"/moderation/cases/{held.id}/act",
                                     data={"action": "reinstate", "reason": "Approuvé"})
    assert "Mon avis" in visitor.get(f"/@collectif/news/{post.id}").get_data(as_text=True)


def test_a_ban_keeps_someone_out_of_an_organisations_spaces(app, cast):
    from hub.moderation.actions import ActionDraft, take_action

    post = make_post(cast.org, title="Ouvert")
    take_action(cast.people["org_admin"], ActionDraft(
        "ban", "account", cast.people["member"].id, "Harcèlement", org_id=cast.org.id))
    db.session.commit()
    assert db.session.get(OrgBan, (cast.org.id, cast.people["member"].id)) is not None
    member = as_(app, cast, "member")
    page = member.get(f"/@collectif/news/{post.id}").get_data(as_text=True)
    assert "may not take part in the spaces" in page
    assert member.post(f"/comments/post/{post.id}", data={"body": "Encore"}).status_code in (
        400, 403)
    assert count(Comment) == 0


def test_every_action_needs_a_reason(app, cast):
    _post, comment = comment_of(cast)
    as_(app, cast, "member").post(f"/report/comment/{comment.id}", data={"articles": ["1"]})
    case = db.session.scalar(select(ModerationCase))
    response = as_(app, cast, "moderator").post(f"/moderation/cases/{case.id}/act",
                                                data={"action": "hide", "reason": " "})
    assert response.status_code == 400 and "Give the reason" in response.get_data(as_text=True)
    assert count(AdminAction, AdminAction.action.like("moderation.%")) == 0


def test_an_appeal_is_made_once(app, cast):
    _post, comment = comment_of(cast)
    from hub.moderation.actions import ActionDraft, take_action

    row = take_action(cast.people["moderator"],
                      ActionDraft("hide", "comment", comment.id, "Spam"))
    db.session.commit()
    author = as_(app, cast, "author")
    assert author.post(f"/me/moderation/{row.id}/appeal", data={"text": "Non"}
                       ).status_code == 302
    author.post(f"/me/moderation/{row.id}/appeal", data={"text": "Encore"})
    assert count(Appeal) == 1
    # Someone else cannot appeal it.
    as_(app, cast, "member").post(f"/me/moderation/{row.id}/appeal", data={"text": "Moi"})
    assert count(Appeal) == 1


def test_hidden_content_appears_nowhere_for_visitors(app, client, cast):
    discussion = make_discussion(cast.org, title="Débat public", body="Texte visible",
                                 themes="Climat")
    make_comment("discussion", discussion, "Un commentaire", author_id=cast.people["member"].id)
    db.session.execute(Discussion.__table__.update().values(comment_count=1))
    comment = make_comment("discussion", discussion, "Commentaire masqué zorglub",
                           author_id=cast.people["author"].id)
    db.session.execute(Discussion.__table__.update().values(comment_count=2))
    db.session.commit()
    from hub.moderation.actions import ActionDraft, take_action

    take_action(cast.people["moderator"], ActionDraft("hide", "comment", comment.id, "Spam"))
    take_action(cast.people["moderator"], ActionDraft("hide", "discussion", discussion.id,
                                                      "Hors charte"))
    db.session.commit()

    assert client.get(f"/@collectif/discussions/{discussion.id}").status_code == 404
    for url in ("/@collectif/discussions", "/themes/climat", "/search?q=zorglub",
                "/search?q=visible", f"/@collectif/discussions/{discussion.id}/feed.atom",
                "/feed.atom"):
        response = client.get(url)
        assert "Commentaire masqué" not in response.get_data(as_text=True), url
        assert "Débat public" not in response.get_data(as_text=True), url
    db.session.expire_all()
    assert db.session.get(Discussion, discussion.id).comment_count == 1  # the counter
