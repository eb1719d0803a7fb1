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


def pid_alive(pid: int, cmdline_marker: str = "") -> bool:
    """Return True when ``pid`` runs (not a zombie) and its command line contains the marker.

    The marker guards against a recycled pid belonging to an unrelated program. Every thread
    counts: a JVM's main thread can be a zombie while its shutdown hooks still run.
    """
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    return any(_task_runs(task, cmdline_marker.encode()) for task in tasks)


def _task_runs(task: Path, marker: bytes) -> bool:
    try:
        state = (task / "stat").read_text(errors="replace").rsplit(")", 1)[1].split()[0]
        cmdline = (task / "cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"} and marker in cmdline


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
