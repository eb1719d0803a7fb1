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


def test_review_requests_are_off_unless_a_shop_turns_them_on(tmp_path: Path) -> None:
    assert not load_policies(SHOPS_FILE)["kvetinac-cz"].reviews.enabled
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    link = "https://obchody.heureka.cz/kvetinac-cz/recenze/"
    shops["shops"]["kvetinac-cz"]["reviews"] = {"enabled": True, "days_after": 10, "link": link}
    reviews = load_policies(written(tmp_path, shops))["kvetinac-cz"].reviews
    assert (reviews.enabled, reviews.days_after, str(reviews.link)) == (True, 10, link)


@pytest.mark.parametrize(
    ("reviews", "problem"),
    [
        ({"enabled": True}, "review requests need `link`"),
        ({"enabled": True, "days_after": 0, "link": "https://g.page/r/x"}, "greater than or equal"),
        ({"enable": True}, "unknown key 'reviews.enable' (did you mean 'reviews.enabled'?)"),
    ],
    ids=["no-link", "no-delay", "misspelt"],
)
def test_a_wrong_reviews_section_stops_the_service(
    tmp_path: Path, reviews: dict[str, Any], problem: str
) -> None:
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shops["shops"]["kvetinac-cz"]["reviews"] = reviews
    with pytest.raises(ShopsFileError, match="shop kvetinac-cz: ") as raised:
        load_policies(written(tmp_path, shops))
    assert problem in str(raised.value)


def test_review_requests_of_a_shop_without_returns_stop_the_service(tmp_path: Path) -> None:
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shop = shops["shops"]["kvetinac-cz"]
    del shop["returns"]
    shop["reviews"] = {"enabled": True, "link": "https://g.page/r/x"}
    path = written(tmp_path, shops)
    with pytest.raises(ShopsFileError) as raised:
        load_policies(path)
    assert str(raised.value) == (
        f"{path}: shop kvetinac-cz: reviews: review requests are timed by the returns "
        "service: add `returns`"
    )
