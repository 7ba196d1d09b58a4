# The README's commands. Each sets up what it needs on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
# The dashboard's charting library, from the npm registry at install time (served locally, never from a CDN).
DASHBOARD_JS = apps/monitoring/frontend
CHARTJS = apps/monitoring/static/monitoring/vendor/chart.umd.min.js

.PHONY: install run test lint security audit clean

install: $(STAMP) $(CHARTJS)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(CHARTJS): $(DASHBOARD_JS)/package-lock.json
	npm ci --prefix $(DASHBOARD_JS) --no-audit --no-fund --silent
	mkdir -p $(dir $(CHARTJS))
	cp $(DASHBOARD_JS)/node_modules/chart.js/dist/chart.umd.min.js $(CHARTJS)
	cp $(DASHBOARD_JS)/node_modules/chart.js/LICENSE.md $(dir $(CHARTJS))chart.js.LICENSE.md

run: install
	$(BIN)/aitbc db migrate
	$(BIN)/aitbc up --no-migrate

# ruff; the import contracts of design/layers.md (pyproject.toml's [tool.importlinter]); mypy with django-stubs.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint security audit
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

# Security gates: Django's deployment checks with production settings, and bandit (no medium or high finding).
security: install
	AITBC_PRODUCTION=1 AITBC_SECRET_KEY=$$($(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))") \
		$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/bandit -q -r aitbc_site apps gateway aitbc_cli aitbc_client aitbc_miner -ll -x '*/migrations/*'

# Known vulnerabilities in the installed dependencies (pip-audit, the package index's advisory data); a
# finding fails. Dependencies it could not look up (no route to the advisory service) are counted loudly,
# never passed over in silence.
audit: install
	@out=$$($(BIN)/pip-audit --progress-spinner off --skip-editable 2>&1); rc=$$?; \
	echo "$$out" | grep -v "could not be audited"; \
	skipped=$$(echo "$$out" | grep -c "could not be audited"); \
	if [ "$$skipped" -gt 0 ]; then \
		echo "pip-audit INCOMPLETE: $$skipped dependencies could not be looked up from this machine"; \
	fi; \
	exit $$rc

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(DASHBOARD_JS)/node_modules $(dir $(CHARTJS))
