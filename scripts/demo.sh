#!/usr/bin/env bash
# The demo: a real Kafka broker, the three services and couriers (polling a local fake of
# Packeta's API), a few realistic orders, then what was sent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH" UV_PYTHON_DOWNLOADS=never
# Python's bytecode cache on, whatever the machine's environment says (some set
# PYTHONDONTWRITEBYTECODE): else every service process compiles its imports from source, 2 of its
# 3 s of start-up, and the tests and the demo start dozens. The images compile theirs when built.
unset PYTHONDONTWRITEBYTECODE
exec uv run --frozen python -m orderpulse_devkit.demo "$@"
