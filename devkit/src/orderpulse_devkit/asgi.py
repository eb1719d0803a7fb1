"""Call an ASGI app in-process, the way a server would, for one GET request."""

import json
from typing import Any

from faststream.asgi.types import ASGIApp


async def get(app: ASGIApp, path: str, *, token: str | None = None) -> tuple[int, Any]:
    """Status code and decoded JSON body (None when empty) of `GET path`."""
    route, _, query = path.partition("?")
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {
        "type": "http",
        "method": "GET",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "headers": headers,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body) if body else None
