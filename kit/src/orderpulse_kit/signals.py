"""A SIGTERM is a stop, never a crash, whenever it comes: Kubernetes sends it to a pod that is
still loading as readily as to one that serves."""

import os
import signal
import sys
from types import FrameType

_started = False


def exit_cleanly_on_sigterm() -> None:
    """Exit 0 on SIGTERM. A service's `__main__` calls this before its slow imports (two to three
    seconds of them, longer on a busy node), where the default action would end the process by
    the signal (exit code 143, read as a failure). While it serves, uvicorn takes the signal
    over, shuts down gracefully and re-raises it, which lands here again."""
    signal.signal(signal.SIGTERM, _stop)


def stop_at_once_until_started() -> None:
    """Called as the app's start-up begins, uvicorn having taken SIGTERM over: until the app has
    started, a SIGTERM still ends the process at once. uvicorn would wait for the start-up to
    end first, which a broker that takes connections and never answers draws out to its
    timeouts (20 s and more)."""
    serving = signal.getsignal(signal.SIGTERM)

    def stop(signum: int, frame: FrameType | None) -> None:
        if _started and callable(serving):
            serving(signum, frame)
        else:
            _stop()  # starting, nothing begun needs finishing (migrations are transactions)

    signal.signal(signal.SIGTERM, stop)


def started() -> None:
    """The app has started (uvicorn holds the signal until it has shut down)."""
    global _started
    _started = True


def _stop(*_: object) -> None:
    if _started:
        sys.exit(0)  # after the graceful shutdown: the interpreter's own cleanup runs too
    # Loading or starting, nothing begun that needs finishing: at once. A SystemExit raised here
    # would surface in whatever ran, an import, where Python may turn it into another error
    # (what a class's `__set_name__` raises becomes a RuntimeError: exit code 1).
    os._exit(0)
