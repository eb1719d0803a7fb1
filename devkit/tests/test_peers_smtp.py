"""The SMTP peer accepts without parsing: a benchmark's notifier never waits for it to parse."""

import email
import smtplib
from email.message import Message

import pytest

from orderpulse_devkit.peers import SmtpCatcher

MESSAGE = b"From: shop@example.cz\r\nTo: petr@example.cz\r\nSubject: %d\r\n\r\nPrijata\r\n"


def test_messages_are_parsed_when_asked_for_not_as_connections_come(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[bytes] = []

    def counted(raw: bytes, **options: object) -> Message:
        parsed.append(raw)
        return email.message_from_bytes(raw, **options)

    monkeypatch.setattr("orderpulse_devkit.peers.smtp.message_from_bytes", counted)
    with SmtpCatcher() as catcher:
        for n in range(3):  # a connection each: aiosmtpd lists its handler's members for each
            with smtplib.SMTP(catcher.host, catcher.port) as client:
                client.sendmail("shop@example.cz", ["petr@example.cz"], MESSAGE % n)
        assert len(catcher.raw_messages) == 3
        assert parsed == []
        assert [m.message["Subject"] for m in catcher.messages] == ["0", "1", "2"]
        assert len(parsed) == 3
