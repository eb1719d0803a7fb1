"""The optional fields of a parcel waiting at a pickup point (issue 16): what Packeta and InPost
tell their own customers, which a producer may send and a consumer must not need."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from orderpulse_schemas import NOTIFICATIONS, SHIPMENTS, examples
from orderpulse_schemas.notifications import AtPickupPointNotice
from orderpulse_schemas.shipments import ShipmentAtPickupPoint, ShipmentAtPickupPointData
from orderpulse_schemas.values import PickupPoint, PointKind

JSON_SCHEMAS = Path(__file__).parents[1] / "jsonschema"
NEW_DATA = ("card_accepted", "tracking_url", "storage_extension_url")
NEW_POINT = ("kind", "latitude", "longitude")
# An InPost Paczkomat as InPost's points API gives it, with InPost's six-digit code.
PACZKOMAT = {
    "carrier": "inpost",
    "tracking_number": "620500111222333444555666",
    "point": {
        "id": "KRA010M",
        "name": "Paczkomat KRA010M",
        "address": {
            "street": "ul. Józefa Dietla 64",
            "city": "Kraków",
            "postal_code": "31-039",
            "country": "PL",
        },
        "kind": "locker",
        "latitude": 50.05381,
        "longitude": 19.94339,
    },
    "pickup_code": "719305",
    "stored_until": "2026-11-12T10:15:00+01:00",
    "cash_on_delivery": {"amount": "149.99", "currency": "PLN"},
    "card_accepted": True,
    "tracking_url": "https://inpost.example.pl/sledzenie-przesylek?number=620500111222333444555666",
    "storage_extension_url": "https://inpost.example.pl/przedluz?number=620500111222333444555666",
}


def at_point(**data: Any) -> dict[str, Any]:
    """The example `shipment.at_pickup_point`, its data replaced as given."""
    message = copy.deepcopy(examples.load("shipments.v1", "shipment.at_pickup_point"))
    message["data"] = data
    return message


def test_an_inpost_paczkomat_carries_every_field_and_round_trips() -> None:
    event = SHIPMENTS.events.validate_python(at_point(**PACZKOMAT))
    assert isinstance(event, ShipmentAtPickupPoint)
    assert event.data.point.kind is PointKind.LOCKER and event.data.card_accepted is True
    assert event.data.model_dump(mode="json", exclude_none=True) == PACZKOMAT | {
        "point": PACZKOMAT["point"] | {"opening_hours": []}
    }


def test_the_packeta_example_is_a_counter_with_every_field() -> None:
    data = examples.load("shipments.v1", "shipment.at_pickup_point")["data"]
    assert data["carrier"] == "zasilkovna" and data["point"]["kind"] == "counter"
    assert all(field in data for field in NEW_DATA)
    assert all(field in data["point"] for field in NEW_POINT)
    for kind in ("at_pickup_point", "pickup_reminder"):
        notice = examples.load("notifications.v1", f"notification.requested.{kind}")
        assert {k: v for k, v in notice["data"]["notice"].items() if k != "kind"} == data, kind


def test_every_new_field_is_optional_so_earlier_producers_still_count() -> None:
    data = {k: v for k, v in PACZKOMAT.items() if k not in NEW_DATA}
    data["point"] = {k: v for k, v in PACZKOMAT["point"].items() if k not in NEW_POINT}
    event = SHIPMENTS.events.validate_python(at_point(**data))
    assert isinstance(event, ShipmentAtPickupPoint)
    assert event.data.point.kind is None and event.data.point.latitude is None
    assert (event.data.tracking_url, event.data.card_accepted) == (None, None)


def test_a_notice_has_the_event_s_fields() -> None:
    assert set(ShipmentAtPickupPointData.model_fields) <= set(AtPickupPointNotice.model_fields)
    notice = AtPickupPointNotice.model_validate(PACZKOMAT | {"kind": "pickup_reminder"})
    assert str(notice.storage_extension_url) == PACZKOMAT["storage_extension_url"]


@pytest.mark.parametrize(
    ("point", "wrong"),
    [
        ({"latitude": 50.05}, "latitude and longitude come together"),
        ({"longitude": 19.94}, "latitude and longitude come together"),
        ({"latitude": 91.0, "longitude": 19.94}, "less than or equal to 90"),
        ({"latitude": 50.05, "longitude": -181.0}, "greater than or equal to -180"),
        ({"kind": "parcel_shop"}, "'locker' or 'counter'"),
    ],
)
def test_a_point_must_be_on_the_map_and_of_a_known_kind(point: dict[str, Any], wrong: str) -> None:
    base = {k: v for k, v in PACZKOMAT["point"].items() if k not in NEW_POINT}
    with pytest.raises(ValidationError, match=wrong):
        PickupPoint.model_validate(base | point)


@pytest.mark.parametrize("field", ["tracking_url", "storage_extension_url"])
def test_links_must_be_web_addresses(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        ShipmentAtPickupPointData.model_validate(PACZKOMAT | {field: "call the depot"})


@pytest.mark.parametrize("topic", [SHIPMENTS, NOTIFICATIONS], ids=lambda t: t.name)
def test_the_exported_schema_describes_the_new_fields(topic: Any) -> None:
    schema = json.loads((JSON_SCHEMAS / f"{topic.name}.json").read_text(encoding="utf-8"))
    definitions = schema["$defs"]
    point = definitions["PickupPoint"]["properties"]
    assert all(point[field].get("description") for field in NEW_POINT)
    assert [
        k for k in point if k in NEW_POINT and k in definitions["PickupPoint"].get("required", [])
    ] == []
    holders = [d for d in definitions.values() if "pickup_code" in d.get("properties", {})]
    assert holders
    for holder in holders:
        assert all(holder["properties"][field].get("description") for field in NEW_DATA)
        assert not set(NEW_DATA) & set(holder.get("required", []))


# --- issue 17: InPost and Packeta tracking feeds carry no code, the carrier sends it itself ---


def test_without_a_code_the_parcel_still_waits_and_the_notice_carries_none() -> None:
    data = {k: v for k, v in PACZKOMAT.items() if k != "pickup_code"}
    event = SHIPMENTS.events.validate_python(at_point(**data))
    assert isinstance(event, ShipmentAtPickupPoint) and event.data.pickup_code is None
    assert "pickup_code" not in event.data.model_dump(mode="json", exclude_none=True)
    notice = AtPickupPointNotice.model_validate(
        event.data.model_dump() | {"kind": "pickup_reminder"}
    )
    assert notice.pickup_code is None


@pytest.mark.parametrize(("code", "wrong"), [("", "at least 1"), ("7" * 41, "at most 40")])
def test_a_code_given_must_still_be_one(code: str, wrong: str) -> None:
    for model in (ShipmentAtPickupPointData, AtPickupPointNotice):
        with pytest.raises(ValidationError, match=wrong):
            model.model_validate(PACZKOMAT | {"pickup_code": code})


@pytest.mark.parametrize("topic", [SHIPMENTS, NOTIFICATIONS], ids=lambda t: t.name)
def test_the_exported_schema_makes_the_code_optional_and_says_what_then(topic: Any) -> None:
    schema = json.loads((JSON_SCHEMAS / f"{topic.name}.json").read_text(encoding="utf-8"))
    holders = [d for d in schema["$defs"].values() if "pickup_code" in d.get("properties", {})]
    assert holders
    for holder in holders:
        assert "pickup_code" not in holder.get("required", [])
        assert (
            "sends the code to the customer itself"
            in holder["properties"]["pickup_code"]["description"]
        )
