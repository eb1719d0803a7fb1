"""`python -m orderpulse_notifier`: consumer, deferred texts and HTTP until SIGTERM or SIGINT."""

import logging
import signal
import sys

import uvicorn

from orderpulse_kit import logs
from orderpulse_notifier.app import build_app
from orderpulse_notifier.settings import Settings


def main() -> None:
    """Run with settings from the environment."""
    # The Twilio client logs each request's parameters (the number and the text): personal data.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    settings = Settings()
    logs.configure(settings.log_level)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it; exit 0 as the other services do.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        build_app(settings), host=settings.http_host, port=settings.http_port, log_config=None
    )


if __name__ == "__main__":
    main()
