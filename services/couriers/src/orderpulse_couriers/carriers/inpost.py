"""InPost (ShipX API, Poland; Paczkomat lockers, PaczkoPunkt points, courier): the
`shipment_status_changed` webhook and the `GET /v1/tracking/{tracking_number}` answer, read into
`Report`s.

ShipX pushes a webhook for every status change; the tracking answer is how a missed webhook, a
restart or a replay is put right (it holds the whole history and the target locker).

ShipX does not sign its webhooks: its documentation gives only the addresses they come from
(91.216.25.0/24, production and sandbox), so `sent_from_inpost` checks the peer address. The HMAC
`x-inpost-signature` header belongs to a different API (InPost Global, developers.inpost-group.com).

Sources (dokumentacja-inpost.atlassian.net/wiki/spaces/PL): "Statuses" (pages/18153478, and
`GET /v1/statuses`: name, title, description), "Webhooks" (pages/18153494), "Shipment Tracking".
The page shows the resource, not the list; the list's 53 names, all in `CODES`, were checked
against integrations that embed its answer: InPost's own Magento module
(github.com/InPost-Magento/smartmage_inpost, `Model/Config/Source/Status.php`: every name with its
Polish title), github.com/moku-systems/inpost-shipx (`src/types/status/status.ts`: the same 53
names), InsERT's Sello NX InPost example (`StatusMapper.cs`: titles of the older "Statusy" page,
pages/11731056) and a Java tracker's copy of the `pl_PL` descriptions. The meanings below are those
titles and descriptions. Names some trackers add (`ready_for_collection`, `collected_by_customer`,
`avizo_completed`, `permanently_redirected_to_box_machine`, ...) belong to the InPost Mobile app's
API, not to ShipX: none is in any `GET /v1/statuses` answer, so none is here.
"""

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from ipaddress import ip_address, ip_network
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from orderpulse_couriers.reports import Milestone, Report, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

CARRIER = "inpost"

# ShipX times carry an offset; one without (none seen, none documented) is Warsaw time.
ZONE = ZoneInfo("Europe/Warsaw")

WEBHOOK_NETWORK = ip_network("91.216.25.0/24")

# Meanings from ShipX's titles and descriptions (`GET /v1/statuses`, pl_PL), in its order.
CODES: Mapping[str, Milestone] = MappingProxyType(
    {
        "created": Milestone.IGNORED,  # created in ShipX, not ready to send
        "offers_prepared": Milestone.IGNORED,  # prices offered for the shipment
        "offer_selected": Milestone.IGNORED,  # the shop chose an offer
        "confirmed": Milestone.IGNORED,  # the sender says it is ready; the journey has not begun
        "dispatched_by_sender": Milestone.HANDED_OVER,  # posted in a Paczkomat by the sender
        "collected_from_sender": Milestone.HANDED_OVER,  # a courier collected it from the sender
        "taken_by_courier": Milestone.HANDED_OVER,  # taken from the sender (or its Paczkomat)
        "adopted_at_source_branch": Milestone.IN_TRANSIT,  # accepted at an InPost branch
        "sent_from_source_branch": Milestone.IN_TRANSIT,  # between InPost branches
        "ready_to_pickup_from_pok": Milestone.AT_PICKUP_POINT,  # waits at a PaczkoPunkt
        "ready_to_pickup_from_pok_registered": Milestone.AT_PICKUP_POINT,  # same, registered
        "oversized": Milestone.IGNORED,  # too big for the Paczkomat's lockers; InPost reroutes it
        "adopted_at_sorting_center": Milestone.IN_TRANSIT,  # accepted at the sorting center
        "sent_from_sorting_center": Milestone.IN_TRANSIT,  # on its way to the recipient's town
        "adopted_at_target_branch": Milestone.IN_TRANSIT,  # at the branch of the recipient's town
        "out_for_delivery": Milestone.OUT_FOR_DELIVERY,  # with the courier, at the latest next day
        "ready_to_pickup": Milestone.AT_PICKUP_POINT,  # placed in the chosen Paczkomat
        "pickup_reminder_sent": Milestone.IGNORED,  # reminder: still waits in the Paczkomat
        "delivered": Milestone.DELIVERED,  # delivered (collected, for a locker parcel)
        # time to collect from the Paczkomat is over; it goes back unless collected before the
        # courier comes: `returned_to_sender` (or `delivered`) says which
        "pickup_time_expired": Milestone.IGNORED,
        "avizo": Milestone.RETURNED_TO_SENDER,  # recipient absent again: on its way back
        "claimed": Milestone.IGNORED,  # a complaint was filed at the Paczkomat
        "returned_to_sender": Milestone.RETURNED_TO_SENDER,  # on its way back to the sender
        "canceled": Milestone.IGNORED,  # label cancelled or expired; never sent
        "other": Milestone.IGNORED,  # "unrecognised status": says nothing
        "dispatched_by_sender_to_pok": Milestone.HANDED_OVER,  # posted at a PaczkoPunkt
        "out_for_delivery_to_address": Milestone.OUT_FOR_DELIVERY,  # with the courier, to the door
        "pickup_reminder_sent_address": Milestone.DELIVERY_FAILED,  # absent; next try next day
        "rejected_by_receiver": Milestone.DELIVERY_FAILED,  # the recipient refused it
        "undelivered_wrong_address": Milestone.DELIVERY_FAILED,  # not today: wrong address
        "undelivered_incomplete_address": Milestone.DELIVERY_FAILED,  # not today: address lacking
        "undelivered_unknown_receiver": Milestone.DELIVERY_FAILED,  # not today: recipient unknown
        "undelivered_cod_cash_receiver": Milestone.DELIVERY_FAILED,  # not today: no cash for COD
        "taken_by_courier_from_pok": Milestone.IN_TRANSIT,  # from the PaczkoPunkt to a branch
        "undelivered": Milestone.DELIVERY_FAILED,  # sent to the undeliverable-parcels store
        "return_pickup_confirmation_to_sender": Milestone.IGNORED,  # receipt sent to the sender
        "ready_to_pickup_from_branch": Milestone.AT_PICKUP_POINT,  # not collected, at a branch
        "delay_in_delivery": Milestone.DELAYED,  # delivery will be late
        "redirect_to_box": Milestone.IN_TRANSIT,  # recipient redirected it to a Paczkomat
        "canceled_redirect_to_box": Milestone.IGNORED,  # too big to redirect: goes to the address
        "readdressed": Milestone.IN_TRANSIT,  # to another address, as the recipient asked
        "undelivered_no_mailbox": Milestone.DELIVERY_FAILED,  # not today: no letterbox
        "undelivered_not_live_address": Milestone.DELIVERY_FAILED,  # not today: does not live there
        # no access to the letterbox; titled "cannot deliver - return to sender" and described
        # "set off back to the sender"
        "undelivered_lack_of_access_letterbox": Milestone.RETURNED_TO_SENDER,
        # no title or description ("translation missing"); InPost's Magento module calls it
        # "Zaginiona" (lost), its own word: too unsure to tell a customer
        "missing": Milestone.IGNORED,
        "stack_in_customer_service_point": Milestone.AT_PICKUP_POINT,  # stored at a PaczkoPunkt
        # not collected at that PaczkoPunkt, still stored there, waits for the courier who takes it
        # on to the chosen Paczkomat
        "stack_parcel_pickup_time_expired": Milestone.IGNORED,
        "unstack_from_customer_service_point": Milestone.IN_TRANSIT,  # on to the chosen Paczkomat
        "courier_avizo_in_customer_service_point": Milestone.AT_PICKUP_POINT,  # avizo at a point
        # not collected at a PaczkoPunkt in time: the courier took it, back to the sender
        "taken_by_courier_from_customer_service_point": Milestone.RETURNED_TO_SENDER,
        "stack_in_box_machine": Milestone.AT_PICKUP_POINT,  # stored in a temporary Paczkomat
        "unstack_from_box_machine": Milestone.IN_TRANSIT,  # on to the chosen Paczkomat
        # not collected from the temporary Paczkomat, still there, waits for the courier who takes
        # it on to the chosen Paczkomat
        "stack_parcel_in_box_machine_pickup_time_expired": Milestone.IGNORED,
    }
)

FAILURES: Mapping[str, FailureReason] = MappingProxyType(
    {
        "pickup_reminder_sent_address": FailureReason.RECIPIENT_ABSENT,
        "rejected_by_receiver": FailureReason.REFUSED,
        "undelivered_wrong_address": FailureReason.ADDRESS_NOT_FOUND,
        "undelivered_incomplete_address": FailureReason.ADDRESS_NOT_FOUND,
        "undelivered_not_live_address": FailureReason.ADDRESS_NOT_FOUND,
        "undelivered_no_mailbox": FailureReason.NO_ACCESS,
        "undelivered_unknown_receiver": FailureReason.OTHER,
        "undelivered_cod_cash_receiver": FailureReason.OTHER,
        "undelivered": FailureReason.OTHER,
    }
)

STORAGE: Mapping[str, timedelta] = MappingProxyType(
    dict.fromkeys(
        ("ready_to_pickup", "ready_to_pickup_from_pok", "ready_to_pickup_from_pok_registered"),
        timedelta(hours=48),
    )
)
"""How long a parcel waits at the point the customer chose, from the moment it is placed there:
48 hours in a Paczkomat or at a parcel service point (inpost.pl, "How to extend the deadline for
collecting a parcel from a Parcel Locker"). ShipX sends no deadline, so it is counted from the
status's time (its descriptions of the two PaczkoPunkt statuses ask for collection "within 3
days": later than 48 hours, so the notice stays on the safe side); a customer who pays to extend
it in the InPost app has more time than the notice says, never less. The other waiting statuses
(a temporary Paczkomat, a PaczkoPunkt storing it, a branch, a point after an avizo) are somewhere
the customer did not choose and ShipX does not name, so they get no deadline: the service
publishes no pickup notice that would send the customer to the wrong place."""

# Webhook events ShipX documents besides status changes; they carry no status to report.
QUIET_EVENTS = frozenset({"shipment_confirmed", "offers_prepared"})


def sent_from_inpost(remote_address: str) -> bool:
    """Whether a webhook's TCP peer is in the range ShipX sends from: the one check its
    documentation makes possible (take the socket's address, not a forwarded header)."""
    try:
        return ip_address(remote_address) in WEBHOOK_NETWORK
    except ValueError:
        return False


def read(payload: bytes) -> list[Report]:
    """Reports of a ShipX webhook body or tracking answer, oldest first."""
    document = _json(payload)
    if "event" in document:
        return _webhook(document)
    if "tracking_details" in document:
        return _tracking(document)
    raise UnreadablePayload("InPost payload is neither a webhook nor a tracking answer")


def _webhook(document: Mapping[str, Any]) -> list[Report]:
    event = document["event"]
    if not isinstance(event, str):
        raise UnreadablePayload("InPost webhook event is not a string")
    if event in QUIET_EVENTS:
        return []
    if event != "shipment_status_changed":
        raise UnreadablePayload("InPost webhook event is not one ShipX documents")
    body = document.get("payload")
    if not isinstance(body, Mapping):
        raise UnreadablePayload("InPost webhook without a payload object")
    tracking_number = _optional_string(body, "tracking_number")
    if tracking_number is None:  # documented: null before the label exists; no parcel to follow
        return []
    code = _string(body, "status")
    return [_report(tracking_number, code, _moment(_string(document, "event_ts")))]


def _tracking(document: Mapping[str, Any]) -> list[Report]:
    tracking_number = _string(document, "tracking_number")
    details = document["tracking_details"]
    if not isinstance(details, list) or not all(isinstance(d, Mapping) for d in details):
        raise UnreadablePayload("InPost tracking_details is not a list of objects")
    attributes = document.get("custom_attributes") or {}
    if not isinstance(attributes, Mapping):
        raise UnreadablePayload("InPost custom_attributes is not an object")
    point = attributes.get("target_machine_id")
    locker = str(document.get("service") or "").startswith("inpost_locker")
    reports = []
    for detail in details:
        code = _string(detail, "status")
        report = _report(
            tracking_number,
            code,
            _moment(_string(detail, "datetime")),
            location=_optional_string(detail, "location"),
            point_id=point if isinstance(point, str) else None,
        )
        if locker and report.milestone is Milestone.DELIVERED:
            report = replace(report, milestone=Milestone.PICKED_UP)  # a locker parcel is collected
        reports.append(report)
    return sorted(reports, key=lambda report: report.time)


def _report(
    tracking_number: str,
    code: str,
    moment: datetime,
    *,
    location: str | None = None,
    point_id: str | None = None,
) -> Report:
    milestone = CODES.get(code)
    storage = STORAGE.get(code)
    return Report(
        carrier=CARRIER,
        tracking_number=tracking_number,
        code=code,
        milestone=milestone,
        time=moment,
        location=location if milestone is Milestone.IN_TRANSIT else None,
        failure=FAILURES.get(code),
        # The tracking answer's target locker is where the parcel waits only in the statuses of
        # the point the customer chose, not in a temporary locker, a branch or another point.
        point_id=None if storage is None else point_id,
        stored_until=None if storage is None else moment + storage,
    )


def _json(payload: bytes) -> Mapping[str, Any]:
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnreadablePayload("InPost payload is not JSON") from None
    if not isinstance(document, dict):
        raise UnreadablePayload("InPost payload is not a JSON object")
    return document


def _string(document: Mapping[str, Any], key: str) -> str:
    value = _optional_string(document, key)
    if value is None:
        raise UnreadablePayload(f"InPost payload without {key}")
    return value


def _optional_string(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None or (isinstance(value, str) and value):
        return value
    raise UnreadablePayload(f"InPost payload with an unusable {key}")


def _moment(text: str) -> datetime:
    """ShipX writes "2020-03-20 15:08:42 +0100" in webhooks, ISO 8601 in tracking."""
    for parse in (datetime.fromisoformat, _webhook_time):
        try:
            moment = parse(text)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=ZONE)
    raise UnreadablePayload("InPost time is not one ShipX documents")


def _webhook_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
