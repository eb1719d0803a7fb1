#!/usr/bin/env bash
# The demo: a real Kafka broker, the three services and couriers (polling a local fake of
# Packeta's API), a few realistic orders, then what was sent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH" UV_PYTHON_DOWNLOADS=never
exec uv run --frozen python -m orderpulse_devkit.demo "$@"
