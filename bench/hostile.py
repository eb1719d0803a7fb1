"""Hostile records for the chaos run: contract-invalid events and bytes no consumer may choke on.

Generated events start as valid instances of a committed JSON Schema (schemas/jsonschema), drawn
by hypothesis-jsonschema leaf by leaf: its `from_schema` fails on this schema set's objects with
the installed hypothesis (`'many' object has no attribute 'more'`), so objects, arrays and
unions are composed here and only the leaves are its. Each is then made invalid in one way: a
required field missing, a field of the wrong type (an array or object for a scalar, a string for
an array or object: types pydantic cannot coerce), or a field wrapped in one more level of
nesting; the schema validator must reject the result, or it is drawn again.

Byte-level cases go with them: not JSON, invalid UTF-8, JSON nested deeper than any parser's
recursion limit, an empty value, and a record near the broker's size limit. Every hostile record
is keyed `chaos-<n>`, so its dead-letter copy (which keeps the key) can be found again.
"""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "jsonschema"
TOPIC_SCHEMAS = {
    "orders": "orders.v1",
    "shipments": "shipments.v1",
    "returns": "returns.v1",
    "erasure": "erasure-requests.v1",
    "notifications": "notifications.v1",
    "outcomes": "notification-outcomes.v1",
    "order_status": "order-status.v1",
}
"""The run's topic names → the schema of what they carry."""
MAX_LIST = 3
NEAR_LIMIT_BYTES = 1_000_000
"""A value just under the broker's 1 MiB default `message.max.bytes`: it gets in, but its
dead-letter copy with the reason's headers may not."""
DEEP = 100_000
"""Nesting depth of the deep JSON case, far past Python's recursion limit."""
BASES_PER_SCHEMA = 200
"""Valid instances drawn per schema; each is made invalid in several ways."""


@dataclass(frozen=True)
class Hostile:
    """One record to publish: its topic (a run topic name), key, value and how it was made."""

    topic: str
    key: bytes
    value: bytes
    kind: str


Schema = dict[str, Any]


def valid(schema: Schema, defs: Schema) -> st.SearchStrategy[Any]:
    """Valid instances of `schema` (within `defs`): objects, arrays and unions composed here,
    leaves drawn by hypothesis-jsonschema."""
    if "$ref" in schema:
        return valid(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    for union in ("oneOf", "anyOf"):
        if union in schema:
            return st.one_of([valid(option, defs) for option in schema[union]])
    if schema.get("type") == "object" and "properties" in schema:
        required = set(schema.get("required", ()))
        fields = {name: valid(sub, defs) for name, sub in schema["properties"].items()}
        return st.fixed_dictionaries(
            {name: fields[name] for name in required},
            optional={name: fields[name] for name in fields.keys() - required},
        )
    if schema.get("type") == "array" and "items" in schema:
        low = schema.get("minItems", 0)
        return st.lists(valid(schema["items"], defs), min_size=low, max_size=max(low, MAX_LIST))
    return from_schema(schema)


def variants(schema: Schema) -> list[Schema]:
    """The event schemas of a topic's schema: each `oneOf` option, or the schema itself."""
    defs = schema.get("$defs", {})
    options = schema.get("oneOf", [schema])
    return [defs[o["$ref"].rsplit("/", 1)[1]] if "$ref" in o else o for o in options]


def invalidate(event: dict[str, Any], variant: Schema, defs: Schema, rng: random.Random) -> str:
    """Break `event` (an instance of `variant`) in one random way, in place; which way."""
    target, schema = event, variant
    data = resolved(variant["properties"].get("data", {}), defs)
    if event.get("data") and data.get("required") and rng.random() < 0.5:
        target, schema = event["data"], data
    how = rng.choice(("missing", "wrong-type", "nested"))
    names = sorted(schema["required"])
    name = rng.choice(names)
    if how == "missing" or name not in target:
        target.pop(name, None)
        return "missing"
    if how == "wrong-type":
        value = target[name]
        target[name] = "chaos" if isinstance(value, dict | list) else [value, {"x": value}]
        return "wrong-type"
    target[name] = {"value": target[name]}
    return "nested"


def resolved(schema: Schema, defs: Schema) -> Schema:
    """`schema` with a top-level `$ref` followed."""
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def draw_bases(schema: Schema, count: int, at: int) -> list[tuple[Schema, dict[str, Any]]]:
    """`count` valid instances of `schema`'s event types (hypothesis, seed `at`), with the
    variant each belongs to."""
    defs = schema.get("$defs", {})
    strategy = st.one_of([st.tuples(st.just(v), valid(v, defs)) for v in variants(schema)])
    drawn: list[tuple[Schema, dict[str, Any]]] = []

    @seed(at)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(found: tuple[Schema, dict[str, Any]]) -> None:
        drawn.append(found)

    collect()
    return drawn


def generated(count: int, rng: random.Random, first: int) -> list[Hostile]:
    """`count` contract-invalid events spread over the topics, keyed from `chaos-<first>`."""
    per_topic = -(-count // len(TOPIC_SCHEMAS))
    records: list[Hostile] = []
    for index, (topic, name) in enumerate(TOPIC_SCHEMAS.items()):
        schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
        validator = Draft202012Validator(schema)
        defs = schema.get("$defs", {})
        bases = draw_bases(schema, BASES_PER_SCHEMA, rng.randrange(2**32) + index)
        made = 0
        while made < per_topic and len(records) < count:
            variant, base = bases[made % len(bases)]
            event = json.loads(json.dumps(base))
            kind = invalidate(event, variant, defs, rng)
            if validator.is_valid(event):
                continue
            key = f"chaos-{first + len(records)}".encode()
            value = json.dumps(event, ensure_ascii=False).encode()
            records.append(Hostile(topic, key, value, f"schema:{kind}"))
            made += 1
    return records


BYTES: dict[str, Callable[[], bytes]] = {
    "not-json": lambda: b"<order id=1>not JSON</order>",
    "invalid-utf8": lambda: b'{"id": "\xff\xfe\xc3\x28", "type": "order.accepted"}',
    "deep-json": lambda: b"[" * DEEP + b"]" * DEEP,
    "empty": lambda: b"",
    "near-size-limit": lambda: json.dumps({"chaos": "x" * NEAR_LIMIT_BYTES}).encode(),
}
"""Byte-level cases: none is a readable event, each must be dead-lettered."""


def byte_cases(rng: random.Random, first: int, rounds: int) -> list[Hostile]:
    """Each byte-level case `rounds` times on a random topic, keyed from `chaos-<first>`."""
    records = []
    for n in range(rounds * len(BYTES)):
        kind = list(BYTES)[n % len(BYTES)]
        topic = rng.choice(list(TOPIC_SCHEMAS))
        records.append(Hostile(topic, f"chaos-{first + n}".encode(), BYTES[kind](), kind))
    return records
