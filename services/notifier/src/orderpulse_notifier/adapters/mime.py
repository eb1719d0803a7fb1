"""The one MIME rendering of an email: every email adapter sends the same bytes.

Assembled from parts with `binascii`: the standard library's `email` package took milliseconds
per message (pure-Python quoted-printable and header folding), this takes tens of microseconds.
Lines end in CRLF, as on the wire, and keep within 76 characters (but for a very long address
or domain, which cannot be folded).
"""

import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from orderpulse_notifier.errors import PermanentDeliveryError

if TYPE_CHECKING:  # messages.py builds through this module
    from orderpulse_notifier.messages import EmailMessage, InlineImage

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_ADDR_SPEC = re.compile(
    rf'(?:{_DOT_ATOM}|"(?:[ !#-\[\]-~]|\\[ -~])*")@(?:{_DOT_ATOM}|\[[!-Z^-~]*\])'
)
_ATOMS = re.compile(rf"{_ATEXT}+(?: {_ATEXT}+)*")  # a display name that needs no quotes
_PRINTABLE = re.compile(r"[ -~]*")
_QUOTED_PAIR = re.compile(r"\\(.)")
# Anything that would end a header line, or show as one: CR and LF above all (injection).
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_MEDIA_TYPE = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+", re.ASCII)
_CONTENT_ID = re.compile(r"[!-;=?-~]+")  # printable, no angle brackets
_LINE = 76  # RFC 2047's limit for lines with encoded-words; RFC 2045's for encoded bodies
_WORD_BYTES = 39  # UTF-8 bytes per encoded-word: 52 base64 characters, a 64-character word
_TEXT_HEADERS = (
    b'Content-Type: text/plain; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)
_HTML_HEADERS = (
    b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
)


@dataclass(frozen=True, slots=True)
class RawEmail:
    """An email's bytes, with the envelope a relay needs (MAIL FROM and RCPT TO addr-specs)."""

    data: bytes
    message_id: str
    sender: str
    recipient: str


def build_mime(message: "EmailMessage") -> RawEmail:
    """Plain text and HTML alternatives; inline images sit with the HTML in multipart/related.

    Adapters use `EmailMessage.raw`, built once: every provider and every retry sends the same
    bytes, with the Date of that first build. The Message-ID derives from the delivery id (on
    the sender's domain), so receivers can tell a retried send is a duplicate. Every part is
    7-bit clean for any relay: the plain text quoted-printable (Czech text stays readable in the
    source), the HTML base64 (a seventh of quoted-printable's CPU for the biggest part, which
    nobody reads as source).
    """
    sender_words, sender = _address(message.sender)
    to_words, to = _address(message.to)
    # Where a customer's reply goes (the shop's support) when that is not the sender's address.
    reply_to = (_fold("Reply-To", _address(message.reply_to)[0]),) if message.reply_to else ()
    mid = message_id(message.delivery_id, sender.rpartition("@")[2])
    headers = (
        _fold("From", sender_words),
        *reply_to,
        *_list_unsubscribe(message.list_unsubscribe),
        _fold("To", to_words),
        _fold("Subject", _unstructured(message.subject)),
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: {mid}",
        "MIME-Version: 1.0",
    )
    # QP never writes "=_" and base64 never writes "_": no part can hold these boundaries.
    digest = mid[1:].partition("@")[0]
    alternative, related = f"=_a{digest}", f"=_r{digest}"
    html = _html(message.html)
    if message.images:
        html = _multipart("related", related, [html, *(_image(image) for image in message.images)])
    head = "\r\n".join(headers).encode()
    body = _multipart("alternative", alternative, [_text(message.text), html])
    return RawEmail(head + b"\r\n" + body + b"\r\n", mid, sender, to)


def _list_unsubscribe(url: str | None) -> tuple[str, ...]:
    """RFC 8058 one-click unsubscribe: mail clients show a button that POSTs to `url`."""
    if url is None:
        return ()
    if not _PRINTABLE.fullmatch(url) or not url.startswith("https://") or ">" in url:
        raise PermanentDeliveryError("the stop link is not a printable https URL")
    return (
        _fold("List-Unsubscribe", [f"<{url}>"]),
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    )


def message_id(delivery_id: str, domain: str) -> str:
    """A valid, stable Message-ID: the delivery id itself may hold characters ids must not."""
    digest = hashlib.sha256(delivery_id.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _address(value: str) -> tuple[list[str], str]:
    """Parse 'Display Name <addr>' by its last '<', so a comma or dot in a name stays a name.

    Returns the header's words and the addr-spec. SES and most relays lack SMTPUTF8: a
    non-ASCII domain goes as punycode, a non-ASCII local part cannot go at all.
    """
    name, bracket, rest = value.strip().rpartition("<")
    addr = rest.removesuffix(">").strip() if bracket else rest.strip()
    local, _, domain = addr.rpartition("@")
    if not domain.isascii():
        try:
            addr = f"{local}@{domain.encode('idna').decode()}"
        except UnicodeError:
            addr = ""
    if not _ADDR_SPEC.fullmatch(addr):
        # No address in the reason: reasons are logged and published.
        raise PermanentDeliveryError("email address not valid")
    name = _LINE_BREAKS.sub(" ", name).strip()
    if len(name) > 1 and name[0] == name[-1] == '"':  # given quoted: its quotes are no part of it
        name = _QUOTED_PAIR.sub(r"\1", name[1:-1])
    return ([*_phrase(name), f"<{addr}>"] if name else [addr]), addr


def _phrase(name: str) -> list[str]:
    """A display name as it is, quoted, or (non-ASCII, or too long for a line) RFC 2047 words."""
    if "=?" not in name:  # that would read as an encoded-word
        words = name.split(" ")
        if _ATOMS.fullmatch(name) and all(len(w) <= 60 for w in words):
            return words
        if _PRINTABLE.fullmatch(name) and len(name) <= 60:
            return ['"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"']
    return _encoded_words(name)


def _unstructured(text: str) -> list[str]:
    """A subject as it is when plain ASCII words that fit lines, else RFC 2047 words."""
    text = _LINE_BREAKS.sub(" ", text)
    words = text.split(" ") if text else []
    if _PRINTABLE.fullmatch(text) and "=?" not in text and all(0 < len(w) <= 60 for w in words):
        return words
    return _encoded_words(text)


def _encoded_words(text: str) -> list[str]:
    """Base64 encoded-words, each of whole UTF-8 characters (a decoder joins them again)."""
    data, words, start = text.encode(), [], 0
    while start < len(data):
        end = start + _WORD_BYTES
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        encoded = binascii.b2a_base64(data[start:end], newline=False).decode()
        words.append(f"=?utf-8?b?{encoded}?=")
        start = end
    return words


def _fold(name: str, words: list[str]) -> str:
    """`Name: words`, breaking the line before a word that would pass the line's length."""
    lines, line = [], f"{name}:"
    for i, word in enumerate(words):
        if i and len(line) + 1 + len(word) > _LINE:
            lines.append(line)
            line = ""
        line += f" {word}"
    lines.append(line)
    return "\r\n".join(lines)


def _text(text: str) -> bytes:
    """A UTF-8 quoted-printable plain-text part ending in a line break (once decoded, too)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # b2a_qp would keep a lone CR
    if not text.endswith("\n"):
        text += "\n"
    # binascii encodes trailing blanks, "=", a lone "." and all but printable ASCII.
    body = binascii.b2a_qp(text.encode(), istext=True).replace(b"\n", b"\r\n")
    return _TEXT_HEADERS + body


def _html(html: str) -> bytes:
    """A UTF-8 HTML part in base64, ending in a line break as the plain text does."""
    return _HTML_HEADERS + _base64_lines(html.encode() + (b"" if html.endswith("\n") else b"\n"))


def _image(image: "InlineImage") -> bytes:
    """An inline picture in base64, which the HTML shows as `cid:<cid>`."""
    if not (_MEDIA_TYPE.fullmatch(image.mime_type) and _CONTENT_ID.fullmatch(image.cid)):
        raise PermanentDeliveryError("inline image not valid")
    headers = (
        f"Content-Type: {image.mime_type}\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-ID: <{image.cid}>\r\nContent-Disposition: inline\r\n\r\n"
    )
    return headers.encode() + _base64_lines(image.content)


def _base64_lines(content: bytes) -> bytes:
    """`content` in base64, in lines of 76 characters."""
    data = binascii.b2a_base64(content, newline=False)
    return b"\r\n".join([data[i : i + _LINE] for i in range(0, len(data), _LINE)])


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    """Parts between delimiter lines; a delimiter owns the CRLF before it, not the part."""
    delimiter = f"\r\n--{boundary}\r\n".encode()
    head = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n\r\n--{boundary}\r\n'
    return head.encode() + delimiter.join(parts) + f"\r\n--{boundary}--".encode()
