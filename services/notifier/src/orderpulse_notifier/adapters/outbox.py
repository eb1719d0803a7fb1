"""The local outbox: messages become files a person can open instead of leaving the machine."""

import asyncio
import errno
import hashlib
import json
import re
from pathlib import Path

from orderpulse_notifier.errors import RetryableDeliveryError
from orderpulse_notifier.messages import EmailMessage, SmsMessage, embed_images

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SEGMENT = 64  # characters at most per folder name


class OutboxSender:
    """Writes each email as `.eml` (and `.html` for a browser) and each SMS as `.txt`.

    Files go under `shop/order/kind` of the message's label. File names derive from the
    delivery id, so a repeated send overwrites rather than duplicates.
    """

    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def send_email(self, message: EmailMessage) -> str:
        """Write the email; the provider id is its path inside the outbox."""
        stem = self._stem(message.label, message.delivery_id, "email")
        html = embed_images(message.html, message.images)  # a browser cannot see cid: parts
        eml = stem.with_suffix(".eml")
        # The .eml last: whoever waits for it finds the .html there too.
        await self._write({stem.with_suffix(".html"): html.encode(), eml: message.raw.data})
        return str(eml.relative_to(self._directory))

    async def send_sms(self, message: SmsMessage) -> str:
        """Write the SMS with its sender, recipient, encoding and segment count."""
        stem = self._stem(message.label, message.delivery_id, "sms")
        meta = {k: getattr(message, k) for k in ("sender", "to", "encoding", "segments")}
        content = f"{json.dumps(meta, ensure_ascii=False)}\n\n{message.body}\n"
        txt = stem.with_suffix(".txt")
        await self._write({txt: content.encode()})
        return str(txt.relative_to(self._directory))

    def _stem(self, label: str, delivery_id: str, channel: str) -> Path:
        """Inside the outbox whatever the label holds: it comes from event data (order numbers)."""
        shop, _, rest = label.partition("/")
        order, _, kind = rest.rpartition("/")  # an order number's own slashes stay in one folder
        folders = [_segment(part) for part in (shop, order, kind) if part]
        digest = hashlib.sha256(delivery_id.encode()).hexdigest()[:10]
        return self._directory.joinpath(*folders, f"{channel}-{digest}")

    async def _write(self, files: dict[Path, bytes]) -> None:
        """Write the files of one message, in one trip to a worker thread."""
        try:
            await asyncio.to_thread(self._write_files, files)
        except OSError as error:
            # The error's text holds the path; the reason keeps to what went wrong (ENOSPC, ...).
            code = errno.errorcode.get(error.errno or 0, type(error).__name__)
            raise RetryableDeliveryError(f"outbox not writable ({code})") from None

    @staticmethod
    def _write_files(files: dict[Path, bytes]) -> None:
        for path, content in files.items():
            partial = path.with_suffix(path.suffix + ".partial")
            try:
                partial.write_bytes(content)
            except FileNotFoundError:  # its folder is new (or was removed): no mkdir per file
                path.parent.mkdir(parents=True, exist_ok=True)
                partial.write_bytes(content)
            partial.replace(path)  # atomic: a reader never sees half a message


def _segment(part: str) -> str:
    """One folder name: safe characters only, never `.` or `..` nor hidden, of bounded length."""
    safe = _UNSAFE.sub("_", part)[:_SEGMENT]
    return f"_{safe[1:]}" if safe.startswith(".") else safe
