"""SMS text: GSM-7 or UCS-2, how many segments, and transliteration to stay in GSM-7."""

import unicodedata
from dataclasses import dataclass

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")
# Letters that do not decompose into a base letter and a combining mark.
_SPECIAL = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "–": "-",
        "—": "-",
        "„": '"',
        "“": '"',
        "”": '"',
        "‚": "'",
        "‘": "'",
        "’": "'",
        "…": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)


@dataclass(frozen=True)
class SmsText:
    """A body ready to send, with what it costs."""

    body: str
    encoding: str
    segments: int


def measure(body: str) -> SmsText:
    """GSM-7 when every character fits (extension characters count twice), else UCS-2."""
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENDED for c in body):
        units, single, multi = sum(2 if c in _GSM7_EXTENDED else 1 for c in body), 160, 153
        encoding = "GSM-7"
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
        encoding = "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsText(body, encoding, segments)


def transliterate(body: str) -> str:
    """Drop diacritics that GSM-7 lacks (č → c, ł → l) and keep those it has (é, ä, ö, ü)."""
    return body.translate(_PLAIN)


class _PlainLetters(dict[int, str]):
    """`str.translate`'s table: each character as GSM-7 has it, worked out at its first use
    (a text's few dozen distinct characters, not each of its characters every time)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if code in _SPECIAL:
            plain = _SPECIAL[code]
        elif char in _GSM7_BASIC or char in _GSM7_EXTENDED:
            plain = char
        else:
            base = unicodedata.normalize("NFKD", char)
            plain = "".join(c for c in base if not unicodedata.combining(c))
        if len(self) < _KNOWN_AT_MOST:  # whatever a sender throws at it, the table stays small
            self[code] = plain
        return plain


_KNOWN_AT_MOST = 4096
_PLAIN = _PlainLetters()
