"""The HTTP server the services run on: a slow client cannot hold a connection for ever."""

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from orderpulse_kit.main import with_deadline

DEADLINE = 0.5


async def echo_length(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, then answers with its length."""
    assert scope["type"] == "http"
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    config = uvicorn.Config(
        echo_length,
        log_config=None,
        lifespan="off",
        http=with_deadline(DEADLINE),
    )
    server = uvicorn.Server(config)
    with socket.create_server(("127.0.0.1", 0)) as listening:  # connections queue till it serves
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        yield listening.getsockname()[1]
        server.should_exit = server.force_exit = True  # whatever connections are left open
        await serving


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Whether the server closed the connection (having answered nothing) within `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await reader.read() == b""
    except TimeoutError:
        return False


async def test_a_request_that_comes_in_time_is_answered_and_the_next_one_too(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    for _ in range(3):  # keep-alive: each request has its own time
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert await reader.readexactly(1) == b"5"
        await asyncio.sleep(DEADLINE * 0.6)
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize(
    "sent",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n",  # headers never finished
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello",  # the body stalls
        b"",  # connected, said nothing
    ],
)
async def test_a_client_too_slow_to_send_its_request_is_cut_off(port: int, sent: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    try:
        closed = await closed_within(reader, DEADLINE + 2)
    finally:
        writer.close()
        await writer.wait_closed()

    assert closed
