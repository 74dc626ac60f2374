"""Templates translate in the locale in force, also when e-mails switch it mid-request."""

from flask import render_template_string
from flask_babel import force_locale


def test_templates_follow_force_locale_and_come_back(app):
    page = "{{ _('Search') }}"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(page) == "Search"
        with force_locale("fr"):
            assert render_template_string(page) == "Rechercher"
        assert render_template_string(page) == "Search"
