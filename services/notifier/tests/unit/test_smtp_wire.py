"""What DATA carries: the same bytes aiosmtplib's own preparation gives, made without it."""

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from orderpulse_notifier.adapters.smtp import wire_ready

# Line ends of every kind, dots where dot-stuffing matters, and ordinary text.
PIECES = st.sampled_from([b"\r\n", b"\n", b"\r", b".", b"..", b"a", b"\r\n.\r\n", b"=2E", b" "])


@given(st.lists(PIECES, max_size=30).map(b"".join))
def test_a_message_is_made_ready_for_data_as_aiosmtplib_makes_it(message: bytes) -> None:
    normalized = normalize_message_line_endings(message)

    content, size = wire_ready(message)

    assert content == PERIOD_REGEX.sub(b"..", normalized) + b".\r\n"
    assert size == len(normalized)  # SIZE counts the message as sent, before the dots


def test_a_built_email_only_gains_its_dots_and_the_end() -> None:
    message = b"Subject: x\r\n\r\n.one\r\ntwo\r\n.\r\n"

    content, size = wire_ready(message)

    assert content == b"Subject: x\r\n\r\n..one\r\ntwo\r\n..\r\n.\r\n"
    assert size == len(message)
