"""Accounts: sign-up, e-mail confirmation, login, profiles and settings."""
