from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHIPX = ("91.216.25.17", 44321)
"""A peer in ShipX's documented webhook range."""

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def fixture(carrier: str, name: str) -> bytes:
    """A recorded payload of `carrier`."""
    return (FIXTURES / carrier / name).read_bytes()


async def post(
    app: Any, path: str, body: bytes, client: tuple[str, int] = SHIPX
) -> tuple[int, bytes]:
    """Status and body of the answer to a POST of `body` from `client`, as uvicorn calls the
    app."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "client": client,
    }
    handed = False

    async def receive() -> dict[str, Any]:
        nonlocal handed
        if handed:
            return {"type": "http.disconnect"}
        handed = True
        return {"type": "http.request", "body": body, "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], content
