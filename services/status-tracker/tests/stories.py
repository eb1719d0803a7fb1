"""Facts for tracker tests: the example journeys (see `orderpulse_devkit.journeys`), parsed."""

from typing import Any

from pydantic import TypeAdapter

from orderpulse_devkit.journeys import event, home_journey, home_journey_for, later, pickup_journey
from orderpulse_status_tracker.facts import EventFact, Fact

__all__ = [
    "as_fact",
    "event",
    "fact",
    "home_journey",
    "home_journey_for",
    "later",
    "pickup_journey",
]

_FACT: TypeAdapter[Fact] = TypeAdapter(EventFact)


def fact(event_type: str, **changes: Any) -> Fact:
    """The example of `event_type`, changed as given, parsed as the tracker sees it."""
    return as_fact(event(event_type, **changes))


def as_fact(message: dict[str, Any]) -> Fact:
    """An event message parsed as the tracker sees it."""
    return _FACT.validate_python(message)
