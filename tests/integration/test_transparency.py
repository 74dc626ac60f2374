"""The public transparency page (/about/moderation): counts of cases and actions by month and
by charter article, the restricted domains with their public reasons; never who reported,
what a report or a note said, or a policy's private note."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hub.admin.models import AdminAction
from hub.extensions import db
from hub.federation.policies import set_policy
from hub.models_base import utcnow
from hub.moderation import charter
from hub.moderation.actions import ActionDraft, take_action
from hub.moderation.cases import ReportDraft, add_note, file_report
from hub.moderation.models import ModerationCase
from tests.integration.content_rows import make_comment, make_post


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def moderated(app, make_account, make_org, make_member):
    """One comment reported by a visitor citing article 2 (with private words), hidden by a
    moderator citing article 2 with a note on the case; one blocked and one allowed domain;
    and a case and an action from well over a year ago."""
    admin = make_account("chief", role="admin")
    moderator = make_account("modo", role="moderator")
    author = make_account("autrice")
    org = make_org(owner=make_account("fondatrice"), handle="collectif", name="Collectif")
    make_member(org, author, "member")
    version = charter.publish_version(admin, [
        charter.ArticleDraft("Respect", "Soyez courtois."),
        charter.ArticleDraft("Pas de spam", "Pas de publicité.")])
    for person in (admin, moderator, author):
        charter.accept(person, version)
    db.session.commit()
    comment = make_comment("post", make_post(org), "Achetez SECRET-CONTENT", author_id=author.id)
    report = file_report(None, ReportDraft("comment", comment.id, articles=(2,),
                                           comment="SECRET-REPORT-WORDS",
                                           email="reporter-secret@example.net"))
    add_note(moderator, report.case, "SECRET-CASE-NOTE")
    take_action(moderator, ActionDraft("hide", "comment", comment.id, reason="Spam",
                                       articles=(2,), case_id=report.case_id,
                                       public_explanation="Hidden."))
    set_policy(admin, "spam.example", "block", public_reason="Waves of spam",
               private_note="SECRET-POLICY-NOTE")
    set_policy(admin, "pics.example", "limit", reject_media=True, public_reason="")
    set_policy(admin, "friends.example", "allow", private_note="SECRET-ALLOW-NOTE")
    long_ago = utcnow() - timedelta(days=500)
    old = ModerationCase(target_type="comment", target_id=comment.id, status="resolved",
                         created_at=long_ago, updated_at=long_ago)
    db.session.add(old)
    db.session.flush()
    db.session.add(AdminAction(actor_id=moderator.id, action="moderation.delete",
                               target_type="comment", target_id=comment.id, reason="old",
                               details={"articles": [1]}, case_id=old.id,
                               created_at=long_ago))
    db.session.commit()
    return type("Moderated", (), {"admin": admin, "moderator": moderator, "author": author})


def row_of(page: str, caption_class: str, header: str) -> list[str]:
    """The numbers of the table row whose header cell contains ``header``."""
    table = page.split(f'class="{caption_class}"', 1)[1].split("</table>", 1)[0]
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        if header in row:
            return re.findall(r"<td>(.*?)</td>", row, re.S)
    raise AssertionError(f"no row {header!r}")


def test_the_page_is_public_and_linked_from_every_footer(client, moderated):
    response = client.get("/about/moderation")
    assert response.status_code == 200
    assert 'href="/about/moderation"' in client.get("/charter").get_data(as_text=True)


def test_cases_and_actions_are_counted_by_month_over_twelve_months(client, moderated):
    page = client.get("/about/moderation").get_data(as_text=True)
    month = utcnow().strftime("%Y-%m")
    assert row_of(page, "transparency-months", f'datetime="{month}"') == ["1", "1"]
    assert page.count("<time datetime=") == 12
    # The case and the action of 500 days ago are outside the period.
    assert row_of(page, "transparency-months", "Total") == ["1", "1"]


def test_cases_and_actions_are_counted_by_cited_article(client, moderated):
    page = client.get("/about/moderation").get_data(as_text=True)
    assert row_of(page, "transparency-articles", "Article 2") == ["1", "1"]
    assert "Pas de spam" in page
    assert "Article 1" not in page  # only cited before the period
    assert row_of(page, "transparency-kinds", "Hide") == ["1"]


def test_moderated_domains_show_public_reasons_and_never_private_facts(client, moderated):
    page = client.get("/about/moderation").get_data(as_text=True)
    assert "spam.example" in page and "Waves of spam" in page
    assert "pics.example" in page and "Media rejected" in page
    assert "friends.example" not in page  # an allow-list entry is no restriction
    for secret in ("SECRET-POLICY-NOTE", "SECRET-ALLOW-NOTE", "SECRET-CASE-NOTE",
                   "SECRET-REPORT-WORDS", "SECRET-CONTENT", "reporter-secret",
                   "@modo", "@autrice", ">Spam<"):
        assert secret not in page, secret


def test_the_allow_list_mode_is_announced(client, moderated):
    from hub.federation.policies import set_allowlist

    set_allowlist(moderated.admin, True)
    db.session.commit()
    page = client.get("/about/moderation").get_data(as_text=True)
    assert "federates only with the servers its administrators allowed" in page


def test_an_empty_instance_shows_zeros(client, app):
    page = client.get("/about/moderation").get_data(as_text=True)
    assert row_of(page, "transparency-months", "Total") == ["0", "0"]
    assert "No server is restricted." in page


def test_the_page_is_in_french_for_french_visitors(client, moderated):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    assert client.get("/about/moderation").status_code == 200
