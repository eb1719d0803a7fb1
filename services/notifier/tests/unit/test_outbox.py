"""The local outbox: files a person opens, in a browser or a mail client."""

import asyncio
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from orderpulse_notifier.adapters.outbox import OutboxSender
from orderpulse_notifier.errors import RetryableDeliveryError
from orderpulse_notifier.messages import EmailMessage, InlineImage, SmsMessage

PNG = b"\x89PNG\r\n\x1a\nnot really a picture"
EMAIL = EmailMessage(
    delivery_id="n-1:email",
    sender="Shop <shop@example.cz>",
    to="Petr Novák <petr.novak@example.cz>",
    subject="Potvrzujeme vrácení zboží z objednávky č. 10045",
    html='<p>Kód</p><img src="cid:qr-1@orderpulse">',
    text="Kód",
    label="kvetinac-cz/10045/return_requested",
    images=(InlineImage("qr-1@orderpulse", PNG),),
)
SMS = SmsMessage(
    delivery_id="n-1:sms",
    sender="Kvetinac",
    to="+420601123456",
    body="Objednávka č. 10045 je na cestě.",
    encoding="UCS-2",
    segments=1,
    label="kvetinac-cz/10045/order_dispatched",
)


def files(directory: Path, pattern: str) -> list[Path]:
    return list(directory.rglob(pattern))


async def test_an_email_is_written_for_a_mail_client_and_a_browser(tmp_path: Path) -> None:
    path = tmp_path / await OutboxSender(tmp_path).send_email(EMAIL)

    assert path.relative_to(tmp_path).parent == Path("kvetinac-cz/10045/return_requested")
    assert path.read_bytes() == EMAIL.raw.data  # the bytes any other provider would send
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["Subject"] == EMAIL.subject
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert image.get_content() == PNG
    html = path.with_suffix(".html").read_text()
    assert "cid:" not in html  # a browser shows the picture from the file itself
    assert '<img src="data:image/png;base64,iVBORw0KGgpub3QgcmVhbGx5IGEgcGljdHVyZQ==">' in html
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, f"{path.stem}.html"]


async def test_an_sms_is_written_with_what_the_network_charges(tmp_path: Path) -> None:
    path = tmp_path / await OutboxSender(tmp_path).send_sms(SMS)

    assert path.relative_to(tmp_path).parent == Path("kvetinac-cz/10045/order_dispatched")
    meta, body = path.read_text(encoding="utf-8").split("\n\n", 1)
    assert '"to": "+420601123456"' in meta and '"segments": 1' in meta
    assert body == "Objednávka č. 10045 je na cestě.\n"


async def test_a_repeated_send_overwrites_its_files(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)

    first = await outbox.send_email(EMAIL)
    again = await outbox.send_email(replace(EMAIL, subject="Znovu"))

    assert first == again
    assert b"Subject: Znovu" in (tmp_path / again).read_bytes()
    assert len(files(tmp_path, "*.eml")) == 1


@pytest.mark.parametrize(
    "order",
    ["../..", "../../../etc", "/abs", "a\x00b", "x" * 500, ".", "..", ".hidden", "č. 1/2 \\ 3"],
)
async def test_whatever_the_order_number_the_files_stay_in_the_outbox(
    tmp_path: Path, order: str
) -> None:
    outbox = tmp_path / "outbox"
    label = f"kvetinac-cz/{order}/order_accepted"

    written = [
        outbox / await OutboxSender(outbox).send_email(replace(EMAIL, label=label)),
        outbox / await OutboxSender(outbox).send_sms(replace(SMS, label=label)),
    ]

    for path in written:
        assert path.resolve().is_relative_to(outbox.resolve())
        shop, folder, kind, _ = path.relative_to(outbox).parts
        assert (shop, kind) == ("kvetinac-cz", "order_accepted")
        assert folder not in (".", "..") and not folder.startswith(".")
        assert len(folder) <= 64
    assert {p.relative_to(tmp_path).parts[0] for p in files(tmp_path, "*")} == {"outbox"}


@pytest.mark.parametrize(
    ("label", "folders"),
    [
        ("kvetinac-cz/10045/order_accepted", ("kvetinac-cz", "10045", "order_accepted")),
        ("kvetinac-cz/2026/10045/order_accepted", ("kvetinac-cz", "2026_10045", "order_accepted")),
        ("/../etc/passwd", ("_._etc", "passwd")),
        ("just-a-shop", ("just-a-shop",)),
    ],
)
async def test_a_label_becomes_at_most_three_readable_folders(
    tmp_path: Path, label: str, folders: tuple[str, ...]
) -> None:
    path = tmp_path / await OutboxSender(tmp_path).send_email(replace(EMAIL, label=label))

    assert path.relative_to(tmp_path).parts[:-1] == folders


async def test_an_unwritable_outbox_is_retryable_without_personal_data(tmp_path: Path) -> None:
    directory = tmp_path / "outbox"
    directory.write_text("a file where the outbox should be")  # unwritable even for root
    outbox = OutboxSender(directory)

    with pytest.raises(RetryableDeliveryError) as error:
        await outbox.send_email(EMAIL)
    with pytest.raises(RetryableDeliveryError):
        await outbox.send_sms(SMS)

    assert str(error.value) == "outbox not writable (ENOTDIR)"
    assert error.value.__cause__ is None and error.value.__suppress_context__
    directory.unlink()
    assert await outbox.send_email(EMAIL)  # writable again


async def test_messages_sent_together_are_written_together_each_with_its_own_outcome(
    tmp_path: Path,
) -> None:
    outbox = OutboxSender(tmp_path)
    (tmp_path / "blocked-shop").write_text("a file where this shop's folder should be")
    blocked = replace(EMAIL, delivery_id="n-2:email", label="blocked-shop/10046/order_accepted")
    emails = [replace(EMAIL, delivery_id=f"n-{n}:email") for n in range(3, 53)]

    sent = await asyncio.gather(
        *(outbox.send_email(email) for email in [*emails, blocked]),
        outbox.send_sms(SMS),
        return_exceptions=True,
    )

    *written, failed, text = sent
    assert isinstance(failed, RetryableDeliveryError)  # one message's failure is its own
    assert str(failed) == "outbox not writable (ENOTDIR)"
    assert len(set(written)) == len(emails)
    for path in [*written, text]:
        assert isinstance(path, str) and (tmp_path / path).exists()
    assert not files(tmp_path, "*.partial")


async def test_a_send_cancelled_while_its_files_are_written_leaves_the_others_alone(
    tmp_path: Path,
) -> None:
    outbox = OutboxSender(tmp_path)
    cancelled = asyncio.ensure_future(outbox.send_email(EMAIL))
    other = asyncio.ensure_future(outbox.send_sms(SMS))
    await asyncio.sleep(0)  # both queued, their trip under way
    cancelled.cancel()

    assert (tmp_path / await other).exists()
    with pytest.raises(asyncio.CancelledError):
        await cancelled


async def test_a_folder_removed_meanwhile_is_made_again(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    path = tmp_path / await outbox.send_email(EMAIL)
    for file in path.parent.iterdir():
        file.unlink()
    path.parent.rmdir()

    assert tmp_path / await outbox.send_email(EMAIL) == path
    assert path.with_suffix(".html").exists()


async def test_an_erased_customer_s_messages_are_deleted_and_no_one_else_s(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    petr = tmp_path / await outbox.send_email(EMAIL)
    text = tmp_path / await outbox.send_sms(SMS)
    elsewhere = replace(EMAIL, delivery_id="n-2:email", to="Bojan <bojan.petr.novak@example.cz>")
    other = tmp_path / await outbox.send_email(replace(elsewhere, label="kvetinac-cz/10046/x"))
    longer = replace(SMS, delivery_id="n-2:sms", to="+4206011234567", label="kvetinac-cz/10047/x")
    other_text = tmp_path / await outbox.send_sms(longer)

    assert await outbox.forget("kvetinac-cz", "Petr.Novak@EXAMPLE.cz", None) == 1
    assert not petr.exists() and not petr.with_suffix(".html").exists()
    assert text.exists() and other.exists() and other.with_suffix(".html").exists()
    assert await outbox.forget("kvetinac-cz", None, "+420601123456") == 1
    assert not text.exists() and other_text.exists()
    assert not (tmp_path / "kvetinac-cz" / "10045").exists()  # its folders went with it
    assert await outbox.forget("another-shop", "petr.novak@example.cz", "+420601123456") == 0
