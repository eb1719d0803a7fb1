"""What every peer shares: an address on 127.0.0.1, a start/stop lifecycle, and a thread to
serve an aiohttp application from (the HTTP peers')."""

import asyncio
import socket
import threading
from types import TracebackType
from typing import Self

from aiohttp import web

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


class AiohttpThread:
    """An aiohttp application served on 127.0.0.1 from an event loop in a thread of its own."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def start(self, app: web.Application) -> int:
        """Serve `app`; its port, bound before serving (no window for another process to take)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, 0))
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(app, sock), loop).result(timeout=10)
        return int(sock.getsockname()[1])

    def stop(self) -> None:
        if self._loop is None or self._thread is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop = self._thread = self._runner = None

    def _run(self) -> None:
        assert self._loop is not None
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    async def _serve(self, app: web.Application, sock: socket.socket) -> None:
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
