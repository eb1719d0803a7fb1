"""A poll whose handling fails: the record at fault is dead-lettered, the rest take effect."""

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError

from orderpulse_kit import isolation
from orderpulse_kit.isolation import Isolation


@dataclass
class Item:
    record: Any
    event: str


@dataclass
class Record:
    topic: str = "orders.v1"
    partition: int = 0
    offset: int = 0


class Secret(BaseModel):
    email: int


class Handler:
    def __init__(self, failing: dict[str, Exception]) -> None:
        self.failing, self.done, self.calls = failing, [], 0

    async def __call__(self, items: list[Item]) -> None:
        self.calls += 1
        for item in items:
            if item.event in self.failing:
                raise self.failing[item.event]
        self.done += [item.event for item in items]


def poll(*events: str) -> list[Item]:
    return [Item(Record(offset=n), event) for n, event in enumerate(events)]


@pytest.fixture
def dead() -> list[tuple[Any, str]]:
    return []


@pytest.fixture
def isolating(dead: list[tuple[Any, str]]) -> Isolation:
    async def dead_letter(record: Any, reason: str) -> None:
        dead.append((record, reason))

    return Isolation(dead_letter)


async def test_a_poll_that_succeeds_is_handled_once(
    isolating: Isolation, dead: list[tuple[Any, str]]
) -> None:
    handler = Handler({})
    await isolating.handle(poll("a", "b"), handler)
    assert (handler.calls, handler.done, dead) == (1, ["a", "b"], [])


async def test_the_record_at_fault_is_dead_lettered_and_the_others_handled(
    isolating: Isolation, dead: list[tuple[Any, str]]
) -> None:
    handler = Handler({"b": OverflowError("date value out of range")})
    await isolating.handle(poll("a", "b", "c"), handler)
    assert handler.done == ["a", "c"]
    assert [(record.offset, reason) for record, reason in dead] == [
        (1, "could not be handled: OverflowError: date value out of range")
    ]


async def test_a_validation_error_is_told_without_the_values(
    isolating: Isolation, dead: list[tuple[Any, str]]
) -> None:
    try:
        Secret.model_validate({"email": "petr.novak@example.cz"})
    except ValidationError as error:
        failure = error
    await isolating.handle(poll("a"), Handler({"a": failure}))
    [(_, reason)] = dead
    assert reason.startswith("could not be handled: ValidationError: email:")
    assert "petr" not in reason


async def test_an_infrastructure_failure_pauses_and_reads_the_poll_again(
    isolating: Isolation, dead: list[tuple[Any, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr(isolation.asyncio, "sleep", sleep)
    down = OperationalError("SELECT 1", {}, Exception("database is down"))
    for _ in range(8):
        with pytest.raises(OperationalError):
            await isolating.handle(poll("a", "b"), Handler({"a": down}))
    assert dead == []
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    await isolating.handle(poll("a"), Handler({}))  # back: the next failure pauses briefly again
    with pytest.raises(OperationalError):
        await isolating.handle(poll("a"), Handler({"a": down}))
    assert pauses[-1] == 0.5
