# Maillage — `make run` serves a demo instance, `make test` runs the whole suite.
# Both create .venv and install on first use; they need only Python 3.11 and make.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MO := $(patsubst %.po,%.mo,$(wildcard hub/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test bench lint fmt messages translations clean e2e

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

hub/translations/%/LC_MESSAGES/messages.mo: hub/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(STAMP) $(MO)

run: translations
	$(BIN)/maillage run --demo

test: translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

e2e: translations
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

bench: translations
	$(BIN)/python bench/run.py $(if $(FULL),--full)

lint: $(STAMP)
	$(BIN)/ruff check hub tests bench

fmt: $(STAMP)
	$(BIN)/ruff format hub tests bench

# Extract strings and update the catalogues (then translate hub/translations/fr/…/messages.po).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o hub/translations/messages.pot .
	$(BIN)/pybabel update -i hub/translations/messages.pot -d hub/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache
