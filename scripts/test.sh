#!/usr/bin/env bash
# Every check CI runs: lint, types, contract drift, then all test tiers (unit, integration on a
# real Kafka broker and PostgreSQL, e2e with the services as processes). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh --with-postgres
export PATH="$HOME/.local/bin:$PATH" UV_PYTHON_DOWNLOADS=never
# Python's bytecode cache on, whatever the machine's environment says (some set
# PYTHONDONTWRITEBYTECODE): else every service process compiles its imports from source, 2 of its
# 3 s of start-up, and the tests and the demo start dozens. The images compile theirs when built.
unset PYTHONDONTWRITEBYTECODE

uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen mypy
uv run --frozen python -m orderpulse_schemas.export --check
uv run --frozen python scripts/asyncapi.py --check
# External validators: the JSON Schemas against the draft 2020-12 metaschema, each topic's examples
# against its schema (formats checked), the AsyncAPI documents with the official AsyncAPI parser.
uv run --frozen check-jsonschema --check-metaschema schemas/jsonschema/*.json
for schema in schemas/jsonschema/*.json; do
  uv run --frozen check-jsonschema --schemafile "$schema" \
    "schemas/examples/$(basename "$schema" .json)"/*.json
done
node tools/asyncapi/validate.mjs schemas/asyncapi/*.json
# Each service installs and passes its unit tests alone, with only its declared dependencies.
for service in status-tracker notifier returns couriers; do
  UV_PROJECT_ENVIRONMENT="var/venvs/$service" \
    uv run --frozen --quiet --package "orderpulse-$service" \
    pytest -q --no-header -p no:cacheprovider "services/$service/tests/unit"
done
uv run --frozen pytest "$@"
