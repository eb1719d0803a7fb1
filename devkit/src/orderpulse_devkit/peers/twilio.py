"""A fake of Twilio's Messages API, close enough that the real twilio library cannot tell."""

import asyncio
import base64
import re
import secrets
import threading
from collections import deque
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any, Self

from aiohttp import web

from orderpulse_devkit.peers._base import AiohttpThread, Peer

TEST_ACCOUNT_SID = "AC" + "0" * 32
TEST_AUTH_TOKEN = "test-token"
_E164 = re.compile(r"\+[1-9]\d{1,14}")
_DEFAULT_CODES = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€")


class TwilioFake(Peer):
    """`POST /2010-04-01/Accounts/{sid}/Messages.json` with basic auth, as Twilio answers it.

    Accepted messages are in `messages` (form fields plus "Sid"; also `GET /_fake/messages`
    for another process). `latency` delays every answer; requests overlap, as at Twilio.
    """

    def __init__(
        self,
        account_sid: str = TEST_ACCOUNT_SID,
        auth_token: str = TEST_AUTH_TOKEN,
        *,
        latency: float = 0.0,
    ) -> None:
        self.account_sid, self.auth_token, self.latency = account_sid, auth_token, latency
        self._lock = threading.Lock()
        self._messages: list[dict[str, str]] = []
        self._failures: deque[tuple[int, int | None] | web.Response] = deque()
        self._server = AiohttpThread("twilio-fake")

    @property
    def messages(self) -> list[dict[str, str]]:
        """The accepted messages so far, oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages]

    def fail_next(self, status: int, count: int = 1, code: int | None = None) -> None:
        """Answer the next `count` requests with Twilio's error JSON for `status` (and `code`)."""
        with self._lock:
            self._failures.extend([(status, code or _DEFAULT_CODES.get(status))] * count)

    def answer_next(self, status: int, text: str) -> None:
        """Answer the next request with `text` as HTML, as a proxy in front of Twilio may."""
        with self._lock:
            self._failures.append(web.Response(status=status, text=text, content_type="text/html"))

    def reset(self) -> None:
        """Forget received messages and pending scripted failures."""
        with self._lock:
            self._messages.clear()
            self._failures.clear()

    def start(self) -> Self:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        app.router.add_get("/_fake/messages", self._list)
        self.port = self._server.start(app)
        return self

    def stop(self) -> None:
        self._server.stop()

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response(self.messages)

    async def _create(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if isinstance(failure, web.Response):
            return failure
        if failure:
            return _error(*failure)
        if request.match_info["sid"] != self.account_sid or not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        form = {k: str(v) for k, v in (await request.post()).items()}
        to, body = form.get("To", ""), form.get("Body", "")
        if not _E164.fullmatch(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not form.get("From"):
            return _error(400, 21603, "The 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        sid = "SM" + secrets.token_hex(16)
        with self._lock:
            self._messages.append({**form, "Sid": sid})
        return web.json_response(self._resource(sid, form), status=201)

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        return scheme == "Basic" and secrets.compare_digest(
            encoded.encode(), base64.b64encode(expected)
        )

    def _resource(self, sid: str, form: dict[str, str]) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC), usegmt=True)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form["From"],
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(segments(form["Body"])),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }


def segments(body: str) -> int:
    """How many SMS parts Twilio bills: GSM-7 160/153 characters, else UCS-2 70/67 units."""
    if set(body) <= _GSM7 | _GSM7_EXTENDED:
        length, single, multi = len(body) + sum(c in _GSM7_EXTENDED for c in body), 160, 153
    else:
        length, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else -(-length // multi)


def _error(status: int, code: int | None, message: str | None = None) -> web.Response:
    payload = {
        "code": code,
        "message": message or HTTPStatus(status).phrase,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(payload, status=status)
