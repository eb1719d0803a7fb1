"""The local outbox: files a person opens, in a browser or a mail client."""

from email import message_from_bytes, policy
from pathlib import Path

from orderpulse_notifier.adapters.outbox import OutboxSender
from orderpulse_notifier.messages import EmailMessage, InlineImage

PNG = b"\x89PNG\r\n\x1a\nnot really a picture"


async def test_an_email_is_written_for_a_mail_client_and_a_browser(tmp_path: Path) -> None:
    email = EmailMessage(
        delivery_id="n-1:email",
        sender="Shop <shop@example.cz>",
        to="Petr Novák <petr.novak@example.cz>",
        subject="Potvrzujeme vrácení zboží z objednávky č. 10045",
        html='<p>Kód</p><img src="cid:qr-1@orderpulse">',
        text="Kód",
        label="kvetinac-cz/10045/return_requested",
        images=(InlineImage("qr-1@orderpulse", PNG),),
    )
    path = tmp_path / await OutboxSender(tmp_path).send_email(email)

    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["Subject"] == email.subject
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert image.get_content() == PNG
    html = path.with_suffix(".html").read_text()
    assert "cid:" not in html  # a browser shows the picture from the file itself
    assert '<img src="data:image/png;base64,iVBORw0KGgpub3QgcmVhbGx5IGEgcGljdHVyZQ==">' in html
