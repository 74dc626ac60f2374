"""Organisations, memberships, roles and invitations."""
