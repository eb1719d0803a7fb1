"""`python -m orderpulse_status_tracker`: consumers, timers and HTTP until SIGTERM or SIGINT."""

from orderpulse_kit.main import serve
from orderpulse_status_tracker.app import build_app
from orderpulse_status_tracker.settings import Settings


def main() -> None:
    """Run with settings from the environment."""
    serve(build_app, Settings())


if __name__ == "__main__":
    main()
