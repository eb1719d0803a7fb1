"""`python -m orderpulse_returns`: consumers, the reminder loop and HTTP until SIGTERM or SIGINT."""

from orderpulse_kit.signals import exit_cleanly_on_sigterm

exit_cleanly_on_sigterm()  # before the slow imports below

from orderpulse_kit.main import serve  # noqa: E402
from orderpulse_returns.app import build_app  # noqa: E402
from orderpulse_returns.settings import Settings  # noqa: E402


def main() -> None:
    """Run with settings from the environment."""
    serve(build_app, Settings())


if __name__ == "__main__":
    main()
