"""Watch and stop server processes by pid, including ones started by another process.

The CLI starts a broker in one process and stops it from another, so liveness cannot rely on
``Popen``; it reads ``/proc`` and treats zombies (exited, not yet reaped) as dead.
"""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

STOP_TIMEOUT = 30.0
"""Seconds a server gets to exit after SIGTERM before it is killed."""


def pid_alive(pid: int, cmdline_marker: str) -> bool:
    """Return True when ``pid`` runs and its command line contains the marker.

    The marker tells our server from an unrelated program that got a recycled pid.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return cmdline_marker.encode() in cmdline and pid_running(pid)


def pid_running(pid: int) -> bool:
    """Return True while any thread of ``pid`` is not a zombie.

    A JVM's main thread can be a zombie while its shutdown hooks still run, and an exiting
    process loses its command line before it is gone, so neither is looked at here.
    """
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    return any(_task_state(task) not in {"Z", "X", ""} for task in tasks)


def _task_state(task: Path) -> str:
    try:
        return (task / "stat").read_text(errors="replace").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def read_pid_file(path: Path) -> int | None:
    """Return the pid on the first line of ``path``, or None when it is missing or garbled."""
    try:
        return int(path.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def terminate(pid: int, alive: Callable[[], bool], timeout: float = STOP_TIMEOUT) -> None:
    """Send SIGTERM, wait up to ``timeout`` seconds, then SIGKILL and wait for the exit."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        if not alive():
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while alive() and time.monotonic() < deadline:
            time.sleep(0.1)
    if alive():
        raise TimeoutError(f"process {pid} survived SIGKILL")


def reap(proc: subprocess.Popen[bytes] | None) -> None:
    """Collect the exit status of a child we started, so it does not linger as a zombie."""
    if proc is not None and proc.poll() is None:
        proc.wait(timeout=10)


def log_tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a log file for error messages ("" when it does not exist)."""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 64 * 1024))
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
