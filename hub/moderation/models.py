"""Moderation tables: the charter (versions of numbered articles, for the instance and for
each organisation's spaces), who accepted which version, and domain policies.

A charter version is immutable once published: editing the charter publishes a new version
with all its articles, so older versions and their differences stay readable, and an
acceptance always names exactly the text that was accepted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow


class CharterVersion(db.Model):
    __tablename__ = "charter_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None: the instance charter; else the organisation whose spaces these articles rule.
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    #: 1, 2, 3… per charter (instance, or one organisation).
    number: Mapped[int] = mapped_column()
    #: What changed, in the editor's words (shown in the banner asking to accept again).
    note: Mapped[str] = mapped_column(String(500), default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))

    articles: Mapped[list[CharterArticle]] = relationship(
        order_by="CharterArticle.position", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("org_id", "number"),)


class CharterArticle(db.Model):
    __tablename__ = "charter_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("charter_version.id", ondelete="CASCADE"), index=True)
    #: Its number in the charter: 1, 2, 3… (reports cite it).
    position: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    body_source: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")


class CharterAcceptance(db.Model):
    __tablename__ = "charter_acceptance"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("charter_version.id", ondelete="CASCADE"))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "version_id"),
                      Index("ix_charter_acceptance_version", "version_id"))


#: What a domain policy does (Mastodon's severities, plus media): "block" refuses
#: everything both ways; "limit" keeps its content only for those who follow its actors
#: (nothing of it is listed); "reject_media" keeps no file or image link of it; "allow"
#: names a domain this instance federates with when the allow-list mode is on.
POLICY_SEVERITIES = ("block", "limit", "reject_media", "allow")


class DomainPolicy(db.Model):
    """The instance's policy for one remote domain (and its subdomains). Managed by instance
    admins; enforced by federation on the way in and on the way out."""

    __tablename__ = "domain_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    severity: Mapped[str] = mapped_column(String(12), default="block")
    reject_media: Mapped[bool] = mapped_column(default=False)
    #: Shown on the public transparency page.
    public_reason: Mapped[str] = mapped_column(String(500), default="")
    #: For the moderators only.
    private_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))


# -- reports, cases, actions, appeals -----------------------------------------------------

#: What can be reported (and moderated).
TARGET_TYPES = ("post", "resource", "comment", "discussion", "event", "account",
                "organisation")
CASE_STATUSES = ("open", "resolved", "dismissed")
#: Why a case exists: someone reported it, or prevention held it for approval, or a word
#: filter flagged it.
CASE_KINDS = ("report", "held", "flagged")


class ModerationCase(db.Model):
    """Everything about one item under review: its reports (grouped), notes, the outcome.
    At most one open case per item."""

    __tablename__ = "moderation_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(12))
    target_id: Mapped[int] = mapped_column()
    #: The organisation whose space the item is in (its admins see the case); None for the
    #: instance's own matters (an account, an organisation itself).
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="report")
    status: Mapped[str] = mapped_column(String(10), default="open")
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    #: The account the item belongs to (its author), when there is one.
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    #: Told to the reporters with the outcome.
    public_explanation: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reports: Mapped[list[Report]] = relationship(back_populates="case",
                                                 order_by="Report.id")
    assigned_to = relationship("Account", foreign_keys=[assigned_to_id])
    subject = relationship("Account", foreign_keys=[subject_id])

    __table_args__ = (Index("ix_moderation_case_target", "target_type", "target_id"),
                      Index("ix_moderation_case_status", "status", "created_at"))


class Report(db.Model):
    """One person's report: the articles it cites, their words, how to tell them."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_case.id", ondelete="CASCADE"),
                                         index=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    #: A visitor's address, to tell them the outcome (optional; never shown to anyone).
    reporter_email: Mapped[str] = mapped_column(String(254), default="")
    #: The charter version and the numbers of the articles cited.
    charter_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("charter_version.id", ondelete="SET NULL"))
    articles: Mapped[list[int]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the reporter was told the outcome.
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[ModerationCase] = relationship(back_populates="reports")
    reporter = relationship("Account")


class CaseNote(db.Model):
    """Moderators' internal notes on a case: never shown to anyone else."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_case.id", ondelete="CASCADE"),
                                         index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("Account")


APPEAL_STATUSES = ("pending", "granted", "denied")


class Appeal(db.Model):
    """The person concerned contests one action, once; another moderator decides."""

    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The audit-log row of the action appealed (one appeal per action).
    action_id: Mapped[int] = mapped_column(ForeignKey("admin_action.id", ondelete="CASCADE"),
                                           unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str] = mapped_column(Text, default="")

    account = relationship("Account", foreign_keys=[account_id])
    decided_by = relationship("Account", foreign_keys=[decided_by_id])


class OrgBan(db.Model):
    """Someone banned from an organisation's spaces (its discussions and comments)."""

    __tablename__ = "org_ban"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"),
                                        primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")


#: What a word filter does to a text that matches.
FILTER_EFFECTS = ("refuse", "hold", "flag")


class WordFilter(db.Model):
    """A word, or a regular expression, that admins watch for in what people write.
    Matching ignores case and accents ("Écolo" matches "ecolo")."""

    __tablename__ = "word_filter"

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(String(300))
    is_regex: Mapped[bool] = mapped_column(default=False)
    #: "refuse" (with ``message``), "hold" for approval, or "flag" for review.
    effect: Mapped[str] = mapped_column(String(10), default="flag")
    message: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
