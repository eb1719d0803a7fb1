"""PPL (CZ): the answer of its CPL API's shipment tracking call, `GET /shipment?ShipmentNumbers=…`,
read into `Report`s.

PPL pushes nothing, so the service polls. The answer is a JSON array of shipments, each with its
`trackAndTrace.events` (the whole history: `code`, `name`, `eventDate`, `statusId`, `phase`,
`group`), so a missed poll or a restart loses nothing. An event's `code` is what we map.

Sources: CPL API documentation, "Shipment tracking" (GET /shipment) and "Codelist status"
(https://ppl-cpl-api-en.apidog.io/shipment-tracking-13601484e0, …/codelist-status-13601468e0);
the code list as the API's own OpenAPI enum `Eps.Api.MyApi2.Web.Models.Shipment.ShipmentStates`,
generated into PPL's official plugin: github.com/PPL-CZ/PPL-WooCommerce
`ppl-cz/CPL/lib/Model/EpsApiMyApi2WebModelsShipmentShipmentStates.php` (the same plugin compares
event codes against it, `src/Admin/CPLOperation.php`). PPL serves its full status list only at
runtime (`GET /codelist/status`, behind a login), so the finer event codes it also sends are taken
from integrations that recorded them from live answers (see `OBSERVED`).
"""

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo

from orderpulse_couriers.carriers._parsing import (
    amount,
    as_list,
    as_object,
    collected_at_point,
    iso_moment,
    load_json,
    text,
)
from orderpulse_couriers.reports import Milestone, Report, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

CARRIER = "ppl"

# The documentation shows `eventDate` with an offset ("2019-08-24T14:15:22Z"); one sent without
# is PPL's local time, Prague's.
ZONE = ZoneInfo("Europe/Prague")

# The documented codes: the CPL OpenAPI enum ShipmentStates.
DOCUMENTED: Mapping[str, Milestone] = {
    "None": Milestone.IGNORED,  # no state yet
    "DataShipment": Milestone.IGNORED,  # data only: the shop sent the shipment's data
    "Active": Milestone.IGNORED,  # active: the shipment is registered, not yet handed over
    "Dormant": Milestone.IGNORED,  # dormant: a prepared return shipment, not yet activated
    "PickedUpFromSender": Milestone.HANDED_OVER,  # picked up from the sender
    "Undelivered": Milestone.IGNORED,  # not yet delivered: the filter's catch-all, says nothing new
    "OutForDelivery": Milestone.OUT_FOR_DELIVERY,  # out for delivery today
    "DeliveredToPickupPoint": Milestone.AT_PICKUP_POINT,  # at a ParcelShop / ParcelBox
    "Delivered": Milestone.DELIVERED,  # delivered (collected, after a pickup point)
    "NotDelivered": Milestone.DELIVERY_FAILED,  # not delivered; `name` says why
    "Rejected": Milestone.DELIVERY_FAILED,  # refused by the recipient
    "BackToSender": Milestone.RETURNED_TO_SENDER,  # on the way back to the sender
    "CodPaidDate": Milestone.IGNORED,  # cash on delivery paid out to the sender
    "Canceled": Milestone.IGNORED,  # the shop cancelled the shipment
}

# Finer event codes PPL sends, as recorded from live answers by github.com/ha-parcel-integrations/
# ha-ppl-cz (`custom_components/ppl_cz/tracking/parcels.py`) and the PHP packages
# MartinusDev\ShipmentsTracking (its PPL carrier) and PTB\PPLApi (`ShipmentStateEnum`).
OBSERVED: Mapping[str, Milestone] = {
    "WaitingForShipment": Milestone.IGNORED,  # announced, waiting for the parcel
    "ShipmentInTransport": Milestone.IN_TRANSIT,  # in transport between depots
    "ShipmentInTransport.TakeOverFromSender": Milestone.HANDED_OVER,  # taken over from sender
    "PreparingForDelivery": Milestone.IN_TRANSIT,  # at the delivery depot, prepared
    "LoadingForDelivery": Milestone.OUT_FOR_DELIVERY,  # loaded on the delivery van
    "Delivered.Parcelshop": Milestone.AT_PICKUP_POINT,  # delivered to a ParcelShop, waits there
    "Delivered.BackToSender": Milestone.RETURNED_TO_SENDER,  # delivered back to the sender
}

CODES: Mapping[str, Milestone] = MappingProxyType({**DOCUMENTED, **OBSERVED})

# Codes that say why a delivery failed; "NotDelivered" does not (its `name` may).
FAILURES: Mapping[str, FailureReason] = MappingProxyType({"Rejected": FailureReason.REFUSED})


def read(payload: bytes) -> list[Report]:
    """Reports of a `GET /shipment` answer, per shipment in the answer's order, oldest first."""
    answer = load_json(payload, "PPL answer")
    if not isinstance(answer, list):
        raise UnreadablePayload("PPL answer is not a JSON array of shipments")
    reports: list[Report] = []
    for item in answer:
        reports.extend(_shipment(as_object(item, "PPL shipment")))
    return reports


def _shipment(shipment: Mapping[str, object]) -> list[Report]:
    number = text(shipment, "shipmentNumber")
    if number is None:
        raise UnreadablePayload("PPL shipment without a shipmentNumber")
    track = shipment.get("trackAndTrace")
    if track is None:
        return []
    events = as_list(as_object(track, "PPL trackAndTrace").get("events"), "PPL events")
    delivery = shipment.get("specificDelivery")
    point = (
        text(as_object(delivery, "PPL specificDelivery"), "accessPointCode") if delivery else None
    )
    cod = _cash_on_delivery(shipment)
    reports = [_report(as_object(event, "PPL event"), number, point, cod) for event in events]
    reports.sort(key=lambda report: report.time)
    return collected_at_point(reports, to_point=point is not None)


def _report(
    event: Mapping[str, object],
    number: str,
    point: str | None,
    cod: tuple[Decimal, str] | None,
) -> Report:
    code = text(event, "code")
    if code is None:
        raise UnreadablePayload("PPL event without a code")
    milestone = CODES.get(code)
    at_point = milestone is Milestone.AT_PICKUP_POINT
    return Report(
        carrier=CARRIER,
        tracking_number=number,
        code=code,
        milestone=milestone,
        time=iso_moment(text(event, "eventDate"), ZONE, "PPL eventDate"),
        failure=FAILURES.get(code),
        note=text(event, "name"),
        point_id=point if at_point else None,
        cash_on_delivery=cod if at_point else None,
    )


def _cash_on_delivery(shipment: Mapping[str, object]) -> tuple[Decimal, str] | None:
    payment = shipment.get("paymentInfo")
    if not payment:
        return None
    info = as_object(payment, "PPL paymentInfo")
    price = amount(info, "codPrice", "PPL codPrice")
    currency = text(info, "codCurrency")
    return (price, currency) if price and currency else None
