"""deploy/compose.yaml as Docker Compose reads it, without a Docker engine.

`docker compose config` (the plugin) or `docker-compose config` (Debian's v1.29) parses,
interpolates and validates the file and prints it normalised; both are real dependencies here,
installed by `scripts/setup.sh --with-postgres`. DOCKER_HOST points nowhere to prove that no
engine is needed.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from orderpulse_schemas.topics import ALL_TOPICS

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
SERVICES = {
    "status-tracker": "TRACKER_",
    "notifier": "NOTIFIER_",
    "returns": "RETURNS_",
    "couriers": "COURIERS_",
}
# The services that read the shops file (couriers reads none: a parcel carries its shop's id).
SHOPS_READERS = ("status-tracker", "notifier", "returns")
INFRASTRUCTURE = {"kafka", "postgres", "mailpit"}


def compose_command() -> list[str]:
    candidates = [["docker", "compose"], ["docker-compose"]]
    for command in candidates:
        if shutil.which(command[0]) is None:
            continue
        done = subprocess.run([*command, "version"], capture_output=True, timeout=30, check=False)
        if done.returncode == 0:
            return command
    pytest.fail("neither `docker compose` nor `docker-compose` works: run scripts/setup.sh")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as `config` prints it, after validation."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COMPOSE_", "DOCKER_"))
    }
    environment["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    done = subprocess.run(
        [*compose_command(), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"compose config failed:\n{done.stderr}"
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def binds(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Target → (source, read-only) of each volume, in either output format."""
    found = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            found[target] = (source, "ro" in mode[0].split(",") if mode else False)
        else:
            found[volume["target"]] = (volume.get("source", ""), volume.get("read_only", False))
    return found


def test_it_runs_the_infrastructure_and_the_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= INFRASTRUCTURE | set(SERVICES)


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"] == "apache/kafka:3.9.1"
    for name, service in services.items():
        if "build" in service:
            continue
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:v?\d+(\.\d+)+[\w.-]*", image), f"{name}: {image} unpinned"


def test_kafka_runs_in_kraft_mode(compose: dict[str, Any]) -> None:
    environment = compose["services"]["kafka"]["environment"]
    assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "KAFKA_ZOOKEEPER_CONNECT" not in environment
    assert "CONTROLLER" in environment["KAFKA_CONTROLLER_LISTENER_NAMES"]


@pytest.mark.parametrize("name", SERVICES)
def test_services_are_built_from_their_dockerfiles(compose: dict[str, Any], name: str) -> None:
    service, prefix = compose["services"][name], SERVICES[name]
    build = service["build"]
    assert Path(build["context"]).resolve() == REPO
    assert build["dockerfile"] == f"deploy/docker/{name}.Dockerfile"
    assert (REPO / build["dockerfile"]).is_file()
    assert service["read_only"] is True
    environment = service["environment"]
    assert environment[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert environment[f"{prefix}DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment[f"{prefix}DATABASE_URL"].split("@")[1].startswith("postgres:5432/")
    if name in SHOPS_READERS:
        source, read_only = binds(service)["/etc/orderpulse/shops.yaml"]
        assert Path(source).resolve() == REPO / "deploy" / "shops.yaml"
        assert read_only
    depends = service["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["topics"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(service["healthcheck"]["test"])


def test_the_notifier_mails_through_the_mail_catcher(compose: dict[str, Any]) -> None:
    environment = compose["services"]["notifier"]["environment"]
    assert environment["NOTIFIER_EMAIL_BACKEND"] == "smtp"
    assert environment["NOTIFIER_SMTP_HOST"] == "mailpit"
    assert str(environment["NOTIFIER_SMTP_PORT"]) == "1025"
    assert "mailpit" in compose["services"]["notifier"]["depends_on"]
    # The outbox (texts) is a volume: the root filesystem is read-only.
    assert "/var/lib/orderpulse/outbox" in binds(compose["services"]["notifier"])


def test_every_topic_and_dead_letter_topic_is_created(compose: dict[str, Any]) -> None:
    topics = compose["services"]["topics"]
    script = " ".join(topics["command"])
    assert "--create --if-not-exists" in script
    named = set(re.findall(r"[a-z-]+\.v\d+", script))
    assert named == {t.name for t in ALL_TOPICS}
    assert re.search(r'for name in "\$+topic" "\$+topic\.dlq"', script), "and its dead letters"
