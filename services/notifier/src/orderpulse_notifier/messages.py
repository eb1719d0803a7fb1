"""Rendered messages, ready for a provider."""

import base64
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from orderpulse_notifier.adapters.mime import RawEmail, build_mime


@dataclass(frozen=True)
class InlineImage:
    """A picture the HTML shows as `cid:<cid>` (e.g. a return code's QR code)."""

    cid: str
    content: bytes
    mime_type: str = "image/png"


@dataclass(frozen=True)
class EmailMessage:
    """An email: subject, HTML and plain-text alternatives."""

    delivery_id: str
    sender: str
    to: str
    subject: str
    html: str
    text: str
    label: str  # shop/order/kind, for people browsing the outbox; no personal data
    images: tuple[InlineImage, ...] = ()
    reply_to: str | None = None  # 'Name <addr>' a reply goes to (the shop's support), if not From
    list_unsubscribe: str | None = None  # an https stop link: RFC 8058 one-click headers

    @cached_property
    def raw(self) -> RawEmail:
        """The MIME bytes, built on first use: every provider and every retry sends these."""
        return build_mime(self)

    def as_raw(self) -> "EmailMessage":
        """This email with its MIME bytes alone, its HTML, text and images only in them: what a
        provider that sends the bytes is handed. A send under way holds it until its answer (and
        its retries); 200 at once held 2.5 MiB more with the parts."""
        raw = self.raw
        bare = dataclasses.replace(self, html="", text="", images=())
        bare.__dict__["raw"] = raw  # `raw`'s cached value (a frozen dataclass has no setter)
        return bare


@dataclass(frozen=True)
class SmsMessage:
    """A text message and what it costs."""

    delivery_id: str
    sender: str
    to: str
    body: str
    encoding: str
    segments: int
    label: str


def embed_images(html: str, images: Sequence[InlineImage]) -> str:
    """The HTML with each `cid:` image as a data: URI: a browser cannot see the email's parts."""
    for image in images:
        data = base64.b64encode(image.content).decode("ascii")
        html = html.replace(f"cid:{image.cid}", f"data:{image.mime_type};base64,{data}")
    return html
