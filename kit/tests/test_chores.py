"""`chores.every`: a periodic chore runs while the app runs, survives a failed round, and stops
with the app."""

import asyncio

import pytest
from faststream import TestApp
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, TestKafkaBroker

from orderpulse_kit import chores


async def test_a_failed_round_is_logged_and_the_chore_runs_again_until_shutdown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    third_round = asyncio.Event()

    async def chore() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            third_round.set()
        if len(rounds) == 1:
            raise RuntimeError("the database is away")

    app = AsgiFastStream(KafkaBroker())
    chores.every(app, 0.01, chore, "counting rounds")

    async with TestKafkaBroker(app.broker), TestApp(app):
        async with asyncio.timeout(5):
            await third_round.wait()
    after_shutdown = len(rounds)
    await asyncio.sleep(0.05)

    assert len(rounds) == after_shutdown
    assert "counting rounds failed; trying again in 0.01 s" in caplog.text
    assert "the database is away" in caplog.text
