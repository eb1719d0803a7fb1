"""`python -m orderpulse_returns`: consumers, the reminder loop and HTTP until SIGTERM or SIGINT."""

from orderpulse_kit.main import serve
from orderpulse_returns.app import build_app
from orderpulse_returns.settings import Settings


def main() -> None:
    """Run with settings from the environment."""
    serve(build_app, Settings())


if __name__ == "__main__":
    main()
