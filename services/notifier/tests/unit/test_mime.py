"""The MIME every email adapter sends: structure, stable ids, intact Czech, no leaked addresses."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from email.utils import parsedate_to_datetime

import pytest

from orderpulse_notifier.adapters.mime import RawEmail, build_mime, message_id
from orderpulse_notifier.errors import PermanentDeliveryError
from orderpulse_notifier.messages import EmailMessage, InlineImage

CZECH = "Příliš žluťoučký kůň úpěl ďábelské ódy"
QR = InlineImage(cid="qr-return", content=b"\x89PNG fake", mime_type="image/png")
PICTURE = InlineImage(cid="logo@kvetinac", content=bytes(range(256)) * 8, mime_type="image/gif")


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


def reparsed(raw: RawEmail) -> MimeMessage:
    """What a receiver sees: the bytes as a mailbox stores them (local line ends), parsed."""
    parsed = message_from_bytes(raw.data.replace(b"\r\n", b"\n"), policy=policy.default)
    assert isinstance(parsed, MimeMessage)
    return parsed


def contents(raw: RawEmail) -> tuple[str, str]:
    """The plain text and the HTML a receiver reads."""
    parsed = reparsed(raw)
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def test_text_and_html_are_alternatives_with_czech_intact_in_7bit() -> None:
    raw = build_mime(email())

    assert raw.data.isascii()  # quoted-printable / RFC 2047: safe through any relay
    parsed = reparsed(raw)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == f"Objednávka č. 10045 – {CZECH}"
    assert parsed["From"].addresses[0].display_name == "Květináč.cz"
    assert parsed["To"] == "Petr Novák <petr.novak@example.cz>"
    assert contents(raw) == (f"{CZECH}\n", f"<p>{CZECH}</p>\n")
    assert (raw.sender, raw.recipient) == ("noreply@kvetinac.example", "petr.novak@example.cz")


def test_inline_images_sit_with_the_html_in_multipart_related() -> None:
    parsed = reparsed(build_mime(email(images=(QR, PICTURE))))

    plain, related = parsed.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image, picture = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<qr-return>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == QR.content
    assert (picture["Content-ID"], picture.get_content()) == ("<logo@kvetinac>", PICTURE.content)


def test_the_bytes_are_built_once_and_the_date_is_the_first_builds() -> None:
    message = email()

    assert message.raw is message.raw  # every provider, every retry: the same bytes
    date = parsedate_to_datetime(str(reparsed(message.raw)["Date"]))
    assert abs(date - datetime.now(UTC)) < timedelta(minutes=1)


def test_message_id_is_stable_per_delivery_and_valid() -> None:
    first, again = build_mime(email()), build_mime(email())
    other = build_mime(email(delivery_id="another:email"))

    assert first.message_id == again.message_id != other.message_id
    assert reparsed(first)["Message-ID"] == first.message_id
    left, _, domain = first.message_id.strip("<>").partition("@")
    assert left.isalnum() and domain == "kvetinac.example"  # the ':' of the delivery id is gone
    assert message_id("x:email", "orderpulse.outbox").endswith("@orderpulse.outbox>")


def test_the_bytes_end_lines_in_crlf_and_parse_as_they_are() -> None:
    raw = build_mime(email(images=(QR,), text="a\nb\r\nc\rd"))

    assert raw.data.count(b"\n") == raw.data.count(b"\r") == raw.data.count(b"\r\n")
    assert raw.data.endswith(b"--\r\n")
    parsed = message_from_bytes(raw.data, policy=policy.default)
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    assert all(not part.defects for part in parsed.walk())
    assert parsed["Subject"] == f"Objednávka č. 10045 – {CZECH}"
    assert contents(raw)[0] == "a\nb\nc\nd\n"  # any line end in, one kind out


def test_no_line_is_longer_than_78_characters() -> None:
    raw = build_mime(
        email(
            sender="Květináč.cz, zahradnictví a květinářství s.r.o. <noreply@kvetinac.example>",
            to="Petr Novák, Ing., Ph.D., zahradní architekt <petr.novak@example.cz>",
            subject=f"{CZECH} {'x' * 100} " * 3,
            text=f"{CZECH} " * 30 + "\n" + "y" * 500,
            html="<p>" + "&nbsp;" * 300 + "</p>",
            images=(PICTURE,),
        )
    )

    assert max(len(line) for line in raw.data.split(b"\r\n")) <= 78


def test_a_long_czech_subject_is_folded_and_reads_whole_again() -> None:
    subject = f"Objednávka č. 10045 – {CZECH}, " * 5

    raw = build_mime(email(subject=subject))

    header = raw.data.split(b"\r\n\r\n")[0].decode()
    assert header.count("\r\n ") >= 5  # folded on several lines
    assert reparsed(raw)["Subject"] == subject


def test_a_plain_ascii_subject_stays_readable_in_the_source() -> None:
    subject = "Your order 10045 is on its way, " * 4

    raw = build_mime(email(subject=subject.strip()))

    assert b"Subject: Your order 10045 is on its way," in raw.data
    assert reparsed(raw)["Subject"] == subject.strip()


def test_text_survives_what_transports_and_encoders_stumble_on() -> None:
    text = (
        ".\n"
        ". a line starting with a dot\n"
        "From here on, a line mboxes would mangle\n"
        "trailing spaces   \n"
        "a trailing tab\t\n"
        f"{'ž' * 120}{'x' * 300}\n"
        "= and =?utf-8?b?eA==?= and --=_a not a boundary\n"
        "emoji 🎉 and 🇨🇿 end"
    )

    raw = build_mime(email(subject="Hotovo 🎉 – odesláno", text=text, html=f"<p>{text}</p>"))

    assert contents(raw) == (f"{text}\n", f"<p>{text}</p>\n")
    assert reparsed(raw)["Subject"] == "Hotovo 🎉 – odesláno"


def test_text_holding_the_boundaries_cannot_split_the_message() -> None:
    digest = message_id(email().delivery_id, "x")[1:33]
    boundaries = f"--=_a{digest}\n--=_r{digest}\n--=_a{digest}--\n"

    raw = build_mime(email(text=boundaries, html=boundaries, images=(QR,)))

    parsed = reparsed(raw)
    assert [p.get_content_type() for p in parsed.walk()][1:] == [
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    assert contents(raw) == (boundaries, boundaries)


@pytest.mark.parametrize(
    ("to", "display_name", "header"),
    [
        ("Novák, Petr <petr.novak@example.cz>", "Novák, Petr", None),
        ('"Novák, Petr" <petr.novak@example.cz>', "Novák, Petr", None),
        ("O'Brien, Pat <pat@example.cz>", "O'Brien, Pat", 'To: "O\'Brien, Pat" <pat@example.cz>'),
        ('Jan "Honza" Novák <jan@example.cz>', 'Jan "Honza" Novák', None),
        ('Jan "Honza" <jan@example.cz>', 'Jan "Honza"', 'To: "Jan \\"Honza\\"" <jan@example.cz>'),
        ("Back\\slash <b@example.cz>", "Back\\slash", None),
        ("Ing. Petr Novák 🌷 <petr.novak@example.cz>", "Ing. Petr Novák 🌷", None),
        ("Petr =?utf-8?q?X?= <petr.novak@example.cz>", "Petr =?utf-8?q?X?=", None),
        ("petr.novak@example.cz", "", "To: petr.novak@example.cz"),
        ("<petr.novak@example.cz>", "", "To: petr.novak@example.cz"),
    ],
)
def test_a_display_name_stays_one_name_of_one_address(
    to: str, display_name: str, header: str | None
) -> None:
    raw = build_mime(email(to=to))

    [address] = reparsed(raw)["To"].addresses
    assert (address.display_name, address.addr_spec) == (display_name, raw.recipient)
    if header:
        assert f"\r\n{header}\r\n".encode() in raw.data


def test_a_line_break_in_a_subject_or_a_name_never_makes_a_header() -> None:
    injected = "Bcc: everyone@example.net"

    raw = build_mime(
        email(
            subject=f"Objednávka\r\n{injected}",
            to=f"Petr\r\n{injected}\n <petr.novak@example.cz>",
            sender=f"Shop\n{injected} <noreply@kvetinac.example>",
        )
    )

    parsed = reparsed(raw)
    assert list(parsed.keys()) == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
    ]
    assert parsed["Subject"] == f"Objednávka {injected}"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["petr.novak@example.cz"]
    assert b"\nBcc" not in raw.data


def test_a_non_ascii_domain_goes_as_punycode() -> None:
    raw = build_mime(email(to="Petr <petr@květináč.cz>", sender="Shop <shop@květináč.cz>"))

    assert raw.recipient == "petr@xn--kvtin-1qa22aud.cz"
    assert raw.message_id.endswith("@xn--kvtin-1qa22aud.cz>")
    assert reparsed(raw)["To"].addresses[0].addr_spec == raw.recipient


@pytest.mark.parametrize(
    "to",
    [
        "petr.novak@",
        "Petr <not an address>",
        "a@b@example.cz",
        "Petr <pétr@example.cz>",  # SMTPUTF8 is not to be had from every relay
        "Petr <petr@example.cz>\r\nBcc: x@example.cz",
        "",
    ],
)
def test_an_invalid_address_is_permanent_and_not_quoted(to: str) -> None:
    with pytest.raises(PermanentDeliveryError) as error:
        build_mime(email(to=to))

    assert str(error.value) == "email address not valid"


@pytest.mark.parametrize(
    "image",
    [InlineImage("qr>\r\nBcc: x", b"x"), InlineImage("qr", b"x", mime_type="image/png\r\nBcc: x")],
)
def test_an_inline_image_that_would_break_its_headers_is_permanent(image: InlineImage) -> None:
    with pytest.raises(PermanentDeliveryError, match="inline image not valid"):
        build_mime(email(images=(image,)))


@pytest.mark.parametrize(
    ("reply_to", "display_name", "addr_spec"),
    [
        ("Květináč.cz <podpora@kvetinac.example.cz>", "Květináč.cz", "podpora@kvetinac.example.cz"),
        ("Flowers Ltd <help@flowers.example>", "Flowers Ltd", "help@flowers.example"),
        ('"Smith, Support" <help@flowers.example>', "Smith, Support", "help@flowers.example"),
        ("Podpora <podpora@květináč.cz>", "Podpora", "podpora@xn--kvtin-1qa22aud.cz"),
    ],
)
def test_a_reply_to_parses_as_one_name_of_one_address(
    reply_to: str, display_name: str, addr_spec: str
) -> None:
    raw = build_mime(email(reply_to=reply_to))

    parsed = reparsed(raw)
    [address] = parsed["Reply-To"].addresses
    assert (address.display_name, address.addr_spec) == (display_name, addr_spec)
    assert [a.addr_spec for a in parsed["From"].addresses] == ["noreply@kvetinac.example"]
    assert (raw.sender, raw.recipient) == ("noreply@kvetinac.example", "petr.novak@example.cz")
    assert raw.data.isascii()
    assert all(len(line) <= 78 for line in raw.data.split(b"\r\n"))


def test_a_plain_reply_to_stays_readable_and_none_is_no_header() -> None:
    assert (
        b"\r\nReply-To: Flowers <help@flowers.example>\r\n"
        in build_mime(email(reply_to="Flowers <help@flowers.example>")).data
    )
    assert "Reply-To" not in reparsed(build_mime(email()))


def test_a_line_break_in_a_reply_to_never_makes_a_header() -> None:
    raw = build_mime(email(reply_to="Shop\r\nBcc: everyone@example.net <help@flowers.example>"))

    parsed = reparsed(raw)
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["help@flowers.example"]
    assert "Bcc" not in parsed
    assert b"\nBcc" not in raw.data


def test_an_invalid_reply_to_is_permanent_and_not_quoted() -> None:
    with pytest.raises(PermanentDeliveryError) as raised:
        build_mime(email(reply_to="Shop <not an address>"))

    assert "not an address" not in str(raised.value)
