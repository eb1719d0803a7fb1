"""``python -m orderpulse_devkit.kafka start|stop|status --workdir DIR [--port 19092]``.

For the demo and for people: ``start`` leaves a broker running after the command exits and
prints its bootstrap address on stdout (messages go to stderr); both ``start`` and ``stop``
are idempotent. Only ``start`` honours ``KAFKA_BOOTSTRAP_SERVERS``: it prints that address
and starts nothing. ``status`` exits 0 when a broker runs from the work dir, else 3.
"""

import argparse
import asyncio
import fcntl
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from orderpulse_devkit.errors import DevkitError
from orderpulse_devkit.kafka_local import LocalKafkaBroker

NOT_RUNNING = 3


def main(argv: Sequence[str] | None = None) -> int:
    """Run one CLI command and return the process exit code."""
    args = _parser().parse_args(argv)
    broker = LocalKafkaBroker(
        args.workdir,
        port=args.port,
        controller_port=args.controller_port,
        partitions=args.partitions,
        start_timeout=args.timeout,
    )
    try:
        if args.command == "start":
            return _start(broker)
        if args.command == "stop":
            return _stop(broker)
        return _status(broker)
    except DevkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _start(broker: LocalKafkaBroker) -> int:
    if external := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        print(f"KAFKA_BOOTSTRAP_SERVERS is set; using {external}", file=sys.stderr)
        print(external)
        return 0
    with _locked(broker.workdir):
        launched = asyncio.run(broker.start())
    state = "started" if launched else "already running"
    print(f"Kafka {state} at {broker.bootstrap} (log: {broker.log_path})", file=sys.stderr)
    print(broker.bootstrap)
    return 0


def _stop(broker: LocalKafkaBroker) -> int:
    if not broker.workdir.is_dir():
        print("Kafka is not running", file=sys.stderr)
        return 0
    with _locked(broker.workdir):
        pid = broker.running_pid()
        asyncio.run(broker.stop())
    print("Kafka stopped" if pid else "Kafka is not running", file=sys.stderr)
    return 0


def _status(broker: LocalKafkaBroker) -> int:
    pid = broker.running_pid() if broker.workdir.is_dir() else None
    if pid is None:
        print("Kafka is not running")
        return NOT_RUNNING
    print(f"Kafka is running (pid {pid}, config {broker.properties_path}, log {broker.log_path})")
    return 0


@contextmanager
def _locked(workdir: Path) -> Iterator[None]:
    """Serialise start/stop of one work dir across processes."""
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / ".kafka.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orderpulse_devkit.kafka",
        description="Run a single-node Apache Kafka broker (KRaft) from Maven Central jars.",
    )
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--workdir", type=Path, required=True, help="config, data and log")
    parser.add_argument("--port", type=int, default=19092, help="client port (default 19092)")
    parser.add_argument(
        "--controller-port", type=int, default=None, help="KRaft controller port (default port+1)"
    )
    parser.add_argument("--partitions", type=int, default=3, help="num.partitions (default 3)")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for ready")
    return parser
