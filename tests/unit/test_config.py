"""Settings layering and the fail-fast checks of hub/config.py. Pure: no app, no database."""

from __future__ import annotations

import stat

import pytest

from hub.config import SETTINGS, ConfigError, load_settings, to_flask_config

GOOD_SECRET = "a-long-random-secret-for-tests-0123456789"


@pytest.fixture
def environ(tmp_path):
    """A minimal environment: an instance folder of our own, nothing from the real os.environ."""
    return {"HUB_INSTANCE_PATH": str(tmp_path / "instance")}


def write_toml(tmp_path, text):
    path = tmp_path / "maillage.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_apply_when_nothing_is_set(environ):
    settings = load_settings(environ=environ)
    defaults = {s.name: s.default for s in SETTINGS}
    assert {k: v for k, v in settings.items() if k != "HUB_INSTANCE_PATH"} == {
        k: v for k, v in defaults.items() if k != "HUB_INSTANCE_PATH"
    }


def test_environment_overrides_defaults_with_types_coerced(environ):
    environ |= {"HUB_PORT": "8080", "HUB_MAIL_USE_TLS": "yes", "HUB_LOG_LEVEL": "DEBUG"}
    settings = load_settings(environ=environ)
    assert settings["HUB_PORT"] == 8080
    assert settings["HUB_MAIL_USE_TLS"] is True
    assert settings["HUB_LOG_LEVEL"] == "DEBUG"


def test_boolean_false_spellings_are_false(environ):
    environ |= {"HUB_MAIL_USE_SSL": "0", "HUB_MAIL_USE_TLS": "off"}
    settings = load_settings(environ=environ)
    assert settings["HUB_MAIL_USE_SSL"] is False
    assert settings["HUB_MAIL_USE_TLS"] is False


def test_overrides_beat_environment(environ):
    environ |= {"HUB_PORT": "8080"}
    assert load_settings(environ=environ, overrides={"HUB_PORT": 9090})["HUB_PORT"] == 9090


def test_non_hub_overrides_are_not_settings(environ):
    settings = load_settings(environ=environ, overrides={"WTF_CSRF_ENABLED": False})
    assert "WTF_CSRF_ENABLED" not in settings


def test_toml_file_named_by_hub_config_is_read(tmp_path, environ):
    environ["HUB_CONFIG"] = write_toml(
        tmp_path, 'HUB_BASE_URL = "https://hub.example.org"\nmail_port = 587\nmail_use_tls = true\n'
    )
    settings = load_settings(environ=environ)
    assert settings["HUB_BASE_URL"] == "https://hub.example.org"
    assert settings["HUB_MAIL_PORT"] == 587
    assert settings["HUB_MAIL_USE_TLS"] is True


def test_environment_beats_toml_file(tmp_path, environ):
    environ["HUB_CONFIG"] = write_toml(tmp_path, "HUB_PORT = 7000\n")
    environ["HUB_PORT"] = "7001"
    assert load_settings(environ=environ)["HUB_PORT"] == 7001


def test_toml_file_can_be_named_by_overrides(tmp_path, environ):
    path = write_toml(tmp_path, "HUB_PORT = 7000\n")
    assert load_settings(environ=environ, overrides={"HUB_CONFIG": path})["HUB_PORT"] == 7000


def test_unknown_key_in_toml_file_is_refused(tmp_path, environ):
    environ["HUB_CONFIG"] = write_toml(tmp_path, 'HUB_BASE_ULR = "https://typo.example"\n')
    with pytest.raises(ConfigError, match="HUB_BASE_ULR"):
        load_settings(environ=environ)


def test_unknown_short_key_in_toml_file_is_refused(tmp_path, environ):
    environ["HUB_CONFIG"] = write_toml(tmp_path, "prot = 80\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(environ=environ)


def test_bad_int_in_environment_gives_config_error(environ):
    environ["HUB_PORT"] = "eighty"
    with pytest.raises(ConfigError, match="HUB_PORT"):
        load_settings(environ=environ)


def test_bad_int_in_toml_file_gives_config_error(tmp_path, environ):
    environ["HUB_CONFIG"] = write_toml(tmp_path, 'HUB_MAIL_PORT = "twenty-five"\n')
    with pytest.raises(ConfigError, match="HUB_MAIL_PORT"):
        load_settings(environ=environ)


@pytest.mark.parametrize("secret", ["change-me", "CHANGEME", "secret", "dev", "too-short"])
def test_placeholder_or_short_secret_is_refused_in_production(environ, secret):
    environ |= {"HUB_SECRET_KEY": secret, "HUB_BASE_URL": "https://hub.example.org"}
    with pytest.raises(ConfigError, match="HUB_SECRET_KEY"):
        to_flask_config(load_settings(environ=environ))


def test_placeholder_secret_is_allowed_outside_production(environ):
    environ |= {"HUB_ENV": "development", "HUB_SECRET_KEY": "dev"}
    assert to_flask_config(load_settings(environ=environ))["SECRET_KEY"] == "dev"


def test_long_secret_is_accepted_in_production(environ):
    environ |= {"HUB_SECRET_KEY": GOOD_SECRET, "HUB_BASE_URL": "https://hub.example.org"}
    assert to_flask_config(load_settings(environ=environ))["SECRET_KEY"] == GOOD_SECRET


def test_plain_http_base_url_is_refused_in_production(environ):
    environ |= {"HUB_SECRET_KEY": GOOD_SECRET, "HUB_BASE_URL": "http://hub.example.org"}
    with pytest.raises(ConfigError, match="https"):
        to_flask_config(load_settings(environ=environ))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:5000", "http://localhost:8000", "http://127.1.2.3", "http://[::1]:5000"],
)
def test_plain_http_base_url_is_allowed_on_loopback_in_production(environ, url):
    environ |= {"HUB_SECRET_KEY": GOOD_SECRET, "HUB_BASE_URL": url}
    config = to_flask_config(load_settings(environ=environ))
    assert config["HUB_BASE_URL"] == url
    assert config["SESSION_COOKIE_SECURE"] is False


def test_plain_http_base_url_is_allowed_in_testing(environ):
    environ |= {"HUB_ENV": "testing", "HUB_BASE_URL": "http://hub.test"}
    assert to_flask_config(load_settings(environ=environ))["TESTING"] is True


def test_relative_base_url_is_refused(environ):
    environ |= {"HUB_ENV": "testing", "HUB_BASE_URL": "hub.example.org"}
    with pytest.raises(ConfigError, match="HUB_BASE_URL"):
        to_flask_config(load_settings(environ=environ))


def test_unknown_env_is_refused(environ):
    environ["HUB_ENV"] = "staging"
    with pytest.raises(ConfigError, match="HUB_ENV"):
        to_flask_config(load_settings(environ=environ))


def test_generated_secret_is_kept_in_instance_folder(tmp_path, environ):
    first = to_flask_config(load_settings(environ=environ))["SECRET_KEY"]
    second = to_flask_config(load_settings(environ=environ))["SECRET_KEY"]
    key_file = tmp_path / "instance" / "secret_key"
    assert len(first) >= 32
    assert first == second
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_generated_secret_differs_between_instances(tmp_path):
    one = to_flask_config(load_settings(environ={"HUB_INSTANCE_PATH": str(tmp_path / "a")}))
    two = to_flask_config(load_settings(environ={"HUB_INSTANCE_PATH": str(tmp_path / "b")}))
    assert one["SECRET_KEY"] != two["SECRET_KEY"]


def test_empty_database_url_means_sqlite_in_instance_folder(tmp_path, environ):
    config = to_flask_config(load_settings(environ=environ))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'hub.db'}"


def test_mail_backend_follows_mail_server_when_unset(environ):
    assert to_flask_config(load_settings(environ=environ))["HUB_MAIL_BACKEND"] == "file"
    environ["HUB_MAIL_SERVER"] = "smtp.example.org"
    assert to_flask_config(load_settings(environ=environ))["HUB_MAIL_BACKEND"] == "smtp"


def test_max_upload_becomes_max_content_length(environ):
    environ["HUB_MAX_UPLOAD_MB"] = "2"
    assert to_flask_config(load_settings(environ=environ))["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
