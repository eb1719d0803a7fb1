"""`python -m orderpulse_couriers`: the consumer and the carriers' webhooks until SIGTERM or
SIGINT."""

from orderpulse_kit.signals import exit_cleanly_on_sigterm

exit_cleanly_on_sigterm()  # before the slow imports below

from orderpulse_couriers.app import build_app  # noqa: E402
from orderpulse_couriers.settings import Settings  # noqa: E402
from orderpulse_kit.main import serve  # noqa: E402


def main() -> None:
    """Run with settings from the environment."""
    serve(build_app, Settings())


if __name__ == "__main__":
    main()
