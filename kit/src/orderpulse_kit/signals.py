"""A SIGTERM is a stop, never a crash, whenever it comes: Kubernetes sends it to a pod that is
still loading as readily as to one that serves."""

import signal
import sys


def exit_cleanly_on_sigterm() -> None:
    """Exit 0 on SIGTERM. A service's `__main__` calls this before its slow imports (two to three
    seconds of them, longer on a busy node), where the default action would end the process by
    the signal (exit code 143, read as a failure); uvicorn takes the signal over while it serves,
    shuts down gracefully and re-raises it, which lands here too."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
