"""The shops file as the returns service reads it: its `returns` part, checked whole at start-up."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from orderpulse_kit.shops_file import ShopsFileError
from orderpulse_returns.app import build_app
from orderpulse_returns.settings import Settings
from orderpulse_returns.shops import load_policies

from ..conftest import SHOPS_FILE


def written(tmp_path: Path, shops: dict[str, Any]) -> Path:
    path = tmp_path / "shops.yaml"
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return path


def test_the_deployed_shop_takes_drop_offs_at_its_carrier_only() -> None:
    policy = load_policies(SHOPS_FILE)["kvetinac-cz"]
    assert policy.country == "CZ" and policy.period_days == 14
    assert policy.takes_dropoff_at("zasilkovna") and not policy.takes_dropoff_at("ppl")


def test_a_misspelt_returns_section_stops_the_service_at_start_up(tmp_path: Path) -> None:
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shop = shops["shops"]["kvetinac-cz"]
    shop["retuns"] = shop.pop("returns")  # once: a shop quietly without returns
    path = written(tmp_path, shops)
    with pytest.raises(ShopsFileError) as raised:
        build_app(Settings(shops_file=path, database_url="sqlite+aiosqlite://"))
    assert str(raised.value) == (
        f"{path}: shop kvetinac-cz: unknown key 'retuns' (did you mean 'returns'?)"
    )


def test_a_country_without_known_holidays_is_named_with_the_shop(tmp_path: Path) -> None:
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shops["shops"]["kvetinac-cz"]["country"] = "XX"
    path = written(tmp_path, shops)
    with pytest.raises(ShopsFileError) as raised:
        load_policies(path)
    assert str(raised.value) == (
        f"{path}: shop kvetinac-cz: country: no public holidays known for 'XX', "
        "so no return deadlines"
    )
