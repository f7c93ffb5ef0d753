.PHONY: bootstrap demo dev test test-integration manifest lint fix
bootstrap:
	bash scripts/bootstrap.sh
demo:
	bash scripts/demo.sh
dev: bootstrap
	.venv/bin/importau dev
test:
	bash scripts/test.sh
test-integration: bootstrap
	.venv/bin/python -m pytest -m integration
manifest: bootstrap
	.venv/bin/importau dbt parse
lint: bootstrap
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && cd dbt_project && ../.venv/bin/sqlfluff lint models macros tests
fix: bootstrap
	.venv/bin/ruff check --fix . && .venv/bin/ruff format . && cd dbt_project && ../.venv/bin/sqlfluff fix models macros tests
