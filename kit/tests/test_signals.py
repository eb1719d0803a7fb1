"""A SIGTERM exits 0 whenever it comes: at once while the service loads (whatever code the signal
lands in), and through the interpreter's own cleanup once the app has started."""

import subprocess
import sys

STOPPED_IN_A_CLASS_DEFINITION = """
import os, signal
from orderpulse_kit.signals import exit_cleanly_on_sigterm

exit_cleanly_on_sigterm()

class StoppedHere:
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10_000):  # the handler runs between these steps
            pass

class Loading:  # as a library's class does during an import
    field = StoppedHere()

print("went on")
"""

STOPPED_AFTER_THE_START = """
import os, signal
from orderpulse_kit.signals import exit_cleanly_on_sigterm, started

exit_cleanly_on_sigterm()
started()
try:
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(10_000):
        pass
finally:
    print("cleaned up")
"""


def run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


def test_a_sigterm_inside_a_class_definition_exits_0_at_once() -> None:
    # Python turns what `__set_name__` raises into a RuntimeError: a SystemExit raised by the
    # handler there exited 1 (CI, a status-tracker stopped while it imported anyio).
    done = run(STOPPED_IN_A_CLASS_DEFINITION)
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


def test_a_sigterm_after_the_start_exits_0_through_the_cleanup() -> None:
    done = run(STOPPED_AFTER_THE_START)
    assert (done.returncode, done.stdout) == (0, "cleaned up\n"), done.stderr
