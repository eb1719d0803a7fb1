"""Logs as one JSON object per line on stderr, with email addresses and phone numbers masked.

Logs go to a pipeline that must hold no personal data, so masking is done last, in the formatter:
it covers the message with its arguments, the traceback and the extra fields of every library's
records. Every service logs through this module, so the pipeline sees one format.

"""

import json
import logging
import re
import sys
from types import TracebackType
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS, LogData
from pythonjsonlogger.json import JsonEncoder, JsonFormatter

EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(
    r"(?:\+|%2B)\d(?:[ ()-]{0,2}\d){7,14}"  # international: +420 601 123 456, +48 512-345-678
    r"|(?<![\w-])\d{3}[ -]\d{3}[ -]\d{3}(?![\w-])"  # national, grouped: 601 123 456
)


class MaskedJsonFormatter(JsonFormatter):
    """JSON with the time first and every string masked, in extra fields too."""

    def process_log_record(self, log_data: LogData) -> LogData:
        plain = json.loads(json.dumps(log_data, cls=JsonEncoder))  # extras as they would be written
        return {"time": plain.pop("time"), **masked(plain)}


def masked(value: Any) -> Any:
    """`value` with emails and phone numbers masked in every string, however deep."""
    if isinstance(value, str):
        return PHONE.sub("***", EMAIL.sub("***@***", value))
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def configure(level: str = "INFO") -> None:
    """Send every record (uvicorn's, FastStream's and aiokafka's propagate to the root) as JSON."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        MaskedJsonFormatter(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's, with ANSI colours
            timestamp="time",
        )
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(True)
    sys.excepthook = _uncaught


def _uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    logging.getLogger(__name__).critical("uncaught exception", exc_info=(kind, error, tb))
