"""`batch.collect_for_polls`: once a service's app has started, what exists is out of the garbage
collector's walks and young objects are collected in poll-sized steps; not before."""

import subprocess
import sys
import textwrap

from orderpulse_kit.batch import YOUNG_OBJECTS

# In a process of its own: frozen objects are never freed, which this test process would keep.
SCRIPT = textwrap.dedent(
    """
    import asyncio, gc

    from faststream import TestApp
    from faststream.asgi import AsgiFastStream
    from faststream.kafka import KafkaBroker, TestKafkaBroker

    from orderpulse_kit.batch import collect_for_polls

    async def main() -> None:
        app = collect_for_polls(AsgiFastStream(KafkaBroker()))
        print(gc.get_threshold()[0], gc.get_freeze_count() > 0)
        async with TestKafkaBroker(app.broker), TestApp(app):
            print(gc.get_threshold()[0], gc.get_freeze_count() > 0)

    asyncio.run(main())
    """
)


def test_the_collector_is_set_for_polls_once_the_app_has_started() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.splitlines()
    assert before == "700 False"
    assert after == f"{YOUNG_OBJECTS} True"
