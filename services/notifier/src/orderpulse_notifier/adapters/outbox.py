"""The local outbox: messages become files a person can open instead of leaving the machine."""

import asyncio
import hashlib
import json
from pathlib import Path

from orderpulse_notifier.adapters.mime import build_mime
from orderpulse_notifier.messages import EmailMessage, SmsMessage, embed_images


class OutboxSender:
    """Writes each email as `.eml` (and `.html` for a browser) and each SMS as `.txt`.

    File names derive from the delivery id, so a repeated send overwrites rather than duplicates.
    """

    name = "outbox"

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def send_email(self, message: EmailMessage) -> str:
        """Write the email; the provider id is its path inside the outbox."""
        mime = build_mime(message, domain="orderpulse.outbox")
        stem = self._stem(message.label, message.delivery_id, "email")
        html = embed_images(message.html, message.images)  # a browser cannot see cid: parts
        await asyncio.to_thread(self._write, stem.with_suffix(".html"), html.encode())
        await asyncio.to_thread(self._write, stem.with_suffix(".eml"), mime.as_bytes())
        return str(stem.with_suffix(".eml").relative_to(self._directory))

    async def send_sms(self, message: SmsMessage) -> str:
        """Write the SMS with its sender, recipient, encoding and segment count."""
        stem = self._stem(message.label, message.delivery_id, "sms")
        meta = {k: getattr(message, k) for k in ("sender", "to", "encoding", "segments")}
        content = f"{json.dumps(meta, ensure_ascii=False)}\n\n{message.body}\n"
        await asyncio.to_thread(self._write, stem.with_suffix(".txt"), content.encode())
        return str(stem.with_suffix(".txt").relative_to(self._directory))

    def _stem(self, label: str, delivery_id: str, channel: str) -> Path:
        digest = hashlib.sha256(delivery_id.encode()).hexdigest()[:10]
        return self._directory / label / f"{channel}-{digest}"

    @staticmethod
    def _write(path: Path, content: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_bytes(content)
        partial.replace(path)  # atomic: a reader never sees half a message
