"""Tables of local people and of the handle namespace they share with organisations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from hub.extensions import db
from hub.models_base import UTCDateTime, utcnow

ROLES = ("user", "moderator", "admin")
STATUSES = ("pending", "active", "suspended", "deleted")


class Handle(db.Model):
    """One row per handle in use, accounts and organisations alike (WebFinger's namespace)."""

    __tablename__ = "handle"

    #: The canonical form: NFKC, case-folded. Unique across every kind.
    key: Mapped[str] = mapped_column(String(30), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # "account" or "organisation"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Account(db.Model):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The handle as the person typed it; ``handle_key`` is its canonical, unique form.
    handle: Mapped[str] = mapped_column(String(30))
    handle_key: Mapped[str] = mapped_column(ForeignKey("handle.key"), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A new address waiting for confirmation; ``email`` stays in use until then.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Changes whenever the password or e-mail changes: one-shot links and sessions die with it.
    security_stamp: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    bio_source: Mapped[str] = mapped_column(Text, default="")
    bio_html: Mapped[str] = mapped_column(Text, default="")
    avatar_path: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str | None] = mapped_column(String(5))
    #: IANA zone dates are shown and scheduled in ("Europe/Paris").
    timezone: Mapped[str] = mapped_column(String(60), default="Europe/Paris",
                                          server_default="Europe/Paris")
    role: Mapped[str] = mapped_column(String(12), default="user")
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    #: What the person wrote when registration requires the admin's approval.
    approval_motivation: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set by moderation ("limit"): what they post or comment waits for approval.
    limited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Followers from other servers wait for the person's approval (``manuallyApprovesFollowers``).
    approves_followers: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    # Flask-Login protocol, kept explicit rather than inherited.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.security_stamp}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" and self.status == "active"

    @property
    def is_moderator(self) -> bool:
        return self.role in {"admin", "moderator"} and self.status == "active"

    @property
    def name(self) -> str:
        return self.display_name or self.handle

    def __repr__(self) -> str:
        return f"<Account @{self.handle}>"


class IdentityProvider(db.Model):
    """An OpenID Connect (or plain OAuth2) provider admins let people sign in with.

    Providers can also be declared by the deployment (``HUB_OIDC_PROVIDERS``); those are
    not rows, see ``hub.accounts.providers``.
    """

    __tablename__ = "identity_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: In URLs (``/auth/<slug>/login``) and on linked identities.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    #: The button reads "Sign in with <label>".
    label: Mapped[str] = mapped_column(String(100))
    #: OpenID Connect discovery document; when set, the endpoints below are read from it.
    discovery_url: Mapped[str] = mapped_column(String(500), default="")
    #: For plain OAuth2 providers (no discovery): what identities are linked under.
    issuer: Mapped[str] = mapped_column(String(500), default="")
    authorize_url: Mapped[str] = mapped_column(String(500), default="")
    token_url: Mapped[str] = mapped_column(String(500), default="")
    userinfo_url: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(String(500), default="")
    scopes: Mapped[str] = mapped_column(String(255), default="openid profile email")
    claim_subject: Mapped[str] = mapped_column(String(60), default="sub")
    claim_handle: Mapped[str] = mapped_column(String(60), default="preferred_username")
    claim_name: Mapped[str] = mapped_column(String(60), default="name")
    claim_email: Mapped[str] = mapped_column(String(60), default="email")
    #: Whether a first sign-in may create an account (else only linked accounts get in).
    allow_signup: Mapped[bool] = mapped_column(default=True)
    #: Whether the e-mail the provider asserts counts as confirmed.
    trust_email: Mapped[bool] = mapped_column(default=False)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkedIdentity(db.Model):
    """An identity at a provider (issuer + subject, never the e-mail) that opens an account."""

    __tablename__ = "linked_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    #: The provider configuration it was linked through (a row's or a deployment's slug).
    provider_slug: Mapped[str] = mapped_column(String(40))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
