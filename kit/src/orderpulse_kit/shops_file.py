"""Reading the shops file, and saying what is wrong with it in the file's own terms.

A pydantic dump (`shops.kvetinac-cz.mesaging  Extra inputs are not permitted [type=...]`) is hard
to act on at 2 a.m.; these lines name the file, the shop and the key, and for a misspelt key the
one that was meant. YAML quietly keeps the last of two equal keys, so a shop pasted twice and not
renamed would lose the first: here a repeated key is a mistake too.
"""

import difflib
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

_MERGE = "tag:yaml.org,2002:merge"


class ShopsFileError(ValueError):
    """The shops file is missing or wrong: one line per mistake, `<file>: shop <id>: <what>`."""

    def __init__(self, path: Path, mistakes: list[str]) -> None:
        self.path, self.mistakes = path, mistakes
        super().__init__("\n".join(f"{path}: {mistake}" for mistake in mistakes))

    @classmethod
    def at(cls, path: Path, shop: str, key: str, problem: str) -> "ShopsFileError":
        """One mistake in one shop's `key`, for a check a service makes beyond the model."""
        return cls(path, [f"shop {shop}: {key}: {problem}"])


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a mapping that gives one key twice."""


def _unique_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
    seen = set()
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE:
            if key.value in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"key {key.value!r} appears twice", problem_mark=key.start_mark
                )
            seen.add(key.value)
    yield from loader.construct_yaml_map(node)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", _unique_keys)


def read_yaml(path: Path) -> Any:
    """The file's YAML, with a repeated key an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ShopsFileError(path, ["no such file (see the service's …_SHOPS_FILE)"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ShopsFileError(path, [f"cannot be read: {error}"]) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or error
        raise ShopsFileError(path, [f"{where}not valid YAML: {problem}"]) from None


def mistakes(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """Each of pydantic's errors about the file `model` describes as one line for an engineer."""
    return [_mistake(detail, model) for detail in error.errors(include_url=False)]


def _mistake(detail: ErrorDetails, model: type[BaseModel]) -> str:
    path, shown, shop = detail["loc"], detail["loc"], ""
    if len(path) >= 2 and path[0] == "shops":
        shown, shop = path[2:], f"shop {path[1]}: "
    key, kind = _dotted(shown), detail["type"]
    if not path:
        return "expected `shops:` at the top, a mapping of shop id to settings"
    if kind == "extra_forbidden":
        meant = difflib.get_close_matches(str(path[-1]), _keys_at(model, path[:-1]), n=1)
        hint = f" (did you mean {_dotted((*shown[:-1], *meant))!r}?)" if meant else ""
        return f"{shop}unknown key {key!r}{hint}"
    if kind == "missing":
        return f"{shop}missing key {key!r}"
    problem, value = detail["msg"].removeprefix("Value error, "), detail["input"]
    if kind in ("model_type", "dict_type"):
        problem = "expected a mapping of keys"
    if kind != "value_error" and (value is None or isinstance(value, str | int | float)):
        problem += f" (got {value!r})"
    return f"{shop}{key}: {problem}" if key else f"{shop}{problem}"


def _dotted(path: tuple[int | str, ...]) -> str:
    return "".join(
        f"[{step}]" if isinstance(step, int) else f".{step}" for step in path
    ).removeprefix(".")


def _keys_at(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    """The keys `model` takes where `path` leads (none if it leads to no model)."""
    annotation: Any = model
    for step in path:
        annotation = _unwrap(annotation)
        if _is_model(annotation):
            field = annotation.model_fields.get(step)
            if field is None:
                return []
            annotation = field.annotation
        elif get_args(annotation):  # list[X] by index, dict[str, X] by key
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    return list(annotation.model_fields) if _is_model(annotation) else []


def _unwrap(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, types.UnionType):
        annotation, *_ = (arg for arg in get_args(annotation) if arg is not type(None))
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
