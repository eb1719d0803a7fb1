"""What DATA carries: the same bytes aiosmtplib's own preparation gives, made without it."""

import itertools

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from orderpulse_notifier.adapters.smtp import wire_ready

# Line ends of every kind, dots where dot-stuffing matters, and ordinary text.
PIECES = [b"\r\n", b"\n", b"\r", b".", b"..", b"a", b"\r\n.\r\n", b"=2E", b" "]


def test_a_message_is_made_ready_for_data_as_aiosmtplib_makes_it() -> None:
    """Every message of up to four pieces (7,381 of them)."""
    for size in range(5):
        for pieces in itertools.product(PIECES, repeat=size):
            message = b"".join(pieces)
            normalized = normalize_message_line_endings(message)

            content, length = wire_ready(message)

            assert content == PERIOD_REGEX.sub(b"..", normalized) + b".\r\n", message
            assert length == len(normalized), message  # SIZE: the message as sent, before dots


def test_a_built_email_only_gains_its_dots_and_the_end() -> None:
    message = b"Subject: x\r\n\r\n.one\r\ntwo\r\n.\r\n"

    content, size = wire_ready(message)

    assert content == b"Subject: x\r\n\r\n..one\r\ntwo\r\n..\r\n.\r\n"
    assert size == len(message)
