"""SMS through Twilio's Messages API, with the library's asynchronous (aiohttp) client.

The request goes through the library's base client (its authentication, headers and error
parsing), not its typed resources: `client.messages` loads every resource of the 2010 API
(calls, conferences, queues, …), 10.5 MiB of the notifier's memory, for one POST.
"""

import base64
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.client_base import ClientBase  # type: ignore[import-untyped]
from twilio.base.exceptions import TwilioException  # type: ignore[import-untyped]
from twilio.base.version import Version  # type: ignore[import-untyped]
from twilio.http.async_http_client import AsyncTwilioHttpClient  # type: ignore[import-untyped]

from orderpulse_notifier.errors import (
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from orderpulse_notifier.messages import SmsMessage

# Twilio codes that arrive with a 4xx status yet pass with time: too many requests, and a
# sender's queue being full.
RETRYABLE_CODES = frozenset({20429, 21611})
API_URL = "https://api.twilio.com/2010-04-01"


class TwilioSender:
    """Sends each SMS from the shop's alphanumeric sender id, optionally asking for receipts.

    The aiohttp session needs a running loop, so the client is made on the first send;
    `aclose()` closes it.
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
    ) -> None:
        self._account_sid, self._auth_token = account_sid, auth_token
        self._api_base_url, self._status_callback = api_base_url, status_callback
        self._timeout = timeout
        self._messages_url = f"{API_URL}/Accounts/{account_sid}/Messages.json"
        self._client: Any = None

    async def send_sms(self, message: SmsMessage) -> str:
        """Send the SMS; the provider id is Twilio's message SID."""
        form = {"To": message.to, "From": message.sender, "Body": message.body}
        if self._status_callback:
            form["StatusCallback"] = self._status_callback
        url = self._messages_url
        try:
            response = await self._twilio().request_async("POST", url, data=form)
            if not 200 <= response.status_code < 300:
                raise Version.exception("POST", url, response, "Unable to create record")
        except (TwilioException, aiohttp.ClientError, OSError) as error:
            # Twilio's messages quote the number: only the status and code go on.
            raise twilio_error(error) from None
        return str(json.loads(response.text)["sid"])

    async def aclose(self) -> None:
        """Close the HTTP session (and its pooled connections)."""
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None

    def _twilio(self) -> Any:
        if self._client is None:
            http = _HttpClient(self._api_base_url, timeout=self._timeout)
            self._client = ClientBase(self._account_sid, self._auth_token, http_client=http)
        return self._client


def twilio_error(error: Exception) -> DeliveryError:
    """429, 5xx and network trouble may pass later; other 4xx (bad number, opt-out) will not."""
    if isinstance(error, TimeoutError):
        return RetryableDeliveryError("twilio timed out")
    if isinstance(error, aiohttp.ClientError | OSError):
        # Refused, reset or dropped: the request may not have arrived.
        return RetryableDeliveryError(f"twilio connection failed ({type(error).__name__})")
    status, code = getattr(error, "status", None), getattr(error, "code", None)
    if not isinstance(status, int):
        return PermanentDeliveryError(f"twilio {type(error).__name__}")
    reason = f"twilio {status}" + (f" (code {code})" if code and code != status else "")
    if status == 429 or status >= 500 or code in RETRYABLE_CODES:
        return RetryableDeliveryError(reason)
    return PermanentDeliveryError(reason)


class _HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The library's client with a timeout (it passes none), an optional other base URL, and
    the Authorization header set directly (its aiohttp.BasicAuth is deprecated in aiohttp 3.14).
    """

    def __init__(self, base_url: str | None, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url) if base_url else None

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self._base is not None:
            parts = urlsplit(url)
            url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if auth := kwargs.pop("auth", None):
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Basic {token}"}
        return await super().request(method, url, *args, **kwargs)
