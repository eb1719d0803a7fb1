"""The stop link's page: GET asks to confirm, POST stops review requests (RFC 8058 one-click).

Both are idempotent: a mail client's prefetch of the link (GET) changes nothing, and a second
POST finds the customer stopped already. A token this notifier did not sign gets 403 and changes
nothing. The page speaks the customer's language, from the token.
"""

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from html import escape

from faststream.asgi import AsgiResponse, Request
from faststream.asgi.handlers import HttpHandler
from faststream.asgi.types import ASGIApp

from orderpulse_notifier.http import TOO_LARGE, capped_body
from orderpulse_notifier.stop_links import STOP_PATH, ForgedStopLink, Stop, StopLinks
from orderpulse_schemas.values import Locale

log = logging.getLogger(__name__)

Record = Callable[[str, str, datetime], Awaitable[bool]]
"""Records a stop: (shop id, customer key, when); whether it is new."""

_WORDS = {
    Locale.CS: (
        "Nechcete už žádosti o hodnocení?",
        "Po doručení objednávky vám už nebudeme posílat prosbu o hodnocení obchodu.",
        "Už nechci žádosti o hodnocení",
        "Hotovo: žádosti o hodnocení vám už posílat nebudeme.",
    ),
    Locale.SK: (
        "Nechcete už žiadosti o hodnotenie?",
        "Po doručení objednávky vám už nebudeme posielať prosbu o hodnotenie obchodu.",
        "Už nechcem žiadosti o hodnotenie",
        "Hotovo: žiadosti o hodnotenie vám už posielať nebudeme.",
    ),
    Locale.PL: (
        "Nie chcesz już próśb o opinię?",
        "Po dostarczeniu zamówienia nie będziemy już prosić Cię o ocenę sklepu.",
        "Nie chcę już próśb o opinię",
        "Gotowe: nie będziemy już wysyłać Ci próśb o opinię.",
    ),
    Locale.EN: (
        "No more review requests?",
        "We will no longer ask you to review the shop after your orders arrive.",
        "Stop review requests",
        "Done: you will not receive any more review requests.",
    ),
}
_FORBIDDEN = AsgiResponse(b"This link is not valid.", 403, {"Content-Type": "text/plain"})


def routes(
    *, links: StopLinks, record: Record, now: Callable[[], datetime]
) -> list[tuple[str, ASGIApp]]:
    """The stop link's route."""

    async def stop_page(request: Request) -> AsgiResponse:
        try:
            stop = links.read((request.query_params.get("t") or [""])[0])
        except ForgedStopLink as error:
            log.warning("refused a stop link: %s", error)
            return _FORBIDDEN
        if request.method == "POST":
            if await capped_body(request) is None:  # RFC 8058's body: List-Unsubscribe=One-Click
                return TOO_LARGE
            new = await record(stop.shop_id, stop.customer_key, now())
            log.info("review requests stopped for a customer of %s (new: %s)", stop.shop_id, new)
            return _page(stop, done=True)
        return _page(stop, done=False)

    handler = HttpHandler(stop_page, methods=("GET", "HEAD", "POST"), include_in_schema=False)
    return [(STOP_PATH, handler)]


def _page(stop: Stop, *, done: bool) -> AsgiResponse:
    title, explain, button, confirmed = _WORDS[stop.locale]
    if done:
        title, body = confirmed, ""
    else:
        # The form posts to the very URL it came from (its token in the query string).
        body = (
            f"<p>{escape(explain)}</p>"
            f'<form method="post"><button type="submit">{escape(button)}</button></form>'
        )
    page = (
        f'<!doctype html><html lang="{stop.locale.value}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family: sans-serif; max-width: 32em; margin: 2em auto; padding: 0 1em">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    return AsgiResponse(page.encode(), 200, headers)
