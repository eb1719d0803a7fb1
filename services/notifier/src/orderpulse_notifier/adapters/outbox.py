"""The local outbox: messages become files a person can open instead of leaving the machine."""

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import re
from pathlib import Path

from orderpulse_kit.erasure import email_key
from orderpulse_notifier.errors import RetryableDeliveryError
from orderpulse_notifier.messages import EmailMessage, SmsMessage, embed_images

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SEGMENT = 64  # characters at most per folder name


class OutboxSender:
    """Writes each email as `.eml` (and `.html` for a browser) and each SMS as `.txt`.

    Files go under `shop/order/kind` of the message's label. File names derive from the
    delivery id, so a repeated send overwrites rather than duplicates. Paths are plain strings:
    `pathlib` was a twentieth of the notifier's CPU here. The messages written while the loop
    runs once go to a worker thread together: a trip per message cost more than its writes on a
    fast disk. An erased customer's messages are deleted (`forget`): the outbox keeps what a
    provider would have sent.
    """

    name = "outbox"
    reads_html = True  # a browsable .html beside each .eml

    def __init__(self, directory: Path) -> None:
        self._directory = str(directory)
        self._queued: list[_Queued] = []

    async def send_email(self, message: EmailMessage) -> str:
        """Write the email; the provider id is its path inside the outbox."""
        stem = self._stem(message.label, message.delivery_id, "email")
        html = embed_images(message.html, message.images)  # a browser cannot see cid: parts
        # The .eml last: whoever waits for it finds the .html there too.
        await self._write(stem, {".html": html.encode(), ".eml": message.raw.data})
        return f"{stem}.eml"

    async def send_sms(self, message: SmsMessage) -> str:
        """Write the SMS with its sender, recipient, encoding and segment count."""
        stem = self._stem(message.label, message.delivery_id, "sms")
        meta = {k: getattr(message, k) for k in ("sender", "to", "encoding", "segments")}
        content = f"{json.dumps(meta, ensure_ascii=False)}\n\n{message.body}\n"
        await self._write(stem, {".txt": content.encode()})
        return f"{stem}.txt"

    async def forget(self, shop_id: str, email: str | None, phone: str | None) -> int:
        """Delete the shop's messages to this email address (in any case) or phone number, and
        the folders left empty; how many messages. Files are filed by order number, not id, so
        an erasure by order ids alone does not find them."""
        # As the files write them: `To: Name <address>`, `"to": "+420…"` (so that no other
        # address or number that merely contains this one matches).
        key = email_key(email)
        names = [f"<{key}>".encode()] if key else []
        names += [f'"{phone}"'.encode()] if phone else []
        if not names:
            return 0
        shop = os.path.join(self._directory, _segment(shop_id))
        return await asyncio.to_thread(_forget, shop, names)

    def _stem(self, label: str, delivery_id: str, channel: str) -> str:
        """Inside the outbox whatever the label holds: it comes from event data (order numbers)."""
        shop, _, rest = label.partition("/")
        order, _, kind = rest.rpartition("/")  # an order number's own slashes stay in one folder
        folders = [_segment(part) for part in (shop, order, kind) if part]
        digest = hashlib.sha256(delivery_id.encode()).hexdigest()[:10]
        return "/".join([*folders, f"{channel}-{digest}"])

    async def _write(self, stem: str, files: dict[str, bytes]) -> None:
        """Write the files of one message (`stem` + suffix) with the others queued meanwhile."""
        loop = asyncio.get_running_loop()
        written: asyncio.Future[None] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._flush)  # after every send the loop runs now has queued
        self._queued.append((os.path.join(self._directory, stem), files, written))
        try:
            await written
        except OSError as error:
            # The error's text holds the path; the reason keeps to what went wrong (ENOSPC, ...).
            code = errno.errorcode.get(error.errno or 0, type(error).__name__)
            raise RetryableDeliveryError(f"outbox not writable ({code})") from None

    def _flush(self) -> None:
        queued, self._queued = self._queued, []
        trip = asyncio.get_running_loop().run_in_executor(None, _write_all, queued)
        trip.add_done_callback(lambda _: _settle(queued, trip))


_Queued = tuple[str, dict[str, bytes], "asyncio.Future[None]"]


def _write_all(queued: list[_Queued]) -> list[OSError | None]:
    """Each message's files, and what failed, message by message (one full disk fails all)."""
    failures: list[OSError | None] = []
    for stem, files, _ in queued:
        try:
            _write_files(stem, files)
        except OSError as error:
            failures.append(error)
        else:
            failures.append(None)
    return failures


def _settle(queued: list[_Queued], trip: "asyncio.Future[list[OSError | None]]") -> None:
    """Wake each message's send with its outcome (a send cancelled meanwhile is not waiting)."""
    if trip.cancelled():  # the loop is closing: so are the sends
        for _, _, written in queued:
            written.cancel()
        return
    error = trip.exception()
    failures = [error] * len(queued) if error else trip.result()
    for (_, _, written), failure in zip(queued, failures, strict=True):
        if written.done():
            continue
        if failure is None:
            written.set_result(None)
        else:
            written.set_exception(failure)


def _write_files(stem: str, files: dict[str, bytes]) -> None:
    for suffix, content in files.items():
        path = stem + suffix
        partial = path + ".partial"
        try:
            _write_bytes(partial, content)
        except FileNotFoundError:  # its folder is new (or was removed): no mkdir per file
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _write_bytes(partial, content)
        os.replace(partial, path)  # atomic: a reader never sees half a message


def _forget(folder: str, names: list[bytes]) -> int:
    """Delete each message under `folder` whose file names one of `names` (ASCII case aside):
    an email's `.eml` (its `To:`) with its `.html`, a text's `.txt` (its `to`)."""
    forgotten = 0
    for where, _, files in os.walk(folder, topdown=False):
        for name in files:
            stem, dot, suffix = name.rpartition(".")
            if suffix not in ("eml", "txt") or not dot:
                continue
            path = os.path.join(where, name)
            with open(path, "rb") as file:
                content = file.read().lower()
            if any(wanted in content for wanted in names):
                for companion in (path, os.path.join(where, f"{stem}.html")):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(companion)
                forgotten += 1
        if where != folder and not os.listdir(where):
            os.rmdir(where)
    return forgotten


def _write_bytes(path: str, content: bytes) -> None:
    with open(path, "wb") as file:
        file.write(content)


def _segment(part: str) -> str:
    """One folder name: safe characters only, never `.` or `..` nor hidden, of bounded length."""
    safe = _UNSAFE.sub("_", part)[:_SEGMENT]
    return f"_{safe[1:]}" if safe.startswith(".") else safe
