"""`python -m orderpulse_returns`: run the returns service until SIGTERM or SIGINT."""

import asyncio
import logging

from orderpulse_returns.app import create_app


def main() -> None:
    """Run with settings from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(create_app().run())


if __name__ == "__main__":
    main()
