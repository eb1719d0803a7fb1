"""What every peer shares: an address on 127.0.0.1 and a start/stop lifecycle."""

from types import TracebackType
from typing import Self

HOST = "127.0.0.1"


class Peer:
    """A server in a background thread; `with peer:` starts it and stops it again."""

    host = HOST
    port = 0  # known once started

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
