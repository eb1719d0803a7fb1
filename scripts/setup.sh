#!/usr/bin/env bash
# Make this machine ready to run orderpulse: safe to repeat, quick when nothing is missing.
#
#   uv and the locked Python packages (uv from PyPI when absent);
#   without a Docker engine: Java 17 and Maven for the Kafka broker, and (for the tests)
#   Debian's PostgreSQL server, installed with apt-get when running as root.
#   With --with-postgres (the tests), also Debian's Chromium, Docker or not, and for the
#   deployment tests kubectl (kubernetes-client) and Docker Compose (docker-compose) when missing,
#   the AsyncAPI parser the tests validate the documents with (npm ci in tools/asyncapi) and the
#   email-client check of the notifier's emails (npm ci in tools/email-check).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.local/bin:$PATH" UV_PYTHON_DOWNLOADS=never

with_postgres=false
[ "${1:-}" = "--with-postgres" ] && with_postgres=true

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

install_debian_packages() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    die "missing $*: install them (Debian/Ubuntu: sudo apt-get install $*) or run Docker"
  fi
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v uv >/dev/null; then
  command -v python3 >/dev/null || die "Python 3.11 or newer is required"
  say "installing uv from PyPI"
  python3 -m pip install --quiet --user "uv==0.13.9"
fi
uv sync --frozen --all-packages --quiet

# The notifier's preview gallery test opens pages in headless Chromium, with or without Docker.
if $with_postgres && ! command -v chromium >/dev/null; then
  install_debian_packages chromium
fi

# The deployment tests render the Kubernetes overlays (`kubectl kustomize`) and check the compose
# file (`docker compose config`); neither needs a cluster or a Docker engine.
if $with_postgres; then
  deploy_tools=()
  command -v kubectl >/dev/null || deploy_tools+=(kubernetes-client)
  if ! docker compose version >/dev/null 2>&1 && ! docker-compose version >/dev/null 2>&1; then
    deploy_tools+=(docker-compose)
  fi
  if [ "${#deploy_tools[@]}" -gt 0 ]; then
    install_debian_packages "${deploy_tools[@]}"
  fi
fi

# The tests validate the AsyncAPI documents with the official parser (tools/asyncapi) and check
# the notifier's emails against caniemail's data (tools/email-check), on node 20, each installed
# from its committed lock file without running packages' install scripts.
if $with_postgres; then
  command -v npm >/dev/null || install_debian_packages nodejs npm
  for tool in tools/asyncapi tools/email-check; do
    lock=$tool/package-lock.json installed=$tool/node_modules/.package-lock.json
    if [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
      say "installing $tool (npm ci)"
      (cd "$tool" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    fi
  done
fi

if docker info >/dev/null 2>&1; then
  exit 0  # testcontainers brings Kafka and PostgreSQL
fi
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  install_debian_packages openjdk-17-jre-headless maven
fi
uv run --frozen python -c 'from orderpulse_devkit.kafka_jars import ensure_kafka_jars; ensure_kafka_jars()'

if $with_postgres && [ -z "${ORDERPULSE_TEST_POSTGRES_URL:-}" ] \
   && ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  install_debian_packages postgresql
fi
