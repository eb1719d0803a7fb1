"""`python -m orderpulse_couriers`: the consumer and the carriers' webhooks until SIGTERM or
SIGINT."""

from orderpulse_couriers.app import build_app
from orderpulse_couriers.settings import Settings
from orderpulse_kit.main import serve


def main() -> None:
    """Run with settings from the environment."""
    serve(build_app, Settings())


if __name__ == "__main__":
    main()
