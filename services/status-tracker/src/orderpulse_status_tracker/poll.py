"""What one poll changes: every fact decided in turn, from the orders as loaded. Pure: no I/O.

A fact already processed (before, or earlier in the same poll) changes nothing. A fact about an
order not known yet is kept, and applied when the order arrives, in the order the facts came. An
order whose customer was erased after it was sent is kept without the customer: never greeted.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter

from orderpulse_kit.erasure import Arriving
from orderpulse_schemas.orders import OrderAccepted
from orderpulse_status_tracker.facts import EventFact, EventFacts, Fact, Outcome, TimerFired
from orderpulse_status_tracker.lifecycle import Decision, decide
from orderpulse_status_tracker.messages import Topics
from orderpulse_status_tracker.policy import ShopPolicy
from orderpulse_status_tracker.store import Effects, Loaded, OrderKey, Stored
from orderpulse_status_tracker.timers import timers_for

_EARLY: TypeAdapter[EventFacts] = TypeAdapter(EventFact)


def order_of(fact: Fact) -> OrderKey:
    """The (shop id, order id) a fact is about."""
    if isinstance(fact, TimerFired):
        return fact.shop_id, fact.order_id
    return fact.shopid, fact.subject


def customer_of(fact: OrderAccepted) -> Arriving:
    """The personal data an accepted order brings, for the suppression list."""
    customer = fact.data.customer
    return Arriving(fact.shopid, fact.subject, customer.email, customer.phone, fact.time)


def decide_poll(
    loaded: Loaded,
    facts: Sequence[Fact],
    heard: Iterable[Outcome],
    policies: Mapping[str, ShopPolicy],
    topics: Topics,
    set_aside: list[tuple[EventFacts, Exception]] | None = None,
) -> Effects:
    """The effects of `facts`, in order, on the orders in `loaded` (left as they were).

    A fact that came before its order and cannot be applied to it (say, a delivery expected on
    31 December 9999: the day after, when it is overdue, is beyond the calendar) is left out, and
    added to `set_aside` with the error, to be dead-lettered: the order must not fail with it.
    """
    effects = Effects(outcomes=list(heard))
    seen = set(loaded.processed)
    working: dict[OrderKey, Stored] = {}
    waiting: dict[OrderKey, list[EventFacts]] = {}
    """Facts of this poll about orders not known yet."""
    for fact in facts:
        key = order_of(fact)
        if (key[0], fact.id) in seen:
            continue  # a redelivery or a duplicate: its effects are saved
        seen.add((key[0], fact.id))
        effects.processed.append((key[0], fact.id))
        stored = working.get(key) or replace(loaded.orders.get(key) or Stored())
        working[key] = stored
        if stored.order is None and not isinstance(fact, OrderAccepted):
            assert not isinstance(fact, TimerFired)  # timers exist only for known orders
            waiting.setdefault(key, []).append(fact)
            continue
        if isinstance(fact, OrderAccepted) and (key[0], fact.id) in loaded.erased:
            fact = _without_customer(fact)
        policy = policies.get(key[0], ShopPolicy())
        decision = decide(stored.order, fact, policy, topics)
        if stored.order is None:  # the order arrived: apply what came before it
            aside = [] if set_aside is None else set_aside
            for row_id, early in stored.early:
                decision = _then_early(decision, _fact(early), policy, topics, aside)
                effects.consumed_early.append(row_id)
            for early_fact in waiting.pop(key, []):
                decision = _then_early(decision, early_fact, policy, topics, aside)
            stored.early = []
        stored.order = decision.order
        effects.outgoing += decision.outgoing
    for key, stored in working.items():
        effects.orders[key] = (stored.version, stored.order)
        before = loaded.orders.get(key) or Stored()
        if stored.order is not None:
            _retime(
                effects, key, before, timers_for(stored.order, policies.get(key[0], ShopPolicy()))
            )
    for key, kept in waiting.items():
        effects.kept_early += [(key, fact.model_dump(mode="json")) for fact in kept]
    return effects


def _without_customer(fact: OrderAccepted) -> OrderAccepted:
    """The order as if its customer had been erased once it was kept: an order without a
    customer, whom no message greets (the contract requires one, so no validation here)."""
    return fact.model_copy(update={"data": fact.data.model_copy(update={"customer": None})})


def _then(first: Decision, second: Decision) -> Decision:
    return replace(second, outgoing=first.outgoing + second.outgoing)


def _then_early(
    first: Decision,
    early: EventFacts,
    policy: ShopPolicy,
    topics: Topics,
    set_aside: list[tuple[EventFacts, Exception]],
) -> Decision:
    """`first`, then a fact that came before its order, unless applying it (or setting the
    timers it asks for) fails: then it is set aside with the error, and `first` stands."""
    try:
        then = decide(first.order, early, policy, topics)
        if then.order is not None:
            timers_for(then.order, policy)
    except Exception as error:  # deciding is pure: whatever fails is this fact's
        set_aside.append((early, error))
        return first
    return _then(first, then)


def _fact(early: dict[str, Any]) -> EventFacts:
    return _EARLY.validate_python(early)


def _retime(effects: Effects, key: OrderKey, before: Stored, wanted: Mapping[Any, Any]) -> None:
    """Only the timers that changed are written: added, moved or no longer wanted."""
    for kind, due in wanted.items():
        if before.timers.get(kind) != due:
            effects.timers_set[(*key, kind)] = due
    for kind in before.timers.keys() - wanted.keys():
        effects.timers_dropped.append((*key, kind))
