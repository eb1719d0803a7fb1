"""Česká pošta: the answer of its B2B API's `getParcelStatus` call (ZSKService), read into
`Report`s.

Česká pošta pushes nothing, so the service polls `POST https://b2b.postaonline.cz:444/
restservices/ZSKService/v1/parcelStatus` with up to ten `parcelIds`. The JSON answer has, per
parcel, its whole history in `parcelStatuses` (`id`, `date`, `text`, `postCode`, `name`) plus how
long it is kept at the post office (`depositTo`) and its cash on delivery (`amount`, `currency`).
The older SOAP call `getParcelState` (POLService) answers the same fields in XML. `id` is what we
map.

Česká pošta gives a day, not a time, for each status: a report's time is that day's start,
Prague time, and the answer's order (oldest first, Česká pošta's own) is kept rather than sorted.
A parcel waits at a post office, a Balíkovna or a BalíkoBOX under the office's post code, so the
post code of a "stored" status is the pickup point's id.

Sources: Česká pošta, "Stav zásilky" (the state code list published with its B2B documentation,
as Stavy_zasilek.pdf) and "CP-B2B-WS-POL" (getParcelState and its example answer), both in
github.com/foton/czech_post_b2b_client `documents/`, with the OpenAPI of the REST service
`documents/B2B-ZSKService-1.4.0.yaml` (/parcelStatus, ParcelStatusResponse); further codes seen in
answers recorded there (`test/response_parsers/get_parcel_state_parser_test.rb`) and in
github.com/contributte/czech-post `src/Enum/HistoryState.php`.
"""

from collections.abc import Mapping
from datetime import datetime, time
from decimal import Decimal
from types import MappingProxyType
from zoneinfo import ZoneInfo

from orderpulse_couriers.carriers._parsing import (
    amount,
    as_list,
    as_object,
    collected_at_point,
    end_of_day,
    iso_day,
    load_json,
    text,
)
from orderpulse_couriers.reports import Milestone, Report, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

CARRIER = "ceska_posta"

ZONE = ZoneInfo("Europe/Prague")

# The documented codes: Česká pošta's "Stav zásilky" list.
DOCUMENTED: Mapping[str, Milestone] = {
    "21": Milestone.HANDED_OVER,  # podaná: posted, Česká pošta has the parcel
    "75": Milestone.IN_TRANSIT,  # přepravovaná: in transport (international parcels only)
    "51": Milestone.IN_TRANSIT,  # vstup na dodací poštu: at the delivering post office
    "8D": Milestone.IN_TRANSIT,  # dosílka na jinou adresu: forwarded to another address
    "8E": Milestone.DELIVERY_FAILED,  # poškozená: damaged
    "82": Milestone.AT_PICKUP_POINT,  # uložená: kept at the post office for collection
    "8T": Milestone.DELAYED,  # chybně směrovaná: misrouted
    "8U": Milestone.IN_TRANSIT,  # předaná k doručení jiné poště: another office delivers
    "8Z": Milestone.DELAYED,  # chybně směrovaná: misrouted
    "88": Milestone.IN_TRANSIT,  # vyšlá z evidence: left Česká pošta's records (abroad)
    "91": Milestone.DELIVERED,  # doručená: delivered (collected, after "uložená")
    "95": Milestone.RETURNED_TO_SENDER,  # vrácená, odepřeno přijetí: returned, refused
    "96": Milestone.RETURNED_TO_SENDER,  # vrácená, adresát neznámý: returned, addressee unknown
    "97": Milestone.RETURNED_TO_SENDER,  # vrácená, prošlá odběrní lhůta: returned, not collected
    "98": Milestone.RETURNED_TO_SENDER,  # vrácená, úmrtí adresáta: returned, addressee died
    "9B": Milestone.RETURNED_TO_SENDER,  # vrácená, odstěhoval se: returned, addressee moved
    "9E": Milestone.RETURNED_TO_SENDER,  # vrácená, nedostatečná adresa: returned, bad address
    "9V": Milestone.RETURNED_TO_SENDER,  # doručená odesílateli: back with the sender
}

# Codes of Česká pošta's documented example answer and of recorded answers, not in the list.
OBSERVED: Mapping[str, Milestone] = {
    "-M": Milestone.IGNORED,  # obdrženy údaje k zásilce: the shop's data received
    "-F": Milestone.IN_TRANSIT,  # vstup zásilky na SPU: entered a sorting centre
    "-I": Milestone.IN_TRANSIT,  # výstup zásilky z SPU: left a sorting centre
    "-B": Milestone.IN_TRANSIT,  # přeprava zásilky k dodací poště: to the delivering office
    "53": Milestone.OUT_FOR_DELIVERY,  # doručování zásilky: out for delivery
    "43": Milestone.IGNORED,  # e-mail odesílateli: the sender was e-mailed
}

CODES: Mapping[str, Milestone] = MappingProxyType({**DOCUMENTED, **OBSERVED})

# Codes that say why a delivery failed (and, for returns, why the parcel goes back).
FAILURES: Mapping[str, FailureReason] = MappingProxyType(
    {
        "8E": FailureReason.DAMAGED,
        "95": FailureReason.REFUSED,
        "96": FailureReason.ADDRESS_NOT_FOUND,
        "9B": FailureReason.ADDRESS_NOT_FOUND,
        "9E": FailureReason.ADDRESS_NOT_FOUND,
    }
)


def read(payload: bytes) -> list[Report]:
    """Reports of a `getParcelStatus` answer, per parcel in the answer's order."""
    answer = as_object(load_json(payload, "Česká pošta answer"), "Česká pošta answer")
    if "detail" not in answer:
        raise UnreadablePayload("Česká pošta answer without a detail")
    reports: list[Report] = []
    for item in as_list(answer["detail"], "Česká pošta detail"):
        reports.extend(_parcel(as_object(item, "Česká pošta parcel")))
    return reports


def _parcel(parcel: Mapping[str, object]) -> list[Report]:
    number = text(parcel, "idParcel")
    if number is None:
        raise UnreadablePayload("Česká pošta parcel without an idParcel")
    deposit = text(parcel, "depositTo")
    stored_until = end_of_day(iso_day(deposit, "Česká pošta depositTo"), ZONE) if deposit else None
    cod = _cash_on_delivery(parcel)
    statuses = as_list(parcel.get("parcelStatuses"), "Česká pošta parcelStatuses")
    return collected_at_point(
        _report(as_object(item, "Česká pošta status"), number, stored_until, cod)
        for item in statuses
    )


def _report(
    status: Mapping[str, object],
    number: str,
    stored_until: datetime | None,
    cod: tuple[Decimal, str] | None,
) -> Report:
    code = text(status, "id")
    day = text(status, "date")
    if code is None or day is None:
        raise UnreadablePayload("Česká pošta status without an id or a date")
    milestone = CODES.get(code)
    at_point = milestone is Milestone.AT_PICKUP_POINT
    return Report(
        carrier=CARRIER,
        tracking_number=number,
        code=code,
        milestone=milestone,
        time=datetime.combine(iso_day(day[:10], "Česká pošta status date"), time(), ZONE),
        location=text(status, "name"),
        failure=FAILURES.get(code),
        note=text(status, "text"),
        point_id=text(status, "postCode") if at_point else None,
        stored_until=stored_until if at_point else None,
        cash_on_delivery=cod if at_point else None,
    )


def _cash_on_delivery(parcel: Mapping[str, object]) -> tuple[Decimal, str] | None:
    value = amount(parcel, "amount", "Česká pošta amount")
    currency = text(parcel, "currency")
    return (value, currency) if value and currency else None
