"""`python -m orderpulse_notifier`: consumer, deferred texts and HTTP until SIGTERM or SIGINT."""

import logging

from orderpulse_kit.main import serve
from orderpulse_notifier.app import build_app
from orderpulse_notifier.settings import Settings


def main() -> None:
    """Run with settings from the environment."""
    # The Twilio client logs each request's parameters (the number and the text): personal data.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    serve(build_app, Settings())


if __name__ == "__main__":
    main()
