"""Rendering the Kubernetes manifests the way an operator does: `kubectl kustomize`.

kubectl is a real dependency of these tests, never faked or skipped: `scripts/setup.sh
--with-postgres` installs Debian's `kubernetes-client` when it is missing.
"""

import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")

Objects = list[dict[str, Any]]


@pytest.fixture(scope="session")
def kubectl() -> str:
    """The kubectl on PATH (any version from 1.20, kustomize v2.0.3, to today's)."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl is missing: run scripts/setup.sh --with-postgres (or install kubectl)")
    return found


@pytest.fixture(scope="session")
def render(kubectl: str) -> Callable[[Path], Objects]:
    """Render a kustomization directory into its objects; a failed build fails the test."""

    @cache
    def build(directory: Path) -> Objects:
        done = subprocess.run(
            [kubectl, "kustomize", str(directory)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"kubectl kustomize {directory} failed:\n{done.stderr}")
        return [obj for obj in yaml.safe_load_all(done.stdout) if obj]

    return build


@pytest.fixture(scope="session")
def overlays(render: Callable[[Path], Objects]) -> dict[str, Objects]:
    """Every overlay's rendered objects, by overlay name."""
    found = sorted(path.name for path in (K8S / "overlays").iterdir() if path.is_dir())
    assert found == sorted(OVERLAYS), f"overlays changed: {found}; update tests/deploy"
    return {name: render(K8S / "overlays" / name) for name in OVERLAYS}
