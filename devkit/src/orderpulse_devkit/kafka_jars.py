"""Fetch Apache Kafka's jars from Maven Central into a per-user cache, once.

No Kafka tarball is needed: Maven resolves the committed ``devkit/kafka/pom.xml`` and copies
the runtime classpath. A marker is written only after a complete copy, so an interrupted
fetch is redone, and it records the pom's digest, so editing the pom refetches.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from orderpulse_devkit.errors import FetchFailed, ToolNotFound
from orderpulse_devkit.processes import log_tail

KAFKA_VERSION = "3.9.1"
"""The one pin of the broker version; passed to Maven as ``-Dkafka.version``."""

POM_PATH = Path(__file__).resolve().parents[2] / "kafka" / "pom.xml"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"


def kafka_cache_dir() -> Path:
    """Return ``${XDG_CACHE_HOME:-~/.cache}/orderpulse/kafka-<version>``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orderpulse" / f"kafka-{KAFKA_VERSION}"


def ensure_kafka_jars(pom: Path = POM_PATH) -> Path:
    """Return the directory holding the broker's classpath, running Maven first if needed."""
    if not pom.is_file():
        raise FetchFailed(f"Kafka pom not found at {pom}; run from the orderpulse source tree")
    root = kafka_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    lib, marker = root / "lib", root / "lib.complete"
    digest = hashlib.sha256(pom.read_bytes() + KAFKA_VERSION.encode()).hexdigest()
    with (root / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test runs fetch once
        if lib.is_dir() and _read(marker) == digest:
            return lib
        marker.unlink(missing_ok=True)
        shutil.rmtree(lib, ignore_errors=True)
        _run_maven(pom, lib, root / "fetch.log")
        partial = marker.with_suffix(".tmp")
        partial.write_text(digest)
        partial.replace(marker)
    return lib


def _run_maven(pom: Path, lib: Path, log: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolNotFound("Maven (mvn) is needed to fetch Kafka's jars: apt-get install maven")
    command = [
        mvn, "-B", "-q", "-f", str(pom),
        f"{DEPENDENCY_PLUGIN}:copy-dependencies",
        f"-DoutputDirectory={lib}", "-DincludeScope=runtime", f"-Dkafka.version={KAFKA_VERSION}",
        "-Dstyle.color=never",
    ]  # fmt: skip
    with log.open("wb") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0 or not any(lib.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")):
        raise FetchFailed(
            f"Maven could not fetch Kafka {KAFKA_VERSION} (exit {code}); log: {log}\n"
            + log_tail(log)
        )


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
