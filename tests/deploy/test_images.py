"""The Dockerfiles, read as text: no Docker engine is needed (nor, here, available) to check them.

Multi-stage (uv installs the locked dependencies in a builder; the runtime stage gets only the
virtual environment), non-root, the service's module as entrypoint, and a build context that
holds what the builder copies.
"""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "deploy" / "docker"
SERVICES = ("status-tracker", "notifier", "returns", "couriers")
BUILD_TOOLS = re.compile(r"\b(uv|pip install|apt-get|apk|gcc|make|build-essential)\b")

Instruction = tuple[str, str]


def instructions(path: Path) -> list[Instruction]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def stages(path: Path) -> list[list[Instruction]]:
    """The instructions of each stage, from its FROM."""
    found: list[list[Instruction]] = []
    for instruction in instructions(path):
        if instruction[0] == "FROM":
            found.append([])
        assert found, f"{path.name}: an instruction before the first FROM"
        found[-1].append(instruction)
    return found


def package(service: str) -> tuple[str, str]:
    """The service's distribution name and its top-level module."""
    project = tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text())
    (module,) = [p.name for p in (REPO / "services" / service / "src").iterdir() if p.is_dir()]
    return project["project"]["name"], module


@pytest.mark.parametrize("service", SERVICES)
def test_builder_installs_from_the_lockfile(service: str) -> None:
    builder, *_ = stages(DOCKER / f"{service}.Dockerfile")
    name, _ = package(service)
    syncs = [args for keyword, args in builder if keyword == "RUN" and "uv sync" in args]
    assert syncs, "the builder installs with uv sync"
    for args in syncs:
        assert "--frozen" in args.split(), f"not from uv.lock as locked: {args}"
        assert "--no-dev" in args.split(), args
        assert f"--package {name}" in args, args
    assert "--no-editable" in syncs[-1].split(), "the runtime stage gets no sources"
    copied = " ".join(args for keyword, args in builder if keyword == "COPY")
    assert "uv.lock" in copied


@pytest.mark.parametrize("service", SERVICES)
def test_builder_sees_every_workspace_member(service: str) -> None:
    """uv reads the whole workspace, so each member's pyproject.toml must be copied first."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members = [
        path.relative_to(REPO).as_posix()
        for pattern in root["tool"]["uv"]["workspace"]["members"]
        for path in sorted(REPO.glob(pattern))
        if (path / "pyproject.toml").is_file()
    ]
    builder, *_ = stages(DOCKER / f"{service}.Dockerfile")
    copied = {args for keyword, args in builder if keyword == "COPY"}
    for member in members:
        assert f"{member}/pyproject.toml {member}/" in copied, member


@pytest.mark.parametrize("service", SERVICES)
def test_runtime_stage_is_slim_and_not_root(service: str) -> None:
    all_stages = stages(DOCKER / f"{service}.Dockerfile")
    assert len(all_stages) >= 2, "multi-stage"
    runtime = all_stages[-1]
    image = runtime[0][1].split()[0]
    assert re.fullmatch(r"python:3\.11[\d.]*-slim(-\w+)?", image), image
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users, "no USER: the image would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) >= 10000, "a numeric non-root user (Kubernetes checks it)"
    assert not gid or (gid.isdigit() and int(gid) > 0)
    for keyword, args in runtime:
        if keyword == "RUN":
            assert not BUILD_TOOLS.search(args), f"build tools in the runtime stage: {args}"
    assert ("COPY", "--from=builder /app/.venv /app/.venv") in runtime


@pytest.mark.parametrize("service", SERVICES)
def test_entrypoint_runs_the_service(service: str) -> None:
    runtime = stages(DOCKER / f"{service}.Dockerfile")[-1]
    _, module = package(service)
    assert importlib.util.find_spec(f"{module}.__main__") is not None
    assert ("ENTRYPOINT", f'["python", "-m", "{module}"]') in runtime
    assert ("EXPOSE", "8080") in runtime


def ignored(patterns: list[str], path: str) -> bool:
    """Whether .dockerignore leaves `path` out of the build context (last match wins)."""

    def matches(pattern: str, candidate: str) -> bool:
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/")):
            wildcards = {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
            regex += wildcards.get(part, re.escape(part))
        return re.fullmatch(regex, candidate) is not None

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if any(matches(pattern.lstrip("!"), prefix) for prefix in prefixes):
            result = not negated
    return result


def test_dockerignore_keeps_local_state_out_and_the_sources_in() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in ("var/demo/x.db", ".venv/bin/python", "schemas/src/x/__pycache__/y.pyc", ".git"):
        assert ignored(patterns, path), path
    copied = ["uv.lock", "pyproject.toml", "devkit/pyproject.toml", "schemas/src/x.py"]
    copied += ["schemas/examples/x.json", "schemas/jsonschema/x.json"]  # in the schemas wheel
    for service in SERVICES:
        copied += [f"services/{service}/pyproject.toml", f"services/{service}/src/x.py"]
    for path in copied:
        assert not ignored(patterns, path), path
    assert ignored(patterns, "devkit/src/orderpulse_devkit/kafka.py")
