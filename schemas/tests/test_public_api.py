"""The package's public names: sorted, complete, and all importable from the top."""

import json
from pathlib import Path
from types import ModuleType

import pytest

import orderpulse_schemas
from orderpulse_schemas import examples, topics
from orderpulse_schemas.catalogue import UNIONS


def isort_order(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then everything else, each alphabetical."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted() -> None:
    assert orderpulse_schemas.__all__ == sorted(orderpulse_schemas.__all__, key=isort_order)


def test_all_is_complete() -> None:
    exported = set(orderpulse_schemas.__all__)
    public = {
        name
        for name, value in vars(orderpulse_schemas).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }

    assert public <= exported
    assert all(hasattr(orderpulse_schemas, name) for name in exported)
    assert {t for t, v in vars(topics).items() if isinstance(v, topics.Topic)} <= exported
    assert {"ALL_TOPICS", "CloudEvent", "Topic", "examples", "iter_examples"} <= exported
    unions = set(map(id, UNIONS.values()))
    assert unions == {id(getattr(orderpulse_schemas, name)) for name in exported} & unions


def test_examples_load_as_dict_and_as_compact_utf8_bytes() -> None:
    message = examples.load("orders.v1", "order.accepted")
    value = examples.load_bytes(topics.ORDERS, "order.accepted")

    assert message["data"]["customer"]["last_name"] == "Novák"
    assert json.loads(value) == message
    assert "Novák".encode() in value
    assert b"\n" not in value


def test_unknown_examples_say_what_is_missing() -> None:
    with pytest.raises(FileNotFoundError, match=r"no example orders\.v1/order\.shipped\.json"):
        examples.load("orders.v1", "order.shipped")
    with pytest.raises(LookupError, match="unknown topic"):
        examples.load("orders.v9", "order.accepted")


def test_packaged_examples_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = tmp_path / "_examples"
    (packaged / "orders.v1").mkdir(parents=True)
    (packaged / "orders.v1/order.accepted.json").write_text('{"packaged": true}')
    monkeypatch.setattr(examples, "PACKAGED", packaged)

    assert examples.directory() == packaged
    assert examples.load("orders.v1", "order.accepted") == {"packaged": True}
    assert [name for _, name, _ in examples.iter_examples()] == ["order.accepted"]


def test_without_packaged_examples_the_repository_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(examples, "PACKAGED", tmp_path / "absent")

    assert examples.directory() == examples.REPOSITORY
    monkeypatch.setattr(examples, "REPOSITORY", tmp_path / "absent too")
    with pytest.raises(FileNotFoundError, match="no examples in"):
        examples.directory()
