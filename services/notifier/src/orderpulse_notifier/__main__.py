"""`python -m orderpulse_notifier`: consumer, deferred texts and HTTP until SIGTERM or SIGINT."""

from orderpulse_kit.signals import exit_cleanly_on_sigterm

exit_cleanly_on_sigterm()  # before the slow imports below

import logging  # noqa: E402

from orderpulse_kit.main import serve  # noqa: E402
from orderpulse_notifier.app import build_app  # noqa: E402
from orderpulse_notifier.settings import Settings  # noqa: E402


def main() -> None:
    """Run with settings from the environment."""
    # The Twilio client logs each request's parameters (the number and the text): personal data.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    serve(build_app, Settings())


if __name__ == "__main__":
    main()
