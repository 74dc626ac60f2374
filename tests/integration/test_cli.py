"""The `maillage` command: a fresh instance from nothing, demo content, clear refusals."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.orm import Session

from hub.accounts.models import Account
from hub.cli import main
from hub.orgs.models import Membership, Organisation


@pytest.fixture
def fresh_env(tmp_path, monkeypatch):
    """A brand-new instance folder with the embedded SQLite default."""
    for name in ("HUB_DATABASE_URL", "HUB_REDIS_URL", "HUB_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HUB_ENV", "testing")
    monkeypatch.setenv("HUB_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("HUB_DEFAULT_LOCALE", "en")
    return tmp_path / "instance"


def _session(instance) -> Session:
    return Session(create_engine(f"sqlite:///{instance / 'hub.db'}"))


def test_init_builds_the_schema_with_migrations_in_wal_mode(fresh_env, capsys):
    assert main(["init"]) == 0
    assert "database ready" in capsys.readouterr().out
    engine = create_engine(f"sqlite:///{fresh_env / 'hub.db'}")
    tables = set(inspect(engine).get_table_names())
    assert {"account", "organisation", "membership", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert (fresh_env / "secret_key").stat().st_mode & 0o777 == 0o600
    engine.dispose()


def test_demo_creates_three_french_organisations_and_an_admin(fresh_env, capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "admin_demo" in out and "password" in out
    with _session(fresh_env) as session:
        orgs = session.scalars(select(Organisation)).all()
        assert len(orgs) == 3
        assert any("é" in org.description_source or "è" in org.description_source
                   for org in orgs)
        admin = session.scalar(select(Account).where(Account.handle == "admin_demo"))
        assert admin.role == "admin" and admin.status == "active"
        owners = session.scalar(select(func.count()).select_from(Membership)
                                .where(Membership.role == "owner"))
        assert owners == 3
    # A second run refuses rather than duplicating.
    assert main(["demo"]) == 1
    assert "already" in capsys.readouterr().err


def test_create_admin_and_its_refusals(fresh_env, capsys):
    assert main(["init"]) == 0
    assert main(["create-admin", "root_person", "r@example.org", "--password", "-"]) == 0
    out = capsys.readouterr().out
    assert "password:" in out
    assert main(["create-admin", "Root_Person", "other@example.org", "--password", "-"]) == 1
    assert "already taken" in capsys.readouterr().err
    assert main(["create-admin", "admin", "x@example.org", "--password", "-"]) == 1
    assert "reserved" in capsys.readouterr().err
    assert main(["create-admin", "shorty", "s@example.org", "--password", "short"]) == 1
    with _session(fresh_env) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1


@pytest.mark.parametrize("argv", [["bogus"], [], ["run", "--port", "notanumber"],
                                  ["create-admin"]])
def test_bad_arguments_give_one_line_and_exit_2(argv):
    result = subprocess.run([sys.executable, "-m", "hub.cli", *argv], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("maillage:")


def test_configuration_error_is_one_line(fresh_env, monkeypatch, capsys):
    monkeypatch.setenv("HUB_ENV", "production")
    monkeypatch.setenv("HUB_SECRET_KEY", "change-me")
    assert main(["init"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "HUB_SECRET_KEY" in err[0]


def test_migrations_match_the_models(app):
    """Autogenerate finds nothing to add: the schema is only ever made by migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from hub.content.search.index import include_name
    from hub.extensions import db

    # As migrations/env.py: the hand-made full-text index beside search_document is skipped.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
