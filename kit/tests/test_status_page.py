"""The status page's URL template: checked as the services start, each value quoted as filled in."""

from pathlib import Path

import pytest

from orderpulse_kit.shops import load_shops

from .test_shops import DEPLOYED, deployed, mistakes_in, written


def with_status_page(tmp_path: Path, template: object) -> Path:
    shops = deployed()
    shops["shops"]["kvetinac-cz"]["status_page"] = template
    return written(tmp_path, shops)


def test_the_deployed_shop_links_each_order_to_its_page() -> None:
    shop = load_shops(DEPLOYED)["kvetinac-cz"]
    assert shop.status_page_of("10045", "ord-10045") == (
        "https://kvetinac.example.cz/objednavka/10045"
    )


def test_the_order_number_is_url_quoted_as_one_path_segment(tmp_path: Path) -> None:
    path = with_status_page(tmp_path, "https://shop.cz/o/{order_number}?id={order_id}")
    shop = load_shops(path)["kvetinac-cz"]
    assert shop.status_page_of("2026/10 045#1", "ord&1") == (
        "https://shop.cz/o/2026%2F10%20045%231?id=ord%261"
    )


def test_a_shop_without_a_status_page_links_none(tmp_path: Path) -> None:
    shops = deployed()
    del shops["shops"]["kvetinac-cz"]["status_page"]
    assert load_shops(written(tmp_path, shops))["kvetinac-cz"].status_page_of("1", "o") is None


@pytest.mark.parametrize(
    ("template", "mistake"),
    [
        (
            "https://shop.cz/objednavka/{ordernumber}",
            "unknown placeholder {ordernumber} (did you mean {order_number}?); "
            "known: {order_number}, {order_id}",
        ),
        (
            "https://shop.cz/objednavka/{email}",
            "unknown placeholder {email}; known: {order_number}, {order_id}",
        ),
        (
            "https://shop.cz/objednavka/{}",
            "unknown placeholder {}; known: {order_number}, {order_id}",
        ),
        (
            "https://shop.cz/objednavka/{order_number:>8}",
            "placeholder {order_number} takes no format "
            "(e.g. https://shop.cz/objednavka/{order_number})",
        ),
        (
            "https://shop.cz/objednavka/{order_number",
            "not a URL template: expected '}' before end of string "
            "(e.g. https://shop.cz/objednavka/{order_number})",
        ),
        (
            "http://shop.cz/objednavka/{order_number}",
            "must be an https URL with its host written out "
            "(e.g. https://shop.cz/objednavka/{order_number})",
        ),
        (
            "https://{order_id}.shop.cz/",
            "must be an https URL with its host written out "
            "(e.g. https://shop.cz/objednavka/{order_number})",
        ),
        (
            "shop.cz/objednavka/{order_number}",
            "must be an https URL with its host written out "
            "(e.g. https://shop.cz/objednavka/{order_number})",
        ),
    ],
)
def test_a_wrong_template_stops_the_services_naming_the_mistake(
    tmp_path: Path, template: str, mistake: str
) -> None:
    assert mistakes_in(with_status_page(tmp_path, template)) == [
        f"shop kvetinac-cz: status_page: {mistake}"
    ]
