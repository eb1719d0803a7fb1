"""What the couriers service's `/metrics` tells beyond FastStream's message counters: the
carriers' reports it could not use, and how its polls of the carriers went. On the process's
default registry; every series starts at 0, so that an alert's `increase()` sees the first count.
"""

from prometheus_client import Counter

from orderpulse_couriers.following import CARRIERS

UNKNOWN_CODES = Counter(
    "orderpulse_couriers_unknown_status_codes",
    "Reports with a status code the carrier's documentation does not list, by carrier.",
    ["carrier"],
)
UNFOLLOWED = Counter(
    "orderpulse_couriers_unfollowed_reports",
    "Reports about parcels the service does not follow (no shipment.dispatched), by carrier.",
    ["carrier"],
)
POLLS = Counter(
    "orderpulse_couriers_polls",
    "Questions to a polled carrier about a parcel, by carrier and outcome "
    "(answered, refused: a wrong password or an unknown parcel, unavailable: try again later).",
    ["carrier", "outcome"],
)

for _carrier in sorted(set(CARRIERS.values())):
    UNKNOWN_CODES.labels(_carrier)
    UNFOLLOWED.labels(_carrier)
for _outcome in ("answered", "refused", "unavailable"):
    POLLS.labels("packeta", _outcome)
