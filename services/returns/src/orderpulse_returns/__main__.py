"""`python -m orderpulse_returns`: consumers, the reminder loop and HTTP until SIGTERM or SIGINT."""

import signal
import sys

import uvicorn

from orderpulse_kit import logs
from orderpulse_returns.app import build_app
from orderpulse_returns.settings import Settings


def main() -> None:
    """Run with settings from the environment."""
    settings = Settings()
    logs.configure(settings.log_level)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it; exit 0 as the other services do.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        build_app(settings), host=settings.http_host, port=settings.http_port, log_config=None
    )


if __name__ == "__main__":
    main()
