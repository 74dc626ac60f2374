"""Outgoing e-mail: a row per message, sent by a job, retried until delivered."""
