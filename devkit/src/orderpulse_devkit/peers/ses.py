"""Amazon SES v2 as moto's server emulates it, with the sent mail readable from any process, and
throttling or outages scripted in front of it (moto has none)."""

import json
import threading
import urllib.request
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Self

import aiohttp
import boto3
from aiohttp import web
from moto.server import ThreadedMotoServer
from multidict import CIMultiDict, CIMultiDictProxy

from orderpulse_devkit.peers._base import HOST, AiohttpThread, Peer

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client  # stubs: a dev dependency only

# moto accepts any credentials; these keep boto3 from looking for real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# The moto server is on 127.0.0.1: never send its requests through a configured proxy.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# What SES v2 answers (restJson: the code in x-amzn-ErrorType) when throttled or failing.
ERRORS = {
    429: ("TooManyRequestsException", "Maximum sending rate exceeded."),
    500: ("InternalFailure", "The request processing has failed because of an unknown error."),
    503: ("ServiceUnavailable", "Service is unavailable. Please try again later."),
}
# The forwarder's connections to moto, open while it serves.
_MOTO = web.AppKey("moto", aiohttp.ClientSession)
# Per connection, not for the forwarder to pass on (aiohttp sets them for its own hop).
_HOP_BY_HOP = frozenset(
    {"host", "connection", "keep-alive", "content-length", "transfer-encoding", "upgrade"}
)


@dataclass(frozen=True)
class SentEmail:
    """One raw email SES accepted: its SES MessageId, envelope and the parsed message."""

    message_id: str
    source: str | None
    destinations: tuple[str, ...]
    message: EmailMessage


class MotoSes(Peer):
    """moto's ThreadedMotoServer behind a forwarder; `verify()` an identity before sending from it.

    The forwarder (at `url`) passes every request to moto unless `fail_next` scripted failures.
    moto keeps its state per process: two MotoSes in one process share identities and mail.
    """

    def __init__(self, region: str = "eu-central-1") -> None:
        self.region = region
        self._server: ThreadedMotoServer | None = None
        self._moto_url = ""
        self._forwarder = AiohttpThread("ses-forwarder")
        self._lock = threading.Lock()
        self._failures: deque[int] = deque()
        self._identities: list[str] = []

    @property
    def endpoint_url(self) -> str:
        return self.url

    def env(self) -> dict[str, str]:
        """Environment for a process (or monkeypatch) whose boto3 should talk to this server."""
        return {**CREDENTIALS, "AWS_DEFAULT_REGION": self.region}

    def client(self) -> "SESV2Client":
        """A boto3 SES v2 client for this server; close it when done."""
        return boto3.client(
            "sesv2",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def verify(self, identity: str) -> None:
        """Make an email address or a domain a verified sender (moto verifies at once)."""
        client = self.client()
        try:
            client.create_email_identity(EmailIdentity=identity)
        finally:
            client.close()
        self._identities.append(identity)

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next `count` SES API calls with SES's error for `status` (429, 500 or 503)."""
        if status not in ERRORS:
            raise ValueError(f"no SES error scripted for {status}; one of {sorted(ERRORS)}")
        with self._lock:
            self._failures.extend([status] * count)

    def sent(self) -> list[SentEmail]:
        """Raw emails sent so far (what SesSender sends), oldest first; from moto's data API."""
        with _http.open(f"{self._moto_url}/moto-api/data.json", timeout=10) as response:
            data: dict[str, Any] = json.load(response)
        return [
            SentEmail(
                message_id=raw["id"],
                source=raw["source"],
                destinations=tuple(raw["destinations"]),
                message=message_from_string(raw["raw_data"], policy=policy.default),
            )
            for raw in data.get("ses", {}).get("RawMessage", [])
        ]

    def reset(self) -> None:
        """Forget sent mail and pending scripted failures (moto forgets all its state); verified
        identities stay verified."""
        with self._lock:
            self._failures.clear()
        request = urllib.request.Request(f"{self._moto_url}/moto-api/reset", method="POST")
        _http.open(request, timeout=10).close()
        identities, self._identities = self._identities, []
        for identity in identities:
            self.verify(identity)

    def start(self) -> Self:
        self._server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self._server.start()
        self._moto_url = f"http://{HOST}:{self._server.get_host_and_port()[1]}"
        app = web.Application()
        app.cleanup_ctx.append(self._client_session)
        app.router.add_route("*", "/{path:.*}", self._forward)
        self.port = self._forwarder.start(app)
        return self

    def stop(self) -> None:
        self._forwarder.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None

    async def _client_session(self, app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            app[_MOTO] = session
            yield

    async def _forward(self, request: web.Request) -> web.Response:
        if not request.path.startswith("/moto-api/"):  # the sent-mail API never fails
            with self._lock:
                status = self._failures.popleft() if self._failures else None
            if status:
                code, message = ERRORS[status]
                return web.json_response(
                    {"message": message}, status=status, headers={"x-amzn-ErrorType": code}
                )
        session = request.app[_MOTO]
        async with session.request(
            request.method,
            self._moto_url + request.path_qs,
            headers=_end_to_end(request.headers),
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            return web.Response(
                status=answer.status,
                body=await answer.read(),
                headers=_end_to_end(answer.headers),
            )


def _end_to_end(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """The headers a forwarder passes on: all but the hop-by-hop ones."""
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in _HOP_BY_HOP)
