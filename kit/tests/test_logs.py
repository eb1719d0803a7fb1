"""`logs.configure`, as every service runs it: JSON lines on stderr, with no email address or phone
number."""

import json
import logging
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from orderpulse_kit import logs as shared_logs

EMAIL = "petr.novak@example.cz"
EMAILS = [EMAIL, "Katarzyna.Wisniewska+shop@mail.example.co.uk", "petr.novak%40example.cz"]
PHONES = [
    "+420 601 123 456",
    "+420601123456",
    "+421601123456",
    "+48 512-345-678",
    "+44 7700 900123",
    "%2B420601123456",  # in a URL or a form
    "601 123 456",
    "512-345-678",
]
CONTACTS = [(email, "***@***") for email in EMAILS] + [(phone, "***") for phone in PHONES]
KEPT = [
    "ord-10045",
    "12345",
    "601123456",  # ungrouped nine digits: an offset or an order number as well as a phone
    "3f2b8c1e-5d4a-4e8b-9c7d-2a1b0c9d8e7f",
    "2026-03-01T10:15:00.123+01:00",
    "127.0.0.1:19092",
    "notifications.v1.dlq",
    "offset 1234567",
    "took 12.5 ms",
    '"GET /metrics HTTP/1.1" 200',
    "2026-03-01 10:15:00",
]


@pytest.fixture
def logs() -> Iterator[ModuleType]:
    """The module; the root logger as it was afterwards, pytest's handlers included."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    root.handlers.clear()  # or `configure` would close them
    yield shared_logs
    for handler in root.handlers:
        handler.close()
    root.handlers[:], sys.excepthook = handlers, hook
    root.setLevel(level)
    logging.captureWarnings(False)


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """What the services wrote to stderr, each line parsed as a JSON object."""
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert all(isinstance(record, dict) for record in records)
    return records


def test_a_record_is_one_json_line_with_time_level_logger_and_message(
    logs: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure()
    logging.getLogger("orderpulse.test").info("order %s shipped", "ord-10045")

    [record] = lines(capsys)
    assert list(record) == ["time", "level", "logger", "message"]
    assert record["level"] == "INFO"
    assert record["logger"] == "orderpulse.test"
    assert record["message"] == "order ord-10045 shipped"
    assert record["time"].endswith("+00:00")  # ISO 8601, in UTC
    assert abs((datetime.now(UTC) - datetime.fromisoformat(record["time"])).total_seconds()) < 60


def test_the_level_setting_holds_back_lesser_records(
    logs: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("WARNING")
    logging.getLogger("orderpulse.test").info("hidden")
    logging.getLogger("orderpulse.test").warning("shown")

    assert [record["message"] for record in lines(capsys)] == ["shown"]


@pytest.mark.parametrize(("contact", "mask"), CONTACTS)
def test_emails_and_phone_numbers_are_masked_in_the_message(
    logs: ModuleType, capsys: pytest.CaptureFixture[str], contact: str, mask: str
) -> None:
    logs.configure()
    logging.getLogger("orderpulse.test").info("wrote to %s.", contact)

    [record] = lines(capsys)
    assert record["message"] == f"wrote to {mask}."


@pytest.mark.parametrize(("contact", "mask"), CONTACTS)
def test_emails_and_phone_numbers_are_masked_in_tracebacks(
    logs: ModuleType, capsys: pytest.CaptureFixture[str], contact: str, mask: str
) -> None:
    logs.configure()
    try:
        raise ValueError(f"no such customer: {contact}")
    except ValueError:
        logging.getLogger("orderpulse.test").exception("lookup failed")

    [record] = lines(capsys)
    assert record["exc_info"].startswith("Traceback (most recent call last):")
    assert record["exc_info"].endswith(f"ValueError: no such customer: {mask}")


@pytest.mark.parametrize(("contact", "mask"), CONTACTS)
def test_emails_and_phone_numbers_are_masked_in_extra_fields(
    logs: ModuleType, capsys: pytest.CaptureFixture[str], contact: str, mask: str
) -> None:
    logs.configure()
    customer = {"contacts": [contact], "order": "ord-10045"}
    logging.getLogger("orderpulse.test").info("sent", extra={"to": contact, "customer": customer})

    [record] = lines(capsys)
    assert record["to"] == mask
    assert record["customer"] == {"contacts": [mask], "order": "ord-10045"}


def test_what_operations_need_is_kept(logs: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure()
    logging.getLogger("orderpulse.test").info(" | ".join(KEPT), extra={"kept": KEPT})

    [record] = lines(capsys)
    assert record["message"] == " | ".join(KEPT)
    assert record["kept"] == KEPT


def test_libraries_records_and_warnings_come_out_the_same_way(
    logs: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure()
    logging.getLogger("uvicorn.error").info("Started %s", EMAIL, extra={"color_message": "\x1b[1m"})
    logging.getLogger("aiokafka.consumer").warning("stack of %s", EMAIL, stack_info=True)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"careful with {EMAIL}", UserWarning, stacklevel=1)

    started, stacked, warned = lines(capsys)
    assert list(started) == ["time", "level", "logger", "message"]  # no `color_message`
    assert (started["logger"], started["message"]) == ("uvicorn.error", "Started ***@***")
    assert stacked["logger"] == "aiokafka.consumer"
    assert stacked["stack_info"].startswith("Stack (most recent call last):")
    assert warned["logger"] == "py.warnings"
    assert "careful with ***@***" in warned["message"]
