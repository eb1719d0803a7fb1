"""Tell whether a Docker engine answers, so testcontainers is only tried where it can work.

The ``docker`` CLI may be installed without a daemon, so only a real ping counts.
"""


def docker_engine_answers() -> bool:
    """Return True when ``docker.from_env(timeout=3).ping()`` succeeds."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False
