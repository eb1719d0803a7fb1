"""A service stopped (SIGTERM) while it is still loading exits 0, as a stop later does.

Kubernetes stops a pod that has just started as readily as one that serves (a rollout replaced
again, a node drained); a service's imports take seconds, and a process ended by the signal's
default action (exit code 143) reads as a crash. The chaos run found it: its monkey stopped a
service restarted half a second before. (Where in the loading the signal lands matters too:
kit/tests/test_signals.py has the case CI met once, a signal inside a class definition.)
"""

import time
from pathlib import Path

import pytest

from orderpulse_devkit.ports import free_port
from orderpulse_devkit.services import BRIDGES, MODULES, ServiceProcess, service_settings

LOADING = (0.1, 0.3, 0.6)
"""Seconds after the start: the interpreter is up, the service's imports (1–3 s) are not done."""


@pytest.mark.parametrize("name", sorted({**MODULES, **BRIDGES}))
def test_a_service_stopped_while_it_loads_exits_0(name: str, tmp_path: Path) -> None:
    for after in LOADING:
        service = ServiceProcess(
            name, service_settings(name, f"127.0.0.1:{free_port()}", tmp_path), tmp_path
        )
        service.start()
        time.sleep(after)
        assert service.running, service.log()
        code = service.stop(timeout=10.0)
        assert code == 0, f"{name} stopped after {after} s exited {code}:\n{service.log()}"
