"""A service process that cannot reach Kafka when it starts must fail its liveness probe.

Its consumer never starts then, and nothing but a restart starts it: `/healthz` must say so (or
the process exit non-zero), or Kubernetes keeps the pod forever, not ready and never restarted.
Here Kafka's address is a port where nothing listens. That a consuming service answers 204 is
checked on the running services of test_journey.py.
"""

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from orderpulse_devkit.ports import free_port
from orderpulse_devkit.services import BRIDGES, MODULES, ServiceProcess, service_settings

WITHIN = 30.0
"""Seconds from the start by which the process must fail its probe; the probe allows 60."""
FAILURES = 3
"""Consecutive failed probes before Kubernetes restarts a container (`failureThreshold`)."""


@pytest.mark.parametrize("name", sorted({**MODULES, **BRIDGES}))
async def test_a_service_that_cannot_reach_kafka_fails_its_liveness_probe(
    name: str, tmp_path: Path
) -> None:
    service = ServiceProcess(
        name, service_settings(name, f"127.0.0.1:{free_port()}", tmp_path), tmp_path
    )
    service.start()
    try:
        answers = await probe_until(service, FAILURES)
    finally:
        code = service.stop()
    assert answers[-FAILURES:] == [503] * FAILURES or (answers[-1:] == ["exited"] and code != 0), (
        f"{name} answered {answers} on /healthz (exit code {code}):\n{service.log()}"
    )


async def probe_until(service: ServiceProcess, failures: int) -> list[int | str | None]:
    """/healthz every half second until `failures` 503s in a row, the process exits, or WITHIN."""
    port = next(value for key, value in service.env.items() if key.endswith("_HTTP_PORT"))
    url = f"http://127.0.0.1:{port}/healthz"
    answers: list[int | str | None] = []
    deadline = time.monotonic() + WITHIN
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while answers[-failures:] != [503] * failures and time.monotonic() < deadline:
            if not service.running:
                return [*answers, "exited"]
            try:
                async with session.get(url) as response:
                    answers.append(response.status)
            except aiohttp.ClientError:
                answers.append(None)  # not listening yet
            await asyncio.sleep(0.5)
    return answers
