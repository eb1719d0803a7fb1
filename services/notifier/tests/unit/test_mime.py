"""The MIME every email adapter sends: structure, stable ids, intact Czech, no leaked addresses."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from email.utils import parsedate_to_datetime

import pytest

from orderpulse_notifier.adapters.mime import build_mime, message_id
from orderpulse_notifier.errors import PermanentDeliveryError
from orderpulse_notifier.messages import EmailMessage, InlineImage

CZECH = "Příliš žluťoučký kůň úpěl ďábelské ódy"
QR = InlineImage(cid="qr-return", content=b"\x89PNG fake", mime_type="image/png")


def email(**changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "delivery_id": "2f1c0a7e-3b8d-4c52-9a61-7d0e5b4f8c13:email",
        "sender": "Květináč.cz <noreply@kvetinac.example>",
        "to": "Petr Novák <petr.novak@example.cz>",
        "subject": f"Objednávka č. 10045 – {CZECH}",
        "html": f"<p>{CZECH}</p>",
        "text": f"{CZECH}\n",
        "label": "kvetinac-cz/10045/order_accepted",
    }
    return EmailMessage(**(fields | changes))  # type: ignore[arg-type]


def reparsed(mime: MimeMessage) -> MimeMessage:
    """What a receiver sees: the bytes parsed again."""
    return message_from_bytes(mime.as_bytes(), policy=policy.default)


def test_text_and_html_are_alternatives_with_czech_intact_in_7bit() -> None:
    mime = build_mime(email())

    assert mime.as_bytes().isascii()  # quoted-printable / RFC 2047: safe through any relay
    parsed = reparsed(mime)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == f"Objednávka č. 10045 – {CZECH}"
    assert parsed["From"].addresses[0].display_name == "Květináč.cz"
    assert parsed["To"] == "Petr Novák <petr.novak@example.cz>"
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and plain.get_content() == f"{CZECH}\n"
    assert html is not None and html.get_content() == f"<p>{CZECH}</p>\n"


def test_inline_images_sit_with_the_html_in_multipart_related() -> None:
    parsed = reparsed(build_mime(email(images=(QR,))))

    plain, related = parsed.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<qr-return>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == QR.content


def test_message_id_is_stable_per_delivery_and_valid() -> None:
    first, again = build_mime(email()), build_mime(email())
    other = build_mime(email(delivery_id="another:email"))

    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    left, _, domain = str(first["Message-ID"]).strip("<>").partition("@")
    assert left.isalnum() and domain == "kvetinac.example"  # the ':' of the delivery id is gone
    assert message_id("x:email", "orderpulse.outbox").endswith("@orderpulse.outbox>")
    assert str(build_mime(email(), domain="orderpulse.outbox")["Message-ID"]).endswith(
        "@orderpulse.outbox>"
    )


def test_date_is_given_or_now() -> None:
    noon = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)

    assert parsedate_to_datetime(str(build_mime(email(), date=noon)["Date"])) == noon
    now = parsedate_to_datetime(str(build_mime(email())["Date"]))
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_comma_in_a_display_name_stays_one_address() -> None:
    parsed = reparsed(build_mime(email(to="Novák, Petr <petr.novak@example.cz>")))

    assert [a.addr_spec for a in parsed["To"].addresses] == ["petr.novak@example.cz"]
    assert parsed["To"].addresses[0].display_name == "Novák, Petr"


@pytest.mark.parametrize("to", ["petr.novak@", "Petr <not an address>", "a@b@example.cz"])
def test_an_invalid_address_is_permanent_and_not_quoted(to: str) -> None:
    with pytest.raises(PermanentDeliveryError) as error:
        build_mime(email(to=to))

    assert str(error.value) == "email address not valid"
