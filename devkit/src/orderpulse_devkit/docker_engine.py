"""Tell whether a Docker engine answers, so testcontainers is only tried where it can work.

The ``docker`` CLI may be installed without a daemon, so only a real ping counts.
"""

import gc
import warnings


def docker_engine_answers() -> bool:
    """Return True when ``docker.from_env(timeout=3).ping()`` succeeds."""
    # docker-py leaks its socket when the engine is absent; the ResourceWarning would fail
    # test runs that turn warnings into errors, so it is dropped here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        answered = _ping()
        gc.collect()
    return answered


def _ping() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False
