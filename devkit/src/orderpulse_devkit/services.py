"""Run the orderpulse services as separate processes, as they run in production.

Tests and the demo use this to start, stop (SIGTERM) and kill (SIGKILL) real service processes
against a real broker, each with its own database file and log.
"""

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orderpulse_devkit.ports import free_port
from orderpulse_devkit.processes import log_tail

REPO = Path(__file__).resolve().parents[3]

MODULES = {
    "status-tracker": ("orderpulse_status_tracker", "TRACKER_"),
    "notifier": ("orderpulse_notifier", "NOTIFIER_"),
    "returns": ("orderpulse_returns", "RETURNS_"),
}
"""The services every order passes through: the demo, the benchmarks and the tests that start
"all services" start these."""
BRIDGES = {
    "couriers": ("orderpulse_couriers", "COURIERS_"),
}
"""Services in front of the others that a shop may do without (couriers publishes the carriers'
tracking as `shipments.v1`, which a shop can publish itself): started where their journeys are
tested."""


def announce_everything(workdir: Path) -> Path:
    """deploy/shops.yaml with every kind announced on every channel at any hour.

    Tests and benchmarks count messages; a shop's taste or the hour they run at must not change
    the count (quiet hours and channel choices have tests of their own).
    """
    shops = yaml.safe_load((REPO / "deploy" / "shops.yaml").read_text(encoding="utf-8"))
    for shop in shops["shops"].values():
        shop.get("tracking", {}).pop("notify", None)
        shop.get("messaging", {}).pop("channels", None)
        shop.get("messaging", {}).pop("quiet_hours", None)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "shops-announce-everything.yaml"
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return path


def service_settings(
    name: str,
    bootstrap: str,
    workdir: Path,
    database_url: str | None = None,
    shops_file: Path = REPO / "deploy" / "shops.yaml",
) -> dict[str, str]:
    """Environment variables that point service `name` at the broker and at files in `workdir`."""
    _, prefix = _module_of(name)
    settings = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{workdir / name}.db",
    }
    settings["SHOPS_FILE"] = str(shops_file)
    if name == "notifier":
        settings["OUTBOX_DIR"] = str(workdir / "outbox")
    settings["HTTP_HOST"] = "127.0.0.1"
    settings["HTTP_PORT"] = str(free_port())
    return {prefix + key: value for key, value in settings.items()}


@dataclass
class ServiceProcess:
    """One service process; its output goes to `<workdir>/<name>.log`.

    `python_options` go between the interpreter and `-m <module>`, e.g. `-m cProfile -o FILE`
    to profile the service.
    """

    name: str
    env: dict[str, str]
    workdir: Path
    python_options: tuple[str, ...] = ()
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def log_path(self) -> Path:
        """Where the service logs."""
        return self.workdir / f"{self.name}.log"

    def start(self) -> None:
        """Start the service (a no-op while it runs)."""
        if self.running:
            return
        module, _ = _module_of(self.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, *self.python_options, "-m", module],
                env={**os.environ, **self.env},
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def migrate(self) -> None:
        """Run the migrations step first, as Kubernetes' init container does, and have the
        service only check the schema when it starts: it then never imports Alembic (12 MiB)."""
        module, prefix = _module_of(self.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            step = subprocess.run(
                [sys.executable, "-m", f"{module}.migrate"],
                env={**os.environ, **self.env},
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if step.returncode != 0:
            raise RuntimeError(f"{module}.migrate exited with {step.returncode}:\n{self.log()}")
        self.env[f"{prefix}MIGRATE_ON_START"] = "false"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as Kubernetes does; SIGKILL if it overstays. Returns the exit code."""
        return self._end(signal.SIGTERM, timeout)

    def kill(self) -> int:
        """SIGKILL: a crash, with no chance to finish anything."""
        return self._end(signal.SIGKILL, 10.0)

    def log(self, lines: int = 60) -> str:
        """The end of the service's log, for failure messages, as a person reads it."""
        return "\n".join(map(readable, log_tail(self.log_path, lines).splitlines()))

    def _end(self, sig: signal.Signals, timeout: float) -> int:
        process = self._process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self._process = None
        return process.returncode


def _module_of(name: str) -> tuple[str, str]:
    """Service `name`'s module and environment prefix."""
    return {**MODULES, **BRIDGES}[name]


def readable(line: str) -> str:
    """A service's JSON log line as `time level logger: message`, then any traceback.

    Other lines (say, a crash before logging was set up) come back as they are.
    """
    try:
        fields = json.loads(line)
        head = " ".join(fields.pop(key) for key in ("time", "level", "logger"))
        head += f": {fields.pop('message')}"
    except (ValueError, TypeError, KeyError, AttributeError):
        return line
    traces = [fields.pop(key) for key in ("exc_info", "stack_info") if key in fields]
    return "\n".join([f"{head} {json.dumps(fields)}" if fields else head, *traces])
