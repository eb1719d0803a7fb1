"""Which parcels dispatches follow and which points orders keep: pure, from the contract's
examples."""

from typing import Any

import pytest

from orderpulse_couriers.following import CARRIERS, follow
from orderpulse_couriers.store import Loaded, Stored
from orderpulse_schemas import examples
from orderpulse_schemas.orders import OrderAccepted
from orderpulse_schemas.shipments import ShipmentDispatched
from orderpulse_schemas.values import PickupPoint

POINT: dict[str, Any] = {
    "id": "KRA010M",
    "name": "Paczkomat KRA010M",
    "address": {
        "street": "Dietla 54",
        "city": "Kraków",
        "postal_code": "31-039",
        "country": "PL",
    },
    "kind": "locker",
}


def dispatched(carrier: str = "inpost", url: str | None = None, **env: Any) -> ShipmentDispatched:
    event = examples.load("shipments.v1", "shipment.dispatched")
    event["data"].update(carrier=carrier, tracking_number="602677439331630337653846")
    event["data"]["tracking_url"] = url
    event.update(env)
    return ShipmentDispatched.model_validate(event)


def accepted(**delivery: Any) -> OrderAccepted:
    event = examples.load("orders.v1", "order.accepted")
    event["subject"] = dispatched().subject
    event["data"]["delivery"] = delivery or {"method": "pickup_point", "point": POINT}
    return OrderAccepted.model_validate(event)


@pytest.mark.parametrize(
    ("code", "carrier"),
    [("zasilkovna", "packeta"), ("packeta", "packeta"), ("inpost", "inpost"), ("PPL", "ppl")],
)
def test_a_dispatch_of_a_known_carrier_follows_its_parcel(code: str, carrier: str) -> None:
    (parcel,) = follow(Loaded(), [dispatched(code)]).followed
    assert (parcel.carrier, parcel.tracking_number) == (carrier, "602677439331630337653846")
    assert (parcel.shop_id, parcel.order_id) == ("kvetinac-cz", "ord-10045")


def test_every_contract_code_names_a_carrier_module() -> None:
    from orderpulse_couriers.carriers import ceska_posta, dpd, gls, inpost, packeta, ppl

    modules = {m.CARRIER for m in (ceska_posta, dpd, gls, inpost, packeta, ppl)}
    assert set(CARRIERS.values()) == modules


def test_other_carriers_and_our_own_events_are_not_followed() -> None:
    ours = dispatched(source="/orderpulse/couriers/inpost")
    assert follow(Loaded(), [dispatched("fedex"), ours]).followed == []


def test_a_dispatch_heard_again_changes_nothing_and_a_new_url_changes_the_url() -> None:
    (parcel,) = follow(Loaded(), [dispatched(url="https://inpost.pl/a")]).followed
    loaded = Loaded(parcels={("inpost", parcel.tracking_number): Stored(parcel, 3)})

    again = follow(loaded, [dispatched(url="https://inpost.pl/a"), dispatched(url=None)])
    assert (again.followed, again.retracked) == ([], [])
    moved = follow(loaded, [dispatched(url="https://inpost.pl/b")])
    assert moved.retracked == [(("inpost", parcel.tracking_number), "https://inpost.pl/b")]


def test_the_order_s_point_goes_to_its_parcels_whichever_comes_first() -> None:
    point = PickupPoint.model_validate(POINT)
    (before,) = follow(Loaded(), [accepted(), dispatched()]).followed
    assert before.point == point
    (known,) = follow(Loaded(points={("kvetinac-cz", "ord-10045"): point}), [dispatched()]).followed
    assert known.point == point
    after = follow(Loaded(), [dispatched(), accepted()])
    assert after.followed[0].point is None  # the store gives it to the row in the same write
    assert after.points == [(("kvetinac-cz", "ord-10045"), point)]


def test_an_order_to_the_door_keeps_nothing() -> None:
    home = examples.load("orders.v1", "order.accepted")["data"]["delivery"]
    assert follow(Loaded(), [accepted(**home)]).points == []
