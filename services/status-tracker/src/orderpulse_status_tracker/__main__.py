"""`python -m orderpulse_status_tracker`: run the tracker until SIGTERM or SIGINT."""

import asyncio
import logging

from orderpulse_status_tracker.app import create_app


def main() -> None:
    """Run with settings from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(create_app().run())


if __name__ == "__main__":
    main()
