"""What the JSON-speaking carrier modules (PPL, DPD, GLS, Česká pošta) share: reading an answer
into plain values, local times made timezone-aware, and a collection told apart from a delivery.

Every error raised here is an `UnreadablePayload` naming the field, never its value: answers hold
names, addresses and phone numbers.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation

from orderpulse_couriers.reports import Milestone, Report, UnreadablePayload


def load_json(payload: bytes, answer: str) -> object:
    """The decoded JSON of `payload`, numbers with a fraction as Decimals; `answer` names it in
    errors ("PPL answer")."""
    try:
        return json.loads(payload, parse_float=Decimal)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise UnreadablePayload(f"{answer} is not JSON") from None


def as_object(value: object, what: str) -> Mapping[str, object]:
    """`value` as a JSON object, or an error naming `what` it should have been."""
    if not isinstance(value, dict):
        raise UnreadablePayload(f"{what} is not a JSON object")
    return value


def as_list(value: object, what: str) -> list[object]:
    """`value` as a JSON array; a missing (null) array is an empty one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnreadablePayload(f"{what} is not a JSON array")
    return value


def text(fields: Mapping[str, object], key: str) -> str | None:
    """The field as trimmed text (numbers too: carriers send codes as either); None if absent,
    blank or of another type."""
    value = fields.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def amount(fields: Mapping[str, object], key: str, what: str) -> Decimal | None:
    """A money field as a Decimal (JSON numbers are read as Decimals, 0.1 stays 0.1); None if
    absent."""
    value = text(fields, key)
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise UnreadablePayload(f"{what} is not a number") from None


def iso_moment(value: str | None, zone: tzinfo, what: str) -> datetime:
    """An ISO 8601 time; one without an offset is the carrier's local time in `zone`."""
    if value is None:
        raise UnreadablePayload(f"{what} is missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UnreadablePayload(f"{what} is not ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def iso_day(value: str, what: str) -> date:
    """An ISO 8601 day ("2026-12-03")."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnreadablePayload(f"{what} is not an ISO 8601 date") from None


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """A "stored until" day: the parcel waits through its end, local time."""
    return datetime.combine(day, time(23, 59, 59), zone)


def collected_at_point(reports: Iterable[Report], *, to_point: bool = False) -> list[Report]:
    """A delivery after the parcel waited at a pickup point (or of a parcel sent to one,
    `to_point`) is the customer collecting it: these carriers say "delivered" for both."""
    out: list[Report] = []
    at_point = to_point
    for report in reports:
        at_point = at_point or report.milestone is Milestone.AT_PICKUP_POINT
        if at_point and report.milestone is Milestone.DELIVERED:
            report = replace(report, milestone=Milestone.PICKED_UP)
        out.append(report)
    return out
