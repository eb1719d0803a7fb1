# Image of the couriers service. Build from the repository root (the context must hold uv.lock):
#   docker build -f deploy/docker/couriers.Dockerfile -t orderpulse/couriers:dev .
# Like the other Dockerfiles but for the package it installs and the module it runs, and no
# shops file (couriers reads none).

FROM python:3.11-slim-bookworm AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
# Bytecode compiled at build time: the root filesystem is read-only at run time. No BuildKit
# features (cache mounts), so the classic builder of docker-compose v1 builds it too.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_NO_CACHE=1 UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Third-party dependencies first, exactly as locked: this layer survives source changes.
# uv needs every workspace member's pyproject.toml to read the workspace, not their sources.
COPY pyproject.toml uv.lock ./
COPY schemas/pyproject.toml schemas/
COPY kit/pyproject.toml kit/
COPY services/status-tracker/pyproject.toml services/status-tracker/
COPY services/notifier/pyproject.toml services/notifier/
COPY services/returns/pyproject.toml services/returns/
COPY services/couriers/pyproject.toml services/couriers/
COPY devkit/pyproject.toml devkit/
RUN uv sync --frozen --no-dev --no-install-workspace --package orderpulse-couriers
# Then the contract, the runtime and the service themselves, as wheels (not editable: /src stays behind).
COPY schemas/ schemas/
COPY kit/ kit/
COPY services/couriers/ services/couriers/
RUN uv sync --frozen --no-dev --no-editable --package orderpulse-couriers

FROM python:3.11-slim-bookworm
# No compilers, no uv, no sources: the virtual environment only, owned by root, run as 10001.
RUN groupadd --system --gid 10001 orderpulse \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin orderpulse
COPY --from=builder /app/.venv /app/.venv
# No shops file: the couriers service reads none (a parcel carries its shop's id).
ENV PATH=/app/.venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["python", "-m", "orderpulse_couriers"]
