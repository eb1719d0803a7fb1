"""Rows of a field table (path, type, required, description), read from a pydantic model.

Nested objects are flattened into dotted paths (`customer.consent.sms`), list items get `[]`
(`items[].name`), and the alternatives of a discriminated union are listed one after the other,
each row saying which alternative it belongs to.
"""

import json
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from inspect import isclass
from typing import Annotated, Any, Literal, NamedTuple, get_args, get_origin

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, EmailStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from orderpulse_schemas.catalogue import literal_values, members
from orderpulse_schemas.values import DelayReason

SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Decimal: "decimal as a string",
    date: "date `YYYY-MM-DD`",
    AwareDatetime: "date-time with UTC offset (RFC 3339)",
    datetime: "date-time (RFC 3339)",
    time: "time `HH:MM[:SS]`",
    EmailStr: "string: email address",
    AnyHttpUrl: "string: http(s) URL",
}
LINKED_ENUMS = {DelayReason: "[delay reason](#delay-reasons)"}
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


class Row(NamedTuple):
    """One line of a field table."""

    path: str
    type: str
    required: str
    description: str


def field_rows(
    model: type[BaseModel],
    prefix: str = "",
    *,
    tag: str | None = None,
    collapse: frozenset[str] = frozenset(),
) -> Iterator[Row]:
    """Every field of `model`, nested ones flattened; unions named in `collapse` stay folded.

    `tag` names the discriminator when `model` is one alternative of a union.
    """
    yield from _rows(model, prefix, "", tag, collapse)


def _rows(
    model: type[BaseModel], prefix: str, when: str, tag: str | None, collapse: frozenset[str]
) -> Iterator[Row]:
    """`tag` is set when `model` is one alternative of a union: its discriminator is required."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation, nullable = _without_none(info.annotation)
        shown = _type(annotation, info.metadata, info.discriminator)
        if nullable:
            shown += " or null"
        required = "yes" if name == tag else _required(info)
        yield Row(path, shown, required, (when + _description(info, annotation)).strip())
        inner, item_path = annotation, path
        if get_origin(annotation) is list:
            inner, item_path = get_args(annotation)[0], f"{path}[]"
        alternatives = members(inner)
        if len(alternatives) > 1 and info.discriminator and path not in collapse:
            key = str(info.discriminator)
            for choice in alternatives:
                note = f"*When `{item_path}.{key}` is {_tags(choice, key)}.* "
                yield from _rows(choice, f"{item_path}.", note, key, collapse)
        elif _is_model(inner):
            yield from _rows(inner, f"{item_path}.", when, None, collapse)


def _tags(choice: type[BaseModel], key: str) -> str:
    return " or ".join(f"`{tag}`" for tag in literal_values(choice, key))


def _without_none(annotation: Any) -> tuple[Any, bool]:
    options = members(annotation)
    if type(None) not in options:
        return annotation, False
    rest = [option for option in options if option is not type(None)]
    return (rest[0] if len(rest) == 1 else annotation), True


def _is_model(annotation: Any) -> bool:
    return isclass(annotation) and issubclass(annotation, BaseModel)


def _type(annotation: Any, metadata: list[Any], discriminator: Any = None) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        more = [m for e in extra for m in (e.metadata if isinstance(e, FieldInfo) else [e])]
        return _type(inner, [*metadata, *more], discriminator)
    if origin is Literal:
        return " or ".join(f'`"{value}"`' for value in get_args(annotation))
    if origin is list:
        least = _constraint(metadata, "min_length")
        items = f", at least {least}" if least else ""
        return f"array of {_type(get_args(annotation)[0], [])}{items}"
    if discriminator is not None and len(members(annotation)) > 1:
        return f"object, one of several by `{discriminator}`"
    if _is_model(annotation):
        return "object"
    if isclass(annotation) and issubclass(annotation, Enum):
        if annotation in LINKED_ENUMS:
            return f"string: a {LINKED_ENUMS[annotation]}"
        return "string: " + ", ".join(f"`{member.value}`" for member in annotation)
    return SCALARS.get(annotation, str(annotation)) + _constraints(metadata)


def _constraint(metadata: list[Any], name: str) -> Any:
    return next((getattr(m, name) for m in metadata if getattr(m, name, None) is not None), None)


def _constraints(metadata: list[Any]) -> str:
    least, most = _constraint(metadata, "min_length"), _constraint(metadata, "max_length")
    parts = []
    if least and most:
        parts.append(f"{least}–{most} characters")
    elif most:
        parts.append(f"at most {most} characters")
    elif least:
        parts.append("not empty" if least == 1 else f"at least {least} characters")
    if (ge := _constraint(metadata, "ge")) is not None:
        parts.append(f"≥ {_shown(ge)}")
    if (le := _constraint(metadata, "le")) is not None:
        parts.append(f"≤ {_shown(le)}")
    if (places := _constraint(metadata, "decimal_places")) is not None:
        parts.append(f"at most {places} decimals")
    if (pattern := _constraint(metadata, "pattern")) == E164_PATTERN:
        parts.append("E.164 phone number")
    elif pattern is not None:
        parts.append(f"pattern `{pattern}`")
    return f" ({', '.join(parts)})" if parts else ""


def _shown(bound: Any) -> str:
    """A bound as the JSON carries it: a date or moment in ISO 8601."""
    return bound.isoformat() if isinstance(bound, date | datetime) else str(bound)


def _required(info: FieldInfo) -> str:
    if info.is_required():
        return "yes"
    factory = info.default_factory
    default = factory() if factory is not None else info.default  # type: ignore[call-arg]
    if default is None or default is PydanticUndefined:
        return "no"
    shown = json.dumps(to_jsonable_python(default), ensure_ascii=False, separators=(", ", ": "))
    return f"no, default `{shown}`"


def _description(info: FieldInfo, annotation: Any) -> str:
    if info.description:
        return info.description
    if info.discriminator is not None and len(members(annotation)) > 1:
        key = str(info.discriminator)
        choices = (f"{_tags(c, key)}: {_first_line(c)}" for c in members(annotation))
        return f"By `{key}`. " + " ".join(choices)
    inner = get_args(annotation)[0] if get_origin(annotation) is list else annotation
    if isclass(inner) and issubclass(inner, BaseModel | Enum):
        return _first_line(inner)
    return ""


def _first_line(cls: type) -> str:
    return (cls.__doc__ or "").strip().split("\n", 1)[0]
