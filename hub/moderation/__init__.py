"""Moderation: the charter and its acceptance, domain policies (enforced by federation)."""
