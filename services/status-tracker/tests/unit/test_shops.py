"""The shops file as the tracker reads it: its `tracking` part, and one flag of `returns`."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from orderpulse_kit.shops_file import ShopsFileError
from orderpulse_status_tracker.app import build_app
from orderpulse_status_tracker.policy import ALL_KINDS
from orderpulse_status_tracker.settings import Settings
from orderpulse_status_tracker.shops import load_policies

from ..stories import home_journey, pickup_journey
from .test_lifecycle import Run

DEPLOYED = Path(__file__).resolve().parents[4] / "deploy" / "shops.yaml"


def shops_file(
    tmp_path: Path, change: Callable[[dict[str, Any]], object] = lambda shop: None
) -> Path:
    """The deployed file, its example shop announcing every kind, then changed by `change`."""
    shops = yaml.safe_load(DEPLOYED.read_text(encoding="utf-8"))
    shop = shops["shops"]["kvetinac-cz"]
    del shop["tracking"]
    change(shop)
    path = tmp_path / "shops.yaml"
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return path


def test_a_shop_whose_returns_merge_the_arrival_news_does_not_announce_it(tmp_path: Path) -> None:
    merged = shops_file(tmp_path, lambda shop: shop["returns"].update(merge_with_delivered=True))
    policy = load_policies(merged)["kvetinac-cz"]
    assert policy.notify == ALL_KINDS - {"delivered", "picked_up"}
    home = Run(policy).apply(*home_journey())
    assert home.statuses[-1] == "delivered"  # returns still learns of it
    assert "delivered" not in home.notices
    pickup = Run(policy).apply(*pickup_journey())
    assert pickup.statuses[-1] == "picked_up"
    assert pickup.notices == ["order_accepted", "order_dispatched", "at_pickup_point"]


def test_a_shop_whose_returns_do_not_merge_announces_the_arrival(tmp_path: Path) -> None:
    separate = shops_file(tmp_path, lambda shop: shop["returns"].update(merge_with_delivered=False))
    assert load_policies(separate)["kvetinac-cz"].notify == ALL_KINDS
    unset = shops_file(tmp_path, lambda shop: shop["returns"].pop("merge_with_delivered"))
    assert load_policies(unset)["kvetinac-cz"].notify == ALL_KINDS
    no_returns = shops_file(tmp_path, lambda shop: shop.pop("returns"))
    assert load_policies(no_returns)["kvetinac-cz"].notify == ALL_KINDS


def test_merging_drops_the_arrival_from_a_shop_s_own_list(tmp_path: Path) -> None:
    def choose(shop: dict[str, Any]) -> None:
        shop["tracking"] = {"notify": ["order_dispatched", "delivered", "picked_up"]}
        shop["returns"]["merge_with_delivered"] = True

    chosen = shops_file(tmp_path, choose)
    assert load_policies(chosen)["kvetinac-cz"].notify == {"order_dispatched"}


def test_the_deployed_shops_file_loads() -> None:
    assert "kvetinac-cz" in load_policies(DEPLOYED)


def test_a_misspelt_key_stops_the_tracker_at_start_up(tmp_path: Path) -> None:
    path = shops_file(tmp_path, lambda shop: shop.update(trackng={"notify": ["delivered"]}))
    settings = Settings(shops_file=path, database_url="sqlite+aiosqlite://")
    with pytest.raises(ShopsFileError) as raised:
        build_app(settings)
    assert str(raised.value) == (
        f"{path}: shop kvetinac-cz: unknown key 'trackng' (did you mean 'tracking'?)"
    )
