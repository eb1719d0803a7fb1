"""Errors raised by the devkit, each telling the user what to do next.

DevkitError
├── ToolNotFound   java, mvn or the PostgreSQL server binaries are missing
├── FetchFailed    Maven could not fetch the Kafka jars
└── ServerFailed   a server exited or did not answer in time (carries its log file)
"""

from pathlib import Path


class DevkitError(RuntimeError):
    """Base class: something the devkit needs to run a real server is wrong."""


class ToolNotFound(DevkitError):
    """A program the local fallback needs is not installed."""


class FetchFailed(DevkitError):
    """Maven failed, so the broker has no classpath."""


class ServerFailed(DevkitError):
    """A server died or never became ready; the message ends with its log tail."""

    def __init__(self, message: str, log_path: Path) -> None:
        super().__init__(message)
        self.log_path = log_path
