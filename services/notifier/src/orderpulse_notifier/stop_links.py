"""One-click stop links for review requests: signed tokens that name a customer of a shop by a
salted hash, never by their address. Pure: no I/O.

A link is `<public url>/stop/reviews?t=<token>`, the same URL for the confirm page (GET), the
button on it and the mail client's one-click unsubscribe (POST, RFC 8058). The token is the
payload (shop, hash, locale of the page) in base64url, a dot, and its HMAC-SHA256 under the
stop-link secret: a forged or altered token is refused. The hash is keyed by a separate salt, so
rotating the signing secret voids old links but never forgets who stopped.

Errors: `ForgedStopLink` (a `ValueError`) for a token that is not ours.
"""

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote

from orderpulse_kit.erasure import email_key
from orderpulse_schemas.values import Locale

STOP_PATH = "/stop/reviews"


class ForgedStopLink(ValueError):
    """The token is not one this notifier signed (or it was altered): nothing changes."""


class Stop(NamedTuple):
    """Whom a stop link names: a customer of a shop (by hash), and the page's language."""

    shop_id: str
    customer_key: str
    locale: Locale


@dataclass(frozen=True)
class StopLinks:
    """Makes and reads stop links; `secret` signs tokens, `salt` keys the customers' hashes."""

    base_url: str
    secret: bytes
    salt: bytes

    def customer_key(self, shop_id: str, email: str) -> str:
        """The customer's salted hash, as the stop list keeps it: the same for any case."""
        address = email_key(email) or ""
        digest = hmac.new(self.salt, f"{shop_id}\n{address}".encode(), hashlib.sha256)
        return digest.hexdigest()

    def url(self, shop_id: str, email: str, locale: Locale) -> str:
        """The stop link of this customer of this shop."""
        payload = json.dumps(
            {"s": shop_id, "k": self.customer_key(shop_id, email), "l": locale.value},
            separators=(",", ":"),
        ).encode()
        body = _b64(payload)
        token = f"{body}.{_b64(self._signature(body))}"
        return f"{self.base_url.rstrip('/')}{STOP_PATH}?t={quote(token)}"

    def read(self, token: str) -> Stop:
        """Whom the token names; `ForgedStopLink` unless this notifier signed it."""
        body, dot, signature = token.partition(".")
        try:
            given = _unb64(signature)
        except (binascii.Error, ValueError):
            raise ForgedStopLink("the stop link's signature is not base64url") from None
        if not dot or not hmac.compare_digest(given, self._signature(body)):
            raise ForgedStopLink("the stop link's signature does not match")
        try:
            payload = json.loads(_unb64(body))
            return Stop(str(payload["s"]), str(payload["k"]), Locale(payload["l"]))
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise ForgedStopLink("the stop link's payload cannot be read") from None

    def _signature(self, body: str) -> bytes:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
