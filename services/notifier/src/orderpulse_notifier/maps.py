"""A link that shows a pickup point on a map, on a phone in its maps app.

Google Maps' documented search URL (`/maps/search/?api=1&query=`): it needs no key, opens the
Google Maps app on Android and iOS where it is installed and the web map elsewhere, and from
there the customer taps for directions. Coordinates find a locker in a shopping centre's car
park, which its street address does not; without them the address is searched.
"""

from urllib.parse import urlencode

from orderpulse_schemas.values import PickupPoint

_SEARCH = "https://www.google.com/maps/search/?"


def map_url(point: PickupPoint) -> str:
    """The map of `point`: at its coordinates when the carrier gave them, else at its address."""
    if point.latitude is not None and point.longitude is not None:
        query = f"{point.latitude},{point.longitude}"
    else:
        address = point.address
        query = f"{address.street}, {address.postal_code} {address.city}, {address.country}"
    return _SEARCH + urlencode({"api": "1", "query": query})
