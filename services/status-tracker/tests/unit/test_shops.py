"""The shops file as the tracker reads it: its `tracking` part, and one flag of `returns`."""

from pathlib import Path

from orderpulse_status_tracker.policy import ALL_KINDS
from orderpulse_status_tracker.shops import load_policies

from ..stories import home_journey, pickup_journey
from .test_lifecycle import Run

DEPLOYED = Path(__file__).resolve().parents[4] / "deploy" / "shops.yaml"

# The returns service's own settings, which the tracker must let be.
RETURNS = """
    returns:
      period_days: 14
      methods: [pickup_point_dropoff, post]
      portal: https://kvetinac.example.cz/vraceni
      reminder_days_before: null
"""


def shops_file(tmp_path: Path, returns: str) -> Path:
    path = tmp_path / "shops.yaml"
    path.write_text(
        "shops:\n  kvetinac-cz:\n    time_zone: Europe/Prague\n" + returns, encoding="utf-8"
    )
    return path


def test_a_shop_whose_returns_merge_the_arrival_news_does_not_announce_it(tmp_path: Path) -> None:
    merged = shops_file(tmp_path, RETURNS + "      merge_with_delivered: true\n")
    policy = load_policies(merged)["kvetinac-cz"]
    assert policy.notify == ALL_KINDS - {"delivered", "picked_up"}
    home = Run(policy).apply(*home_journey())
    assert home.statuses[-1] == "delivered"  # returns still learns of it
    assert "delivered" not in home.notices
    pickup = Run(policy).apply(*pickup_journey())
    assert pickup.statuses[-1] == "picked_up"
    assert pickup.notices == ["order_accepted", "order_dispatched", "at_pickup_point"]


def test_a_shop_whose_returns_do_not_merge_announces_the_arrival(tmp_path: Path) -> None:
    separate = shops_file(tmp_path, RETURNS + "      merge_with_delivered: false\n")
    assert load_policies(separate)["kvetinac-cz"].notify == ALL_KINDS
    unset = shops_file(tmp_path, RETURNS)
    assert load_policies(unset)["kvetinac-cz"].notify == ALL_KINDS
    assert load_policies(shops_file(tmp_path, ""))["kvetinac-cz"].notify == ALL_KINDS


def test_merging_drops_the_arrival_from_a_shop_s_own_list(tmp_path: Path) -> None:
    chosen = """
    tracking:
      notify: [order_dispatched, delivered, picked_up]
    returns:
      merge_with_delivered: true
"""
    assert load_policies(shops_file(tmp_path, chosen))["kvetinac-cz"].notify == {"order_dispatched"}


def test_the_deployed_shops_file_loads() -> None:
    assert "kvetinac-cz" in load_policies(DEPLOYED)
