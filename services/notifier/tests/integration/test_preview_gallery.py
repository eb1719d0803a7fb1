"""The preview gallery, opened in headless Chromium: every kind × locale card shows its messages,
for the example and the worst case (a pickup notice also without its code), and no email nor the
page scrolls sideways on a phone.

Chromium is Debian's `chromium` (installed by `scripts/setup.sh --with-postgres`); without it
these tests fail rather than skip.
"""

import json
import re
import shutil
import subprocess
from dataclasses import replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from orderpulse_notifier.messages import InlineImage, embed_images
from orderpulse_notifier.preview import (
    LOCALES,
    NO_CODE,
    PICKUP_KINDS,
    cases_of,
    example_request,
    main,
    notice_kinds,
    render,
    write_gallery,
)
from orderpulse_notifier.rendering import QR_BORDER, QR_SCALE, Renderer
from orderpulse_notifier.service import render_sms
from orderpulse_notifier.shops import Shop
from orderpulse_notifier.sms import measure
from orderpulse_schemas import notice_models
from orderpulse_schemas.notifications import NotificationRequested

from ..conftest import SHOPS_FILE, notification
from ..png import decode

SHOP = "kvetinac-cz"

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Loads the gallery in a frame and reports what a person would see in each card: the load event
# waits for every email's frame, and file access lets the probe look inside the frames.
PROBE = """<!DOCTYPE html>
<html><body><iframe id="gallery" src="%s" style="width:1400px;height:1800px"></iframe>
<pre id="report"></pre>
<script>
window.addEventListener("load", () => {
  const gallery = document.getElementById("gallery").contentDocument;
  const cards = [...gallery.querySelectorAll("article.card")].map((card) => {
    const box = card.getBoundingClientRect(), style = getComputedStyle(card);
    const frame = card.querySelector("iframe"), frameBox = frame.getBoundingClientRect();
    return {
      case: card.dataset.case, kind: card.dataset.kind, locale: card.dataset.locale,
      box: [box.left, box.top, box.width, box.height],
      shown: style.display !== "none" && style.visibility === "visible" && style.opacity === "1",
      subject: card.querySelector(".subject").innerText,
      sms: card.querySelector(".bubble").innerText,
      cost: card.querySelector(".cost").innerText,
      src: frame.getAttribute("src"), frame: [frameBox.width, frameBox.height],
      email: frame.contentDocument ? frame.contentDocument.body.innerText : null,
      images: frame.contentDocument ? [...frame.contentDocument.images].map((image) => ({
        src: image.getAttribute("src").slice(0, 22), loaded: image.complete,
        size: [image.naturalWidth, image.naturalHeight],
      })) : null,
    };
  });
  document.getElementById("report").textContent = JSON.stringify(cards);
});
</script></body></html>
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is missing: run scripts/setup.sh --with-postgres (apt: chromium)")
    return path


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("preview")
    main(["--shops", str(SHOPS_FILE), "--shop", "kvetinac-cz", "--out", str(out)])
    return out / "index.html"


WIDTHS = (375, 800)  # a phone, a desktop mail client's reading pane
FRAME_HEIGHT = 3000
# Each frame's viewport width and its document's width, once every frame has loaded.
SCROLL_PROBE = """<!DOCTYPE html>
<html><body>%s<pre id="report"></pre>
<script>
window.addEventListener("load", () => {
  const frames = [...document.querySelectorAll("iframe")].map((frame) => ({
    page: frame.dataset.page, viewport: frame.contentWindow.innerWidth,
    scroll: frame.contentDocument.documentElement.scrollWidth,
  }));
  document.getElementById("report").textContent = JSON.stringify(frames);
});
</script></body></html>
"""


def browse(chromium: str, profile: Path, *args: str) -> str:
    """Run headless Chromium once with a fresh profile; its standard output."""
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def reported(dom: str) -> list[dict[str, Any]]:
    """The probe's report, from the page as Chromium dumps it (text escaped as HTML)."""
    return list(json.loads(unescape(dom.split('<pre id="report">', 1)[1].split("</pre>", 1)[0])))


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_command_prints_the_gallery_and_writes_each_email_as_sent(
    gallery: Path, shops: dict[str, Shop], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--shops", str(SHOPS_FILE), "--out", str(tmp_path), "--kind", "order_accepted"])
    assert capsys.readouterr().out == f"{tmp_path / 'index.html'}\n"
    for locale in LOCALES:
        html = Renderer().email(notification("order_accepted", locale=locale), shops["kvetinac-cz"])
        written = tmp_path / "example" / locale / "order_accepted.html"
        assert written.read_bytes() == html.html.encode()


def test_the_gallery_embeds_the_qr_codes_the_email_attaches(
    gallery: Path, shops: dict[str, Shop]
) -> None:
    email = Renderer().email(notification("return_instructions"), shops["kvetinac-cz"])
    [image] = email.images
    written = gallery.parent / "example" / "cs" / "return_instructions.html"
    written = written.read_text(encoding="utf-8")
    assert written == embed_images(email.html, email.images)
    assert "cid:" not in written and 'src="data:image/png;base64,' in written
    assert f"cid:{image.cid}" in email.html, "the email itself keeps the cid: link"


def test_every_card_is_visible_with_its_subject_sms_and_loaded_email(
    chromium: str, gallery: Path, shops: dict[str, Shop], tmp_path: Path
) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE % gallery.as_uri(), encoding="utf-8")
    dom = browse(
        chromium,
        tmp_path / "profile",
        "--allow-file-access-from-files",
        "--dump-dom",
        probe.as_uri(),
    )
    cards = {(card["case"], card["kind"], card["locale"]): card for card in reported(dom)}

    shop = shops["kvetinac-cz"]
    expected = [
        (c, k, locale) for k in notice_kinds(shop) for c in cases_of(k) for locale in LOCALES
    ]
    every_kind = len(notice_models()) * len(LOCALES) * 2
    assert len(cards) == every_kind + len(PICKUP_KINDS) * len(LOCALES), "and pickups, no code"
    assert sorted(cards) == sorted(expected)
    qr_codes = 0
    for case, kind, locale in expected:
        card, request = cards[case, kind, locale], example_request(kind, locale, SHOP, case)
        subject, _, _, images = Renderer().email(request, shop)
        sms = render_sms(Renderer(), request, shop)
        left, top, width, height = card["box"]
        assert card["shown"] and left >= 0 and top >= 0 and width >= 380 and height >= 640, card
        assert words(card["subject"]) == words(subject)
        assert words(card["sms"]) == words(sms.body)
        segments = f"{sms.segments} segment{'' if sms.segments == 1 else 's'}"
        assert card["cost"] == f"SMS: {sms.encoding} · {segments}", "within the shop's cap"
        assert (gallery.parent / card["src"]).is_file()
        assert card["frame"][0] >= 380 and card["frame"][1] >= 640
        assert card["email"] is not None, f"{kind}/{locale}: the email's frame did not load"
        assert shop.brand in card["email"] and request.data.order_number in card["email"]
        assert len(card["images"]) == len(images), f"{kind}/{locale}: {card['images']}"
        for shown, image in zip(card["images"], images, strict=True):
            png = decode(image.content, 0)
            assert shown == {
                "src": "data:image/png;base64,",
                "loaded": True,
                "size": [png.width, png.height],
            }
            if case == "example":  # the example code fits a version 1 symbol
                assert png.width == (21 + 2 * QR_BORDER) * QR_SCALE
            qr_codes += 1
    # The return's instructions, reminder and acknowledgement, the pickup notice and reminder,
    # in the example and the worst case; a pickup notice without its code has none to show.
    assert qr_codes == 5 * len(LOCALES) * 2, "each shows its code as a QR code too"
    assert all(
        not cards[NO_CODE, kind, locale]["images"] for kind in PICKUP_KINDS for locale in LOCALES
    )


@pytest.mark.parametrize("kind", ["at_pickup_point", "order_accepted", "order_dispatched"])
def test_the_worst_case_row_has_long_names_points_codes_and_urls(
    kind: str, gallery: Path, shops: dict[str, Shop]
) -> None:
    """The worst case differs from the example where a layout gives way: long unbroken text."""
    request = example_request(kind, "cs", SHOP, "worst")
    notice, customer = request.data.notice.model_dump(mode="json"), request.data.customer
    assert len(customer.first_name) > 30 and len(customer.last_name or "") > 25
    longest = max(len(word) for word in json.dumps(notice, ensure_ascii=False).split())
    assert longest > 40, "a word no narrow screen fits unbroken"
    written = (gallery.parent / "worst" / "cs" / f"{kind}.html").read_text(encoding="utf-8")
    assert written == embed_images(*_email(request, shops[SHOP]))
    if kind == "at_pickup_point":
        assert len(notice["pickup_code"]) == 40 and len(notice["point"]["name"]) > 100
    elif kind == "order_dispatched":
        assert len(notice["tracking_url"]) > 200
    else:
        assert all(len(item["name"]) > 100 for item in notice["items"])


def _email(request: NotificationRequested, shop: Shop) -> tuple[str, tuple[InlineImage, ...]]:
    email = Renderer().email(request, shop)
    return email.html, email.images


def test_an_sms_over_the_shop_s_cap_is_flagged_as_not_sent(
    shops: dict[str, Shop], tmp_path: Path
) -> None:
    shop = shops[SHOP]
    one = render(Renderer(), SHOP, shop, "delivered", "cs")
    capped = shop.model_copy(
        update={"messaging": shop.messaging.model_copy(update={"sms_max_segments": 1})}
    )
    over = replace(one, locale="en", sms=measure("x" * 161))
    page = write_gallery(tmp_path, SHOP, capped, [one, over]).read_text(encoding="utf-8")
    costs = re.findall(r'<p class="cost">(.*?)</p>', page)
    assert costs == [
        "SMS: GSM-7 · 1 segment",
        'SMS: GSM-7 · 2 segments <span class="over">over the shop\'s 1: not sent</span>',
    ]


def test_no_email_and_not_the_gallery_scrolls_sideways_at_375_or_800_px(
    chromium: str, gallery: Path, tmp_path: Path
) -> None:
    """Each page in a frame of the width (its viewport): its document no wider than that.

    A page 500 px wide is measured too, so a probe that measured nothing would fail.
    """
    wide = tmp_path / "wide.html"
    wide.write_text('<table width="500"><tr><td>x</td></tr></table>', encoding="utf-8")
    emails = sorted(gallery.parent.glob("*/*/*.html"))
    no_code = [e for e in emails if e.parent.parent.name == NO_CODE]
    assert len(emails) == len(notice_models()) * len(LOCALES) * 2 + len(no_code)
    assert len(no_code) == len(PICKUP_KINDS) * len(LOCALES), "the pickups without a code too"
    pages = [gallery, wide, *emails]
    labels = ["index.html", "wide.html", *(str(e.relative_to(gallery.parent)) for e in emails)]
    frames = "".join(
        f'<iframe data-page="{n}" src="{page.as_uri()}" style="display:block;border:0;'
        f'width:{width}px;height:{FRAME_HEIGHT}px"></iframe>'
        for width in WIDTHS
        for n, page in enumerate(pages)
    )
    probe = tmp_path / "probe.html"
    probe.write_text(SCROLL_PROBE % frames, encoding="utf-8")
    dom = browse(
        chromium,
        tmp_path / "profile",
        "--allow-file-access-from-files",
        "--hide-scrollbars",
        "--dump-dom",
        probe.as_uri(),
    )
    report = reported(dom)
    assert len(report) == len(pages) * len(WIDTHS)
    too_wide = {
        (labels[int(frame["page"])], frame["viewport"])
        for frame in report
        if frame["scroll"] > frame["viewport"]
    }
    for frame in report:
        assert frame["viewport"] in WIDTHS and frame["scroll"] > 0, frame
    assert too_wide == {("wide.html", 375)}, "only the control page overflows"


def test_a_screenshot_of_the_gallery_shows_rendered_messages(
    chromium: str, gallery: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "gallery.png"
    browse(
        chromium,
        tmp_path / "profile",
        "--window-size=1400,1800",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        gallery.as_uri(),
    )
    width, height, rows = png_rows(shot.read_bytes(), limit=240)
    assert (width, height) == (1400, 1800)
    assert shot.stat().st_size > 100_000, "a page of emails compresses to far more than this"
    colours = {row[i : i + 3] for row in rows for i in range(0, len(row), 3)}
    assert len(colours) > 100, "the top of the gallery is (nearly) one colour"


def png_rows(png: bytes, limit: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first `limit` rows of an 8-bit RGB(A) PNG, as RGB bytes."""
    image = decode(png, limit)
    assert image.depth == 8 and image.colour in (2, 6), "unexpected PNG format"
    channels = 3 if image.colour == 2 else 4
    rows = [
        bytes(px for j in range(0, len(line), channels) for px in line[j : j + 3])
        for line in image.rows
    ]
    return image.width, image.height, rows
