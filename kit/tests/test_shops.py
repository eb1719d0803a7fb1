"""The shops file: the deployed one loads, and every mistake is named by file, shop and key."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from orderpulse_kit.shops import load_shops
from orderpulse_kit.shops_file import ShopsFileError

DEPLOYED = Path(__file__).resolve().parents[2] / "deploy" / "shops.yaml"


def deployed() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEPLOYED.read_text(encoding="utf-8"))
    return loaded


def written(tmp_path: Path, shops: dict[str, Any]) -> Path:
    path = tmp_path / "shops.yaml"
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return path


def mistakes_in(path: Path) -> list[str]:
    with pytest.raises(ShopsFileError) as raised:
        load_shops(path)
    assert str(raised.value) == "\n".join(f"{path}: {m}" for m in raised.value.mistakes)
    return raised.value.mistakes


def test_the_deployed_file_loads_with_every_section() -> None:
    shop = load_shops(DEPLOYED)["kvetinac-cz"]
    assert shop.messaging.quiet_hours is not None
    assert shop.tracking.pickup_reminder_hours == 24
    assert shop.returns is not None and shop.returns.merge_with_delivered is False


def test_a_misspelt_key_of_a_shop_is_named_with_the_file_and_the_shop(tmp_path: Path) -> None:
    shops = deployed()
    shop = shops["shops"]["kvetinac-cz"]
    shop["mesaging"] = shop.pop("messaging")
    path = written(tmp_path, shops)
    with pytest.raises(ShopsFileError) as raised:
        load_shops(path)
    assert str(raised.value) == (
        f"{path}: shop kvetinac-cz: unknown key 'mesaging' (did you mean 'messaging'?)"
    )


def test_a_misspelt_key_deeper_down_is_named_by_its_whole_path(tmp_path: Path) -> None:
    shops = deployed()
    messaging = shops["shops"]["kvetinac-cz"]["messaging"]
    messaging["quite_hours"] = messaging.pop("quiet_hours")
    shops["shops"]["kvetinac-cz"]["contact"]["hours"][1]["open"] = "09:00"
    assert mistakes_in(written(tmp_path, shops)) == [
        "shop kvetinac-cz: unknown key 'contact.hours[1].open' (did you mean "
        "'contact.hours[1].opens'?)",
        "shop kvetinac-cz: unknown key 'messaging.quite_hours' (did you mean "
        "'messaging.quiet_hours'?)",
    ]


def test_a_misspelt_key_at_the_top_is_named(tmp_path: Path) -> None:
    shops = deployed()
    assert mistakes_in(written(tmp_path, {"shop": shops["shops"]})) == [
        "missing key 'shops'",
        "unknown key 'shop' (did you mean 'shops'?)",
    ]
    assert mistakes_in(written(tmp_path, {**shops, "version": 1})) == ["unknown key 'version'"]


def test_a_wrong_value_is_named_with_what_was_given(tmp_path: Path) -> None:
    shops = deployed()
    shop = shops["shops"]["kvetinac-cz"]
    shop["time_zone"] = "Europe/Prag"
    shop["messaging"]["sms_max_segments"] = 0
    shop["tracking"]["notify"].append("order_dispached")
    del shop["sender"]["email"]
    assert mistakes_in(written(tmp_path, shops)) == [
        "shop kvetinac-cz: time_zone: unknown time zone 'Europe/Prag' (e.g. 'Europe/Prague')",
        "shop kvetinac-cz: missing key 'sender.email'",
        "shop kvetinac-cz: tracking.notify: unknown message kind 'order_dispached' "
        "(did you mean 'order_dispatched'?)",
        "shop kvetinac-cz: messaging.sms_max_segments: "
        "Input should be greater than or equal to 1 (got 0)",
    ]


def test_a_shop_given_twice_is_a_mistake_not_the_last_one_wins(tmp_path: Path) -> None:
    text = DEPLOYED.read_text(encoding="utf-8")
    body = text.split("shops:\n", 1)[1]
    path = tmp_path / "shops.yaml"
    path.write_text(text + body, encoding="utf-8")
    (mistake,) = mistakes_in(path)
    assert mistake.endswith("not valid YAML: key 'kvetinac-cz' appears twice")


def test_a_missing_or_empty_file_is_named(tmp_path: Path) -> None:
    assert mistakes_in(tmp_path / "nowhere.yaml") == [
        "no such file (see the service's …_SHOPS_FILE)"
    ]
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    assert mistakes_in(empty) == ["expected `shops:` at the top, a mapping of shop id to settings"]
    assert mistakes_in(written(tmp_path, {"shops": {"kvetinac-cz": None}})) == [
        "shop kvetinac-cz: expected a mapping of keys (got None)"
    ]
