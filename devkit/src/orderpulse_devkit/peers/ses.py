"""Amazon SES v2 as moto's server emulates it, with the sent mail readable from any process."""

import json
import urllib.request
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Self

import boto3
from moto.server import ThreadedMotoServer

from orderpulse_devkit.peers._base import HOST, Peer

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client  # stubs: a dev dependency only

# moto accepts any credentials; these keep boto3 from looking for real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# The moto server is on 127.0.0.1: never send its requests through a configured proxy.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class SentEmail:
    """One raw email SES accepted: its SES MessageId, envelope and the parsed message."""

    message_id: str
    source: str | None
    destinations: tuple[str, ...]
    message: EmailMessage


class MotoSes(Peer):
    """moto's ThreadedMotoServer; `verify()` an identity before sending from it.

    moto keeps its state per process: two MotoSes in one process share identities and mail.
    """

    def __init__(self, region: str = "eu-central-1") -> None:
        self.region = region
        self._server: ThreadedMotoServer | None = None
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

    def sent(self) -> list[SentEmail]:
        """Raw emails sent so far (what SesSender sends), oldest first; from moto's data API."""
        with _http.open(f"{self.url}/moto-api/data.json", timeout=10) as response:
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
        """Forget sent mail (moto forgets all its state); verified identities stay verified."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        _http.open(request, timeout=10).close()
        identities, self._identities = self._identities, []
        for identity in identities:
            self.verify(identity)

    def start(self) -> Self:
        self._server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
