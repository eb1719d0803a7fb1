"""A service stopped (SIGTERM) while it is still loading or starting exits 0, as a stop later does.

Kubernetes stops a pod that has just started as readily as one that serves (a rollout replaced
again, a node drained); a service's imports take seconds, and a process ended by the signal's
default action (exit code 143) reads as a crash. The chaos run found it: its monkey stopped a
service restarted half a second before. (Where in the loading the signal lands matters too:
kit/tests/test_signals.py has the case CI met once, a signal inside a class definition.)
"""

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderpulse_devkit.services import BRIDGES, MODULES, ServiceProcess, service_settings

LOADING = (0.1, 0.3, 0.6, 2.0)
"""Seconds after the start: the interpreter is up and the service's imports (0.5–3 s) are not
done, or they are and it is starting, waiting for a Kafka that never answers (before the start-up
kept a SIGTERM stopping it at once, uvicorn waited for the start-up to end: killed at 10 s)."""


@pytest.fixture
def silent_kafka() -> Iterator[str]:
    """An address that takes connections and never answers: a service that has loaded waits on
    it, starting. (On a closed port one that loaded within the 0.6 s failed at once, exit 3:
    Kafka refused to say whether its empty database was lost, `lost_database`.)"""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("name", sorted({**MODULES, **BRIDGES}))
def test_a_service_stopped_while_it_loads_exits_0(
    name: str, silent_kafka: str, tmp_path: Path
) -> None:
    for after in LOADING:
        service = ServiceProcess(name, service_settings(name, silent_kafka, tmp_path), tmp_path)
        service.start()
        time.sleep(after)
        assert service.running, service.log()
        code = service.stop(timeout=10.0)
        assert code == 0, f"{name} stopped after {after} s exited {code}:\n{service.log()}"
