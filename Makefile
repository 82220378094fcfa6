# The two commands: `make run` (set up, build the default store, serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SOURCE := var/demo-source.csv
STORE  := var/gsd-demo.duckdb
ENGINE := $(wildcard synth_engine/*.py) $(addprefix data/,codebook.py codebook_file.py release_meta.py errors.py countries.py aggregates.py dataset.py schema.py writer.py) data/codebooks/ctdc.datapackage.json

# The catalogues of the reader's languages (i18n/catalog.py), compiled before the app runs.
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run serve test lint setup setup-dev system-deps store clean translations

run: setup translations $(STORE)
	$(BIN)/python app.py

# Production: gunicorn on 127.0.0.1:8050 (GSD_BIND, GSD_WORKERS, ...: see gunicorn.conf.py).
serve: setup translations $(STORE)
	$(BIN)/gunicorn -c gunicorn.conf.py

test: setup-dev system-deps lint translations
	$(BIN)/python -m pytest

# The lint and the formatting check (settings in pyproject.toml) run before the tests.
lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

translations: $(COMPILED)
%.mo: %.po | $(VENV)/.runtime
	$(BIN)/python -m i18n compile

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The project itself, editable, with its dependencies from pyproject.toml (and the gsd-engine script).
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.runtime $@

system-deps:
	@bash scripts/system-deps.sh

$(SOURCE): | $(VENV)/.runtime
	@mkdir -p $(dir $@)
	$(BIN)/gsd-engine demo-source --out $@

store: $(STORE)
$(STORE): $(SOURCE) $(ENGINE)
	$(BIN)/gsd-engine build --input $(SOURCE) --out $@ --seed 1 \
		--demonstration --name "GSD demonstration release"

clean:
	rm -rf var
