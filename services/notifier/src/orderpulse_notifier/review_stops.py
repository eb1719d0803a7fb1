"""Review requests' stop links, wired: the links from the settings, the stop list in the
notifier's database, the page's route, and the filter each poll's requests pass through.

A shop that asks for reviews makes the settings required: the notifier does not start without
them (a review request never goes without its stop link).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from faststream.asgi.types import ASGIApp
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_notifier import stop_page
from orderpulse_notifier.settings import Settings
from orderpulse_notifier.shops import Shop
from orderpulse_notifier.stop_links import StopLinks
from orderpulse_notifier.stop_list import SqlStopList, withhold_stopped
from orderpulse_schemas.notifications import NotificationRequested

_REQUIRED = ("NOTIFIER_PUBLIC_URL", "NOTIFIER_STOP_LINK_SECRET", "NOTIFIER_STOP_LIST_SALT")


@dataclass(frozen=True)
class ReviewStops:
    """The stop links (None: not configured) and the stop list."""

    links: StopLinks | None
    stops: SqlStopList

    async def withhold(
        self, requests: Sequence[NotificationRequested]
    ) -> list[NotificationRequested]:
        """The poll's requests, review requests of those who stopped them withheld."""
        return await withhold_stopped(requests, self.stops, self.links)

    def routes(self, now: Callable[[], datetime]) -> list[tuple[str, ASGIApp]]:
        """The stop page, when there are stop links."""
        if self.links is None:
            return []
        return stop_page.routes(links=self.links, record=self.stops.stop, now=now)


def review_stops(settings: Settings, shops: Mapping[str, Shop], engine: AsyncEngine) -> ReviewStops:
    """From the settings; a `ValueError` naming what is missing when a shop asks for reviews
    and the stop links are not configured."""
    secret, salt, url = settings.stop_link_secret, settings.stop_list_salt, settings.public_url
    links = None
    if secret is not None and salt is not None and url is not None:
        links = StopLinks(
            str(url), secret.get_secret_value().encode(), salt.get_secret_value().encode()
        )
    asking = sorted(shop_id for shop_id, shop in shops.items() if shop.reviews.enabled)
    if links is None and asking:
        raise ValueError(
            f"shop(s) {', '.join(asking)} ask for reviews, whose emails need a stop link: "
            f"set {', '.join(_REQUIRED)}"
        )
    return ReviewStops(links, SqlStopList(engine))
