"""Run Apache Kafka from Maven Central jars with Java 17, as one KRaft node in a work dir.

Work dir layout: ``server.properties``, ``log4j*.properties``, ``data/`` (log.dirs),
``broker.log`` (the JVM's stdout and stderr, appended across restarts) and ``kafka.pid``.
The broker runs in its own session, so it outlives the Python process that started it until
``stop()`` is called, from this process or another one (the CLI relies on that).
"""

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path

from orderpulse_devkit.errors import ServerFailed, ToolNotFound
from orderpulse_devkit.kafka_admin import wait_for_kafka
from orderpulse_devkit.kafka_config import (
    LOG4J2_PROPERTIES,
    LOG4J_PROPERTIES,
    advertised_bootstrap,
    cluster_id,
    server_properties,
)
from orderpulse_devkit.kafka_jars import KAFKA_VERSION, ensure_kafka_jars
from orderpulse_devkit.ports import free_ports, port_is_free
from orderpulse_devkit.processes import (
    log_tail,
    pid_alive,
    pid_running,
    read_pid_file,
    reap,
    terminate,
)

BROKER_JVM_OPTIONS = [
    "-Xms256m", "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
]  # fmt: skip
"""The quick compiler alone (`TieredStopAtLevel=1`): this broker lives minutes, for tests, the
demo and the benchmarks, on the cores the services use. With the optimizing compiler it spent
three quarters of its CPU compiling (14.5 of 18.8 s in a `bench/pipeline.py --scenarios outbox`
run, 3.5 s while the scenario ran); without it, it starts in 3.4 s on 3.3 CPU s instead of
3.9-4.4 s on 5.1-5.4, and the pass-through forwards 1.2-1.6 times as many events per second.
The serial collector (with `kafka_config`'s few threads): G1's concurrent threads competed for
the same two cores. Three pairs of `--scenarios outbox` runs: its CPU in the scenario 2.9-3.1 →
2.6-2.8 s, its wait for a core 5.4-6.0 → 3.7-4.6 s, p99 2.6-2.9 → 1.9-2.5 s."""
TOOL_JVM_OPTIONS = ["-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
"""The one-shot storage formatter only needs to start fast."""


class LocalKafkaBroker:
    """One broker+controller on 127.0.0.1 whose files all live in ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        partitions: int = 3,
        start_timeout: float = 90.0,
    ) -> None:
        self.workdir = workdir.resolve()
        self.partitions = partitions
        self.start_timeout = start_timeout
        self.properties_path = self.workdir / "server.properties"
        self.log_path = self.workdir / "broker.log"
        self.pid_path = self.workdir / "kafka.pid"
        self._port = port
        self._controller_port = controller_port or (port + 1 if port else None)
        self._bootstrap: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """Return ``127.0.0.1:<port>`` of the running broker."""
        if self._bootstrap is None:
            raise RuntimeError("the broker has not been started")
        return self._bootstrap

    def running_pid(self) -> int | None:
        """Return the pid of a live broker started from this work dir, else None."""
        pid = self._proc.pid if self._proc else read_pid_file(self.pid_path)
        return pid if pid is not None and self._alive(pid) else None

    async def start(self) -> bool:
        """Start the broker and wait until it answers; return False if it was already running."""
        launched = await asyncio.to_thread(self._launch_unless_running)
        try:
            async with asyncio.timeout(self.start_timeout):
                await wait_for_kafka(self.bootstrap, alive=lambda: self.running_pid() is not None)
        except (ChildProcessError, TimeoutError) as exc:
            if launched:
                await self.stop()
            reason = str(exc) or f"no answer within {self.start_timeout:.0f}s"
            raise ServerFailed(
                f"Kafka {KAFKA_VERSION} at {self.bootstrap}: {reason}; log: {self.log_path}\n"
                + log_tail(self.log_path),
                self.log_path,
            ) from exc
        except BaseException:  # cancelled or interrupted: leave nothing running
            if launched:
                await self.stop()
            raise
        return launched

    async def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after 30 s); a no-op when none runs."""
        await asyncio.to_thread(self._stop)

    def _alive(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None
        return pid_alive(pid, str(self.properties_path))

    def _still_exiting(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None
        return pid_running(pid)

    def _launch_unless_running(self) -> bool:
        if self.running_pid() is not None:
            self._bootstrap = advertised_bootstrap(self.properties_path.read_text())
            return False
        lib = ensure_kafka_jars()
        java = _java()
        self._write_config()
        jvm_args = [
            f"-Dkafka.logs.dir={self.workdir / 'logs'}",
            f"-Dlog4j.configuration=file:{self.workdir / 'log4j.properties'}",
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
            "-cp", f"{lib}/*",
        ]  # fmt: skip
        if not (self.workdir / "data" / "meta.properties").exists():
            self._format(java, jvm_args)
        with self.log_path.open("ab") as log:
            log.write(f"=== Kafka {KAFKA_VERSION} starting {time.ctime()} ===\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                [java, *BROKER_JVM_OPTIONS, *jvm_args, "kafka.Kafka", str(self.properties_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        self.pid_path.write_text(f"{self._proc.pid}\n")
        return True

    def _write_config(self) -> None:
        spare = iter(free_ports(2))
        port = self._port or next(spare)
        controller_port = self._controller_port or next(spare)
        for taken in (port, controller_port):
            if not port_is_free(taken):
                raise ServerFailed(
                    f"port {taken} on 127.0.0.1 is in use (by a broker from another work dir?)",
                    self.log_path,
                )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text(
            server_properties(
                port=port,
                controller_port=controller_port,
                data_dir=self.workdir / "data",
                partitions=self.partitions,
            )
        )
        (self.workdir / "log4j.properties").write_text(LOG4J_PROPERTIES)
        (self.workdir / "log4j2.properties").write_text(LOG4J2_PROPERTIES)
        self._bootstrap = f"127.0.0.1:{port}"

    def _format(self, java: str, jvm_args: list[str]) -> None:
        command = [
            java, *TOOL_JVM_OPTIONS, *jvm_args, "kafka.tools.StorageTool", "format",
            "-t", cluster_id(), "-c", str(self.properties_path), "--ignore-formatted",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise ServerFailed(
                f"formatting {self.workdir / 'data'} failed; log: {self.log_path}\n"
                + log_tail(self.log_path),
                self.log_path,
            )

    def _stop(self) -> None:
        pid = self.running_pid()
        if pid is not None:
            terminate(pid, lambda: self._still_exiting(pid))
        reap(self._proc)
        self._proc = None
        self.pid_path.unlink(missing_ok=True)


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).is_file():
        raise ToolNotFound("Kafka needs Java 17: apt-get install openjdk-17-jre-headless")
    return java
