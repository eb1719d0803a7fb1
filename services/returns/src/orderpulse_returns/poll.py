"""What one poll changes and asks for: every event decided in turn, from the orders as loaded.
Pure: no I/O.

An event handled before (or earlier in the same poll) changes nothing. A return event of an
order whose arrival was not heard yet is kept, and answered when the order arrives, in the order
the events came. An arrival of an order heard of already changes nothing either: the period runs
from the first arrival. An arrival sent before its customer's erasure is kept without the
customer: never written to.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from orderpulse_kit.erasure import Arriving
from orderpulse_returns.lifecycle import (
    RECEIVED,
    ReturnsOrder,
    ask_for_review,
    received,
    remind,
    returned,
)
from orderpulse_returns.shops import ReturnsPolicy
from orderpulse_returns.store import Effects, Loaded, OrderKey
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.returns import ReturnEvent
from orderpulse_schemas.status import OrderStatusChanged

Step = OrderStatusChanged | ReturnEvent
"""An event that moves an order: its arrival, or a step of one of its returns."""
_RETURN_EVENT: TypeAdapter[ReturnEvent] = TypeAdapter(ReturnEvent)


@dataclass
class Decided:
    """A poll's effects, and the notification requests to publish before they are written."""

    effects: Effects = field(default_factory=Effects)
    requests: list[NotificationRequested] = field(default_factory=list)


def order_of(event: Step) -> OrderKey:
    """The (shop id, order id) an event is about."""
    return event.shopid, event.subject


def customer_of(event: Step) -> Arriving | None:
    """The personal data an arrival brings, for the suppression list."""
    if not isinstance(event, OrderStatusChanged) or event.data.customer is None:
        return None
    customer = event.data.customer
    return Arriving(event.shopid, event.subject, customer.email, customer.phone, event.time)


def decide_poll(
    loaded: Loaded, events: Sequence[Step], policies: Mapping[str, ReturnsPolicy]
) -> Decided:
    """The effects of `events`, in order, on the orders in `loaded`; events of shops without a
    returns policy pass."""
    decided = Decided()
    seen = set(loaded.seen)
    working = dict(loaded.orders)
    early: dict[OrderKey, list[ReturnEvent]] = {}
    """Return events of this poll about orders not received yet."""
    for event in events:
        key, policy = order_of(event), policies.get(event.shopid)
        if (event.shopid, event.id) in seen or policy is None:
            continue
        order = working.get(key)
        if isinstance(event, OrderStatusChanged):
            if event.data.status not in RECEIVED or order is not None:
                continue  # the period runs from the first arrival we were told of
            if (event.shopid, event.id) in loaded.erased:
                event = event.model_copy(
                    update={"data": event.data.model_copy(update={"customer": None})}
                )
            decision = received(event, policy)
            for row_id, kept in loaded.waiting.get(key, []):
                decision = decision.then(returned(decision.order, _returned(kept), policy))
                decided.effects.consumed.append(row_id)
            for step in early.pop(key, []):
                decision = decision.then(returned(decision.order, step, policy))
        elif order is None:
            early.setdefault(key, []).append(event)
            decision = None
        else:
            decision = returned(order, event, policy)
        seen.add((event.shopid, event.id))
        decided.effects.seen.append((event.shopid, event.id))
        if decision is not None:
            working[key] = decision.order
            decided.requests += decision.requests
    for key, kept_events in early.items():
        decided.effects.kept += [(key, e.model_dump(mode="json")) for e in kept_events]
    _changes(decided.effects, loaded, working)
    return decided


def decide_reminders(
    loaded: Loaded, now: datetime, policies: Mapping[str, ReturnsPolicy]
) -> Decided:
    """The reminders and review requests due at `now` of the orders in `loaded` (those of
    shops with a policy)."""
    decided = Decided()
    working = dict(loaded.orders)
    for key, order in loaded.orders.items():
        policy = policies.get(key[0])
        if policy is not None:
            decision = remind(order, now, policy)
            decision = decision.then(ask_for_review(decision.order, now, policy))
            working[key] = decision.order
            decided.requests += decision.requests
    _changes(decided.effects, loaded, working)
    return decided


def _changes(effects: Effects, loaded: Loaded, working: Mapping[OrderKey, ReturnsOrder]) -> None:
    """The orders to write: new ones, and those that changed since they were loaded."""
    for key, order in working.items():
        before = loaded.orders.get(key)
        if before is None:
            effects.received.append(order)
        elif order != before:
            effects.changed.append(order)


def _returned(kept: Any) -> ReturnEvent:
    return _RETURN_EVENT.validate_python(kept)
