"""The one MIME rendering of an email: every email adapter sends the same bytes."""

import hashlib
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime

from orderpulse_notifier.errors import PermanentDeliveryError
from orderpulse_notifier.messages import EmailMessage


def build_mime(
    message: EmailMessage, *, domain: str | None = None, date: datetime | None = None
) -> MimeMessage:
    """Plain text and HTML alternatives; inline images sit with the HTML in multipart/related.

    The Message-ID derives from the delivery id (on `domain`, by default the sender's), so a
    retried send carries the same id and receivers can tell it is a duplicate. Parts are
    quoted-printable: 7-bit clean for any relay, Czech text stays readable in the source.
    """
    sender, to = _address(message.sender), _address(message.to)
    mime = MimeMessage()
    mime["From"], mime["To"], mime["Subject"] = sender, to, message.subject
    mime["Date"] = format_datetime(date or datetime.now(UTC))
    mime["Message-ID"] = message_id(message.delivery_id, domain or sender.domain)
    mime.set_content(message.text, cte="quoted-printable")
    mime.add_alternative(message.html, subtype="html", cte="quoted-printable")
    if message.images:
        html = mime.get_body(("html",))
        assert html is not None  # just added
        for image in message.images:
            maintype, _, subtype = image.mime_type.partition("/")
            html.add_related(
                image.content, maintype, subtype, cid=f"<{image.cid}>", disposition="inline"
            )
    return mime


def message_id(delivery_id: str, domain: str) -> str:
    """A valid, stable Message-ID: the delivery id itself may hold characters ids must not."""
    digest = hashlib.sha256(delivery_id.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _address(value: str) -> Address:
    """Parse 'Display Name <addr>' by its last '<', so a comma or dot in a name stays a name."""
    name, bracket, rest = value.rpartition("<")
    addr = rest.removesuffix(">").strip() if bracket else value.strip()
    try:
        return Address(display_name=name.strip().strip('"'), addr_spec=addr)
    except (ValueError, IndexError, HeaderParseError):
        # The header parser's message quotes the address: keep it out of the reason.
        raise PermanentDeliveryError("email address not valid") from None
