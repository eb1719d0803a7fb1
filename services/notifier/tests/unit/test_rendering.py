import re
import shutil
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

import css_inline
import pytest
import segno
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)

from orderpulse_notifier.errors import RenderError
from orderpulse_notifier.formatting import LocaleFormat
from orderpulse_notifier.messages import InlineImage
from orderpulse_notifier.rendering import (
    QR_BORDER,
    QR_SCALE,
    RETURN_POLICY_KINDS,
    QrCodes,
    Renderer,
    _context,
)
from orderpulse_notifier.service import render_sms
from orderpulse_notifier.shops import Shop, SmsDiacritics
from orderpulse_notifier.sms import measure, transliterate
from orderpulse_schemas import examples, notice_models
from orderpulse_schemas.notifications import NotificationRequested, ReturnRefundedNotice
from orderpulse_schemas.returns import RefundMethod, ReturnMethod
from orderpulse_schemas.values import DelayReason, Locale

from ..conftest import about, notification
from ..png import SIGNATURE, decode
from .test_inlining import parsed

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "orderpulse_notifier" / "templates"
LOCALES = tuple(locale.value for locale in Locale)
KINDS = sorted(notice_models())  # from the contract: a kind without templates fails, never hides
RETURN_KINDS = [kind for kind in KINDS if kind.startswith("return_")]
PARTS = ("email_subject.txt", "email.html", "email.txt", "sms.txt")
OWN = "(the shop's own template)"
# Templates of the shop kvetinac-cz's own, which the HTML equivalence test renders with the rest.
OVERRIDES = {
    "cs/order_accepted/email.html": """{% extends "cs/_layout.html" %}
{% block title %}Objednávka č. {{ order_number }}{% endblock %}
{% block body %}
<p>Dobrý den, {{ greeting_name }}, (the shop's own template)</p>
<table class="items">
{% for item in notice.items %}
<tr><td>{{ item.name }}</td><td class="qty">{{ item.quantity }} ks</td></tr>
{% else %}
<tr><td>–</td></tr>
{% endfor %}
<tr class="total"><td>Celkem</td><td class="qty">{{ fmt.money(notice.total) }}</td></tr>
</table>
{% with window = notice.promised_delivery %}
<div class="facts"><p><strong>Doručení:</strong> {{ fmt.window(window) }}</p></div>
{% endwith %}
<p><a class="button" href="{{ shop.website }}">{{ shop.brand }}</a></p>
{% endblock %}
""",
    "en/order_dispatched/email.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<style>
h1 { font-size: 20px; }
#lead, .note span { color: #b91c1c; }
td > a { text-decoration: none; }
</style></head>
<body>
<h1>Order {{ order_number }} is on its way (the shop's own template)</h1>
<p id="lead">Hello {{ greeting_name }},</p>
<table><tr><td><a href="{{ notice.tracking_url or shop.website }}">{{
  fmt.carrier(notice.carrier) }}</a></td></tr></table>
<p class="note"><span>{{ fmt.window(notice.expected_delivery) }}</span></p>
</body></html>
""",
    "sk/return_requested/email.html": """{% extends "sk/_layout.html" %}
{% block title %}{{ order_number }}{% endblock %}
{% block body %}
<p>{{ greeting_name }} (the shop's own template)</p>
<div class="facts">
{% if notice.return_code %}
<p><span class="code">{{ notice.return_code }}</span></p>
<p><img src="{{ qr(notice.return_code) }}" width="160" height="160" alt="QR"></p>
{% endif %}
</div>
{% endblock %}
""",
    # A selector the load-time inlining cannot vouch for: this one is inlined per email.
    "pl/delivered/email.html": """<html><head><style>
p:first-child { font-weight: bold; }
p { margin: 0; }
</style></head>
<body><div><p>(the shop's own template) {{ order_number }}</p><p>{{ greeting_name }}</p></div>
</body></html>
""",
}


def fmt_phone(e164: str) -> str:
    return LocaleFormat("en", "Europe/Prague").phone(e164)


def returns_request(kind: str, locale: str = "cs", **notice: Any) -> NotificationRequested:
    """The example request of `kind` in `locale`, with notice fields replaced as given."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["data"]["customer"]["locale"] = locale
    message["data"]["notice"].update(notice)
    return NotificationRequested.model_validate(message)


def with_policy(shop: Shop, **policy: Any) -> Shop:
    """The shop with its returns policy changed as given."""
    assert shop.returns is not None
    return shop.model_copy(update={"returns": shop.returns.model_copy(update=policy)})


@pytest.fixture(scope="module")
def overrides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("overrides")
    for path, source in OVERRIDES.items():
        (directory / "kvetinac-cz" / path).parent.mkdir(parents=True)
        (directory / "kvetinac-cz" / path).write_text(source)
    return directory


def inlined_after_rendering(
    request: NotificationRequested, shop: Shop, overrides: Path
) -> tuple[str, tuple[InlineImage, ...]]:
    """The reference HTML and images: rendered by plain Jinja, then the CSS inlined into it."""
    environment = Environment(
        loader=ChoiceLoader(
            [PrefixLoader({"shops": FileSystemLoader(overrides)}), FileSystemLoader(TEMPLATES)]
        ),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    path = f"{request.data.customer.locale.value}/{request.data.notice.kind}/email.html"
    template = environment.select_template([f"shops/{request.shopid}/{path}", path])
    qr = QrCodes()
    html = template.render(_context(request, shop) | {"qr": qr})
    html = css_inline.CSSInliner(keep_style_tags=False).inline(html)
    return html, qr.shown_in(html)


def test_the_contract_has_the_nineteen_kinds_the_templates_cover() -> None:
    assert len(KINDS) == 19 and len(RETURN_KINDS) == 7


def test_every_kind_has_every_part_in_every_locale() -> None:
    directories = {
        kind.name for locale in LOCALES for kind in (TEMPLATES / locale).iterdir() if kind.is_dir()
    }
    assert directories - set(KINDS) == set(), "templates for a kind the contract does not have"
    kinds = set(KINDS)
    missing = [
        f"{locale}/{kind}/{part}"
        for locale in LOCALES
        for kind in kinds
        for part in PARTS
        if not (TEMPLATES / locale / kind / part).is_file()
    ]
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_locale_from_the_examples(
    kind: str, locale: str, shops: dict[str, Shop]
) -> None:
    request = notification(kind, locale=locale)
    shop = shops["kvetinac-cz"]
    subject, html, text, images = Renderer().email(request, shop)
    sms = measure(transliterate(Renderer().sms(request, shop)))
    assert request.data.order_number in subject
    assert request.data.order_number in text and request.data.order_number in html
    assert fmt_phone(shop.contact.phone) in text, "every email says how to reach a human"
    assert shop.contact.email in html
    assert (sms.encoding, sms.segments) == ("GSM-7", 1), sms.body
    for part in (subject, html, text, sms.body):
        assert "{{" not in part and "{%" not in part and "None" not in part
    assert sorted(re.findall(r'src="cid:([^"]+)"', html)) == sorted(i.cid for i in images)
    assert all(image.content.startswith(SIGNATURE) for image in images)


@pytest.mark.parametrize("locale", LOCALES)
def test_order_accepted_renders_every_part(locale: str, shops: dict[str, Shop]) -> None:
    request = notification("order_accepted", locale=locale)
    subject, html, text, images = Renderer().email(request, shops["kvetinac-cz"])
    sms = Renderer().sms(request, shops["kvetinac-cz"])
    assert images == ()
    for part in (subject, html, text, sms):
        assert "10045" in part
    for part in (html, text):
        assert "podpora@kvetinac.example.cz" in part
        assert "+420 222 333 444" in part
        assert "Keramický květináč Ø 30 cm" in part
    assert "{{" not in html + text + sms


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_the_html_is_what_inlining_the_css_after_rendering_gives(
    kind: str, locale: str, shops: dict[str, Shop], overrides: Path
) -> None:
    """The CSS goes into the templates when they load; the emails must not tell the difference.

    Compared as an HTML5 parser builds them (`parsed`): that writes the `<tbody>` a table implies
    and `&nbsp;` for a no-break space, as the reference has them, and leaves attribute order aside.
    """
    request, shop = notification(kind, locale=locale), shops["kvetinac-cz"]
    email = Renderer(overrides).email(request, shop)
    html, images = inlined_after_rendering(request, shop, overrides)
    assert (OWN in email.html) == (f"{locale}/{kind}/email.html" in OVERRIDES)
    assert "<style" not in email.html
    assert parsed(email.html) == parsed(html)
    assert email.images == images


def test_a_shop_s_own_template_serves_that_shop_only(
    shops: dict[str, Shop], overrides: Path
) -> None:
    request = notification("order_accepted")
    renderer, shop = Renderer(overrides), shops["kvetinac-cz"]
    assert OWN in renderer.email(request, shop).html
    assert OWN not in renderer.email(about(request, "20001", "jiny-obchod"), shop).html


def test_a_template_is_looked_up_once_so_a_new_override_takes_a_restart(
    tmp_path: Path, shops: dict[str, Shop]
) -> None:
    request, shop = notification("order_accepted"), shops["kvetinac-cz"]
    renderer = Renderer(tmp_path)
    before = renderer.email(request, shop).subject
    override = tmp_path / "kvetinac-cz" / "cs" / "order_accepted" / "email_subject.txt"
    override.parent.mkdir(parents=True)
    override.write_text("Nová šablona {{ order_number }}")
    assert renderer.email(request, shop).subject == before, "templates are read once"
    assert Renderer(tmp_path).email(request, shop).subject == "Nová šablona 10045"


NOVEMBER_24_25 = {"earliest": "2026-11-24", "latest": "2026-11-25"}
# The days the expected texts below name, whatever days the examples carry.
RETURN_DAYS: dict[str, dict[str, Any]] = {
    "return_instructions": {"withdrawal_deadline": "2026-12-11"},
    "return_window_closing": {"withdrawal_deadline": "2026-12-11"},
    "return_requested": {"requested_at": "2026-11-28T19:05:33+01:00", "refund_by": "2026-12-12"},
}


def test_czech_email_greets_in_the_vocative_and_formats_the_facts(shops: dict[str, Shop]) -> None:
    request = returns_request("order_accepted", promised_delivery=NOVEMBER_24_25)
    subject, _, text, _ = Renderer().email(request, shops["kvetinac-cz"])
    assert subject == "Přijali jsme vaši objednávku č. 10045"
    assert text.startswith("Dobrý den, Petře,\n\nděkujeme za vaši objednávku č. 10045.")
    assert " ".join(["Celkem:", "1", "297,00", "Kč"]) in " ".join(text.split())
    assert "Doručíme na adresu: Slezská 1482/56, 120 00 Praha 2" in text
    assert "po–pá 8:00–18:00, so 9:00–12:00" in text
    assert "24.–25. 11. 2026" in text


def test_html_has_inlined_css_and_no_style_block(shops: dict[str, Shop]) -> None:
    html = Renderer().email(notification("order_accepted"), shops["kvetinac-cz"]).html
    assert "<style" not in html
    assert 'style="' in html


def test_customer_text_is_escaped_in_html_but_not_in_plain_text(shops: dict[str, Shop]) -> None:
    request = notification("order_accepted", first_name="<b>Eva</b>", locale="en")
    _, html, text, _ = Renderer().email(request, shops["kvetinac-cz"])
    assert "&lt;b&gt;Eva&lt;/b&gt;" in html and "<b>Eva</b>" not in html
    assert "Hello <b>Eva</b>," in text


def test_a_missing_template_is_an_error_not_a_fallback(
    tmp_path: Path, shops: dict[str, Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    (templates / "sk" / "return_refunded" / "email.txt").unlink()  # cs, pl and en still have it
    monkeypatch.setattr(
        "orderpulse_notifier.rendering.PackageLoader", lambda *_: FileSystemLoader(templates)
    )
    request = notification("return_refunded", locale="sk")
    with pytest.raises(RenderError, match=r"sk/return_refunded/email\.txt"):
        Renderer().email(request, shops["kvetinac-cz"])
    assert Renderer().sms(request, shops["kvetinac-cz"]), "only the missing part fails"


def test_prepared_templates_are_all_compiled_before_the_first_message(
    tmp_path: Path, shops: dict[str, Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    monkeypatch.setattr(
        "orderpulse_notifier.rendering.PackageLoader", lambda *_: FileSystemLoader(templates)
    )
    renderer, shop = Renderer(), shops["kvetinac-cz"]
    renderer.prepare(["kvetinac-cz"])
    shutil.rmtree(templates)  # nothing is read from here on

    for locale in ("cs", "sk", "pl", "en"):
        request = notification("order_dispatched", locale=locale)
        assert renderer.email(request, shop).subject and renderer.sms(request, shop)


def test_a_broken_override_does_not_stop_the_others_from_being_prepared(
    tmp_path: Path, shops: dict[str, Shop], caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "kvetinac-cz" / "cs" / "order_accepted" / "email_subject.txt"
    broken.parent.mkdir(parents=True)
    broken.write_text("Objednávka {{ order_number ")
    renderer, shop = Renderer(tmp_path), shops["kvetinac-cz"]

    renderer.prepare(["kvetinac-cz"])

    assert "kvetinac-cz, cs/order_accepted/email_subject.txt" in caplog.text
    assert renderer.sms(notification("order_dispatched"), shop)
    with pytest.raises(RenderError, match="order_accepted/email_subject"):
        renderer.email(notification("order_accepted"), shop)


def test_a_shop_can_override_a_template(tmp_path: Path, shops: dict[str, Shop]) -> None:
    override = tmp_path / "kvetinac-cz" / "cs" / "order_accepted" / "email_subject.txt"
    override.parent.mkdir(parents=True)
    override.write_text("Objednávka {{ order_number }} je na cestě do výroby 🌱")
    subject = Renderer(tmp_path).email(notification("order_accepted"), shops["kvetinac-cz"]).subject
    assert subject == "Objednávka 10045 je na cestě do výroby 🌱"


# The returns messages.


def test_czech_return_subjects_and_texts(shops: dict[str, Shop]) -> None:
    shop, renderer = shops["kvetinac-cz"], Renderer()
    expected = {
        "return_instructions": (
            "Vrácení zboží z objednávky č. 10045 je možné do pá 11. 12.",
            "Květináč.cz: Zboží z objednávky č. 10045 můžete vrátit do pá 11. 12., kód Z-7KQ4-22."
            " Návod: https://kvetinac.example.cz/vraceni/10045",
        ),
        "return_window_closing": (
            "Připomínka: vrácení zboží z objednávky č. 10045 je možné jen do pá 11. 12.",
            "Květináč.cz: Zboží z objednávky č. 10045 můžete vrátit už jen do pá 11. 12., kód"
            " Z-7KQ4-22. Návod: https://kvetinac.example.cz/vraceni/10045",
        ),
        "return_requested": (
            "Potvrzujeme vrácení zboží z objednávky č. 10045",
            "Květináč.cz: Potvrzujeme vrácení zboží z objednávky č. 10045 (so 28. 11. 19:05)."
            " Kód Z-7KQ4-22. Peníze vrátíme do so 12. 12.",
        ),
        "return_label_issued": (
            "Štítek pro vrácení zboží z objednávky č. 10045 je připravený",
            "Květináč.cz: Štítek pro vrácení zboží z objednávky č. 10045 (Zásilkovna) si stáhněte"
            " zde: https://vraceni.example.cz/stitky/ret-10045-1.pdf",
        ),
        "return_received": (
            "Vrácené zboží z objednávky č. 10045 k nám dorazilo",
            "Květináč.cz: Vrácené zboží z objednávky č. 10045 k nám dorazilo. Peníze vám pošleme"
            " do 14 dnů od vašeho odstoupení od smlouvy.",
        ),
        "return_refunded": (
            "Vracíme vám peníze za vrácené zboží z objednávky č. 10045",
            "Květináč.cz: Za vrácené zboží z objednávky č. 10045 vám vracíme 549\xa0Kč stejným"
            " způsobem, jakým jste platili.",
        ),
        "return_rejected": (
            "Vrácení zboží z objednávky č. 10045 nemůžeme přijmout",
            "Květináč.cz: Vrácení zboží z objednávky č. 10045 nemůžeme přijmout. Důvod najdete"
            " v e-mailu, dotazy na +420 222 333 444.",
        ),
    }
    assert sorted(expected) == RETURN_KINDS
    for kind, (subject, sms) in expected.items():
        request = returns_request(kind, **RETURN_DAYS.get(kind, {}))
        assert renderer.email(request, shop).subject == subject
        assert renderer.sms(request, shop) == sms


@pytest.mark.parametrize("locale", LOCALES)
def test_the_instructions_say_until_when_how_where_and_the_refund(
    locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    request = notification("return_instructions", locale=locale)
    notice, policy = request.data.notice, shop.returns
    assert notice.kind == "return_instructions" and policy is not None
    assert notice.return_code and notice.return_url and notice.dropoff_point
    email = Renderer().email(request, shop)
    deadline = LocaleFormat(locale, shop.time_zone).date(notice.withdrawal_deadline)
    assert deadline in email.subject or str(notice.withdrawal_deadline.day) in email.subject
    for part in (email.html, email.text):
        assert deadline in part
        assert notice.return_code in part
        assert notice.dropoff_point.name in part
        assert notice.dropoff_point.address.street in part, "the drop-off point's address"
        assert f"{policy.address.postal_code} {policy.address.city}" in part, "where posts go"
        assert str(notice.return_url) in part
        assert "14" in part, "the refund comes within 14 days"
    assert f'href="{notice.return_url}"' in email.html
    [image] = email.images
    assert re.findall(r'src="cid:([^"]+)"', email.html) == [image.cid]
    assert image.content.startswith(SIGNATURE)


def test_the_portal_of_the_shop_stands_in_for_the_order_s_own_link(
    shops: dict[str, Shop],
) -> None:
    shop = shops["kvetinac-cz"]
    assert shop.returns is not None and shop.returns.portal is not None
    email = Renderer().email(returns_request("return_window_closing", return_url=None), shop)
    assert f'href="{shop.returns.portal}"' in email.html
    assert str(shop.returns.portal) in Renderer().sms(
        returns_request("return_window_closing", return_url=None), shop
    )
    without = with_policy(shop, portal=None)
    email = Renderer().email(returns_request("return_window_closing", return_url=None), without)
    assert 'class="button"' not in email.html
    sms = Renderer().sms(returns_request("return_window_closing", return_url=None), without)
    assert "http" not in sms and "e-mailu" in sms


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("received", ["delivered", "picked_up"])
def test_merged_instructions_open_with_the_arrival_news(
    received: str, locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    arrival = notification(received, locale=locale)  # its example is another order
    news = Renderer().email(arrival, shop).subject.replace(arrival.data.order_number, "10045")
    merged = Renderer().email(
        returns_request("return_instructions", locale, received=received), shop
    )
    alone = Renderer().email(returns_request("return_instructions", locale), shop)
    assert merged.subject.startswith(news), "e.g. `Vaše objednávka č. 10045 byla doručena – …`"
    assert news.lower() in merged.text.lower() and news.lower() in merged.html.lower()
    assert news.lower() not in alone.text.lower() + alone.subject.lower()
    assert merged.images == alone.images, "the rest of the message is the same"


def test_the_merged_czech_sms_says_it_arrived_and_until_when(shops: dict[str, Shop]) -> None:
    request = returns_request(
        "return_instructions", received="picked_up", **RETURN_DAYS["return_instructions"]
    )
    assert Renderer().sms(request, shops["kvetinac-cz"]) == (
        "Květináč.cz: Objednávka č. 10045 byla vyzvednuta, děkujeme! Vrátit zboží můžete do "
        "pá 11. 12., kód Z-7KQ4-22. Návod: https://kvetinac.example.cz/vraceni/10045"
    )


THURSDAY = "2026-11-26"
# Slovak Wednesday (streda) as readers know it, with or without diacritics: CLDR's `st`, the
# `str` of Slovak calendars, and the name.
SLOVAK_WEDNESDAY = {"st", "str", "streda"}


@pytest.mark.parametrize(
    ("kind", "notice"),
    [
        ("order_delayed", {"new_expected_delivery": {"earliest": THURSDAY, "latest": THURSDAY}}),
        ("order_dispatched", {"expected_delivery": {"earliest": THURSDAY, "latest": THURSDAY}}),
        ("delivery_failed", {"next_attempt": THURSDAY}),
        ("pickup_reminder", {"stored_until": f"{THURSDAY}T22:59:00Z"}),
        ("at_pickup_point", {"stored_until": f"{THURSDAY}T22:59:00Z"}),
        ("return_window_closing", {"withdrawal_deadline": THURSDAY}),
        ("return_requested", {"requested_at": f"{THURSDAY}T18:05:33Z", "refund_by": THURSDAY}),
    ],
)
def test_a_transliterated_slovak_sms_does_not_turn_thursday_into_wednesday(
    kind: str, notice: dict[str, Any], shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"].model_copy(update={"sms_diacritics": SmsDiacritics.TRANSLITERATE})
    sms = render_sms(Renderer(), returns_request(kind, "sk", **notice), shop)
    words = {word.lower() for word in re.findall(r"[^\W\d_]+", sms.body)}
    assert "stv 26. 11." in sms.body, sms.body
    assert words & SLOVAK_WEDNESDAY == set(), sms.body
    assert (sms.encoding, sms.segments) == ("GSM-7", 1), sms.body


def test_slovak_emails_keep_the_weekday_names_of_the_language(shops: dict[str, Shop]) -> None:
    request = returns_request("return_window_closing", "sk", withdrawal_deadline=THURSDAY)
    assert Renderer().email(request, shops["kvetinac-cz"]).subject.endswith("do št 26. 11.")
    assert Renderer().sms(request, shops["kvetinac-cz"]).count("do štv 26. 11.") == 1


def test_the_qr_code_is_a_png_of_the_return_code_linked_by_a_stable_cid(
    shops: dict[str, Shop],
) -> None:
    shop = shops["kvetinac-cz"]
    email = Renderer().email(notification("return_instructions"), shop)
    [image] = email.images
    assert image.mime_type == "image/png"
    assert f'<img src="cid:{image.cid}"' in email.html
    expected = segno.make_qr("Z-7KQ4-22", error="m")
    assert not expected.is_micro, "a full QR code: not every scanner reads Micro QR"
    assert qr_modules(image.content) == [[bool(m) for m in row] for row in expected.matrix]
    # A retry, or the reminder with the same code, carries the same picture under the same id.
    assert Renderer().email(notification("return_instructions"), shop).images == email.images
    assert Renderer().email(notification("return_window_closing"), shop).images == email.images
    assert "cid:" not in email.text


def test_a_qr_code_is_drawn_once_for_all_emails_that_show_it(
    shops: dict[str, Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    make_qr = segno.make_qr

    def counted(text: str, **options: Any) -> segno.QRCode:
        drawn.append(text)
        return make_qr(text, **options)

    monkeypatch.setattr(segno, "make_qr", counted)
    request = returns_request("return_requested", return_code="Z-ONCE-4821")
    emails = [Renderer().email(request, shops["kvetinac-cz"]) for _ in range(3)]
    assert drawn == ["Z-ONCE-4821"]
    assert emails[0].images == emails[2].images and len(emails[0].images) == 1


@pytest.mark.parametrize("kind", ["return_instructions", "return_window_closing"])
def test_without_a_return_code_there_is_no_qr_code(kind: str, shops: dict[str, Shop]) -> None:
    email = Renderer().email(returns_request(kind, return_code=None), shops["kvetinac-cz"])
    assert email.images == () and "cid:" not in email.html and "<img" not in email.html


def test_a_qr_code_of_nothing_is_an_error(tmp_path: Path, shops: dict[str, Shop]) -> None:
    override = tmp_path / "kvetinac-cz" / "cs" / "return_received" / "email.html"
    override.parent.mkdir(parents=True)
    override.write_text('<img src="{{ qr(notice.return_code) }}">')  # received has no code
    with pytest.raises(RenderError, match=r"cs/return_received/email\.html: qr\(\) needs text"):
        Renderer(tmp_path).email(notification("return_received"), shops["kvetinac-cz"])


@pytest.mark.parametrize("locale", LOCALES)
def test_the_withdrawal_is_acknowledged_with_its_moment_items_code_and_refund_date(
    locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    request = notification("return_requested", locale=locale)
    notice = request.data.notice
    assert notice.kind == "return_requested" and notice.refund_by and notice.return_code
    fmt = LocaleFormat(locale, shop.time_zone)
    email = Renderer().email(request, shop)
    for part in (email.html, email.text):
        assert fmt.moment(notice.requested_at) in part, "in the shop's time zone"
        assert fmt.date(notice.refund_by) in part
        assert notice.items[0].name in part and str(notice.items[0].quantity) in part
        assert notice.return_code in part
    assert len(email.images) == 1
    bare = returns_request("return_requested", locale, return_code=None, refund_by=None)
    email = Renderer().email(bare, shop)
    assert email.images == () and fmt.date(date(2026, 12, 12)) not in email.text
    assert "14" in email.text and "14" in Renderer().sms(bare, shop)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_return_method_is_explained_in_every_locale(
    locale: str, shops: dict[str, Shop]
) -> None:
    texts: dict[ReturnMethod, str] = {}
    for method in ReturnMethod:
        shop = with_policy(
            shops["kvetinac-cz"],
            methods=[method],
            dropoff_carriers=["ppl", "dpd", "gls"],
            portal=None,
            exchange=False,
            shipping_paid_by="shop",
        )
        instructions = returns_request("return_instructions", locale, return_url=None)
        requested = returns_request("return_requested", locale, method=method.value)
        texts[method] = Renderer().email(instructions, shop).text
        acknowledgement = Renderer().email(requested, shop).text
        for text in (texts[method], acknowledgement):
            assert "None" not in text and "{" not in text
    assert len(set(texts.values())) == len(ReturnMethod)
    assert "Skladová 12, 102 00 Praha 10" in texts[ReturnMethod.POST]
    assert "PPL, DPD" in texts[ReturnMethod.PICKUP_POINT_DROPOFF]
    assert "GLS" in texts[ReturnMethod.PICKUP_POINT_DROPOFF]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_policy_decides_exchange_and_who_pays_the_way_back(
    locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    request = notification("return_instructions", locale=locale)
    text = Renderer().email(request, shop).text
    assert Renderer().email(request, with_policy(shop, exchange=False)).text != text
    assert Renderer().email(request, with_policy(shop, shipping_paid_by="shop")).text != text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_refund_method_says_how_and_when_the_money_arrives(
    locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    emails = {
        method: Renderer().email(returns_request("return_refunded", locale, method=method), shop)
        for method in RefundMethod
    }
    notice = notification("return_refunded").data.notice
    assert isinstance(notice, ReturnRefundedNotice)
    amount = LocaleFormat(locale, shop.time_zone).money(notice.amount)
    for email in emails.values():
        assert amount in email.text and amount in unescape(email.html)
    assert len({email.text for email in emails.values()}) == len(RefundMethod)
    credit = emails[RefundMethod.STORE_CREDIT].subject
    assert credit != emails[RefundMethod.ORIGINAL_PAYMENT].subject, "credit is not money back"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_label_the_rejection_and_the_arrival_carry_their_facts(
    locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    label = Renderer().email(notification("return_label_issued", locale=locale), shop)
    carrier = LocaleFormat(locale, shop.time_zone).carrier("zasilkovna")
    for part in (label.html, label.text):
        assert "https://vraceni.example.cz/stitky/ret-10045-1.pdf" in part
        assert carrier in part and "Z3045718855" in part
    no_tracking = returns_request("return_label_issued", locale, tracking_number=None)
    assert "Z3045718855" not in Renderer().email(no_tracking, shop).text

    rejected = Renderer().email(notification("return_rejected", locale=locale), shop)
    # The body, without the footer that gives the shop's phone in every message.
    bodies = (rejected.html.split('class="footer"')[0], rejected.text.split("\n--\n")[0])
    for part in bodies:
        assert "Lhůta 14 dnů pro odstoupení od smlouvy uplynula 11. 12. 2026." in part
        assert "reklamace@example.cz" in part, "the shop's next step, as written"
        assert "+420 222 333 444" in part, "a human to reach, in the body"
    no_step = returns_request("return_rejected", locale, next_step=None)
    assert "reklamace@example.cz" not in Renderer().email(no_step, shop).text

    received = Renderer().email(notification("return_received", locale=locale), shop)
    assert "14" in received.text and "14" in received.html


def test_the_return_policy_kinds_are_those_that_say_how_to_return() -> None:
    assert {"return_instructions", "return_window_closing", "return_requested"} == set(
        RETURN_POLICY_KINDS
    )


@pytest.mark.parametrize("kind", sorted(RETURN_POLICY_KINDS))
def test_a_shop_without_a_returns_policy_cannot_say_how_to_return(
    kind: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"].model_copy(update={"returns": None})
    with pytest.raises(RenderError, match=r"'kvetinac-cz' has no returns policy \(`returns`"):
        Renderer().email(notification(kind), shop)
    with pytest.raises(RenderError, match="no returns policy"):
        Renderer().sms(notification(kind), shop)


@pytest.mark.parametrize("kind", sorted(set(RETURN_KINDS) - RETURN_POLICY_KINDS))
def test_a_shop_without_a_returns_policy_still_confirms_what_happened(
    kind: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"].model_copy(update={"returns": None})
    assert "10045" in Renderer().email(notification(kind), shop).subject
    assert "10045" in Renderer().sms(notification(kind), shop)


def qr_modules(png: bytes) -> list[list[bool]]:
    """The dark modules of a QR code PNG drawn at QR_SCALE with a light QR_BORDER."""
    pixels = png_pixels(png)
    size = len(pixels) // QR_SCALE - 2 * QR_BORDER
    assert len(pixels) == len(pixels[0]) == (size + 2 * QR_BORDER) * QR_SCALE, "square, whole"
    quiet = pixels[: QR_BORDER * QR_SCALE] + pixels[-QR_BORDER * QR_SCALE :]
    assert all(all(row) for row in quiet), "the quiet zone is light"
    middle = QR_SCALE // 2
    return [
        [
            not pixels[(QR_BORDER + y) * QR_SCALE + middle][(QR_BORDER + x) * QR_SCALE + middle]
            for x in range(size)
        ]
        for y in range(size)
    ]


def png_pixels(png: bytes) -> list[list[bool]]:
    """The pixels (True = light) of a 1-bit greyscale PNG, as segno writes them."""
    image = decode(png)
    assert (image.depth, image.colour) == (1, 0), "1-bit greyscale"
    return [
        [bool(line[x // 8] >> (7 - x % 8) & 1) for x in range(image.width)] for line in image.rows
    ]


# The example delay (the carrier is overloaded, new date Thursday 26 November) as each locale's SMS
# says it, before transliteration: why, and until when.
DELAY_SMS = {
    "cs": "Květináč.cz: Omlouváme se, objednávka č. 10045 se zpozdí, protože dopravce má neobvykle"
    " mnoho zásilek. Nový termín doručení: čt 26. 11.",
    "sk": "Květináč.cz: Ospravedlňujeme sa, objednávka č. 10045 mešká, pretože prepravca má"
    " mimoriadne veľa zásielok. Nový termín doručenia: štv 26. 11.",
    "pl": "Květináč.cz: Przepraszamy, zamówienie nr 10045 się opóźni, ponieważ przewoźnik ma"
    " wyjątkowo dużo przesyłek. Nowy termin dostawy: czw., 26.11.",
    "en": "Květináč.cz: Sorry, order 10045 is delayed because the carrier is unusually busy."
    " New delivery date: Thu 26 Nov.",
}
# Without a new date: the email's sentence, and the SMS's.
DATE_TO_FOLLOW = {
    "cs": (
        "Nový termín doručení vám pošleme, jakmile ho budeme znát.",
        "Nový termín vám pošleme, jakmile ho budeme znát.",
    ),
    "sk": (
        "Nový termín doručenia vám pošleme, hneď ako ho budeme poznať.",
        "Nový termín vám pošleme, len čo ho zistíme.",
    ),
    "pl": (
        "Nowy termin dostawy podamy, gdy tylko go poznamy.",
        "Nowy termin podamy, gdy tylko go poznamy.",
    ),
    "en": (
        "We will send you the new delivery date as soon as we know it.",
        "We will send you the new date as soon as we know it.",
    ),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_delay_sms_says_why_and_until_when(locale: str, shops: dict[str, Shop]) -> None:
    thursday = {"earliest": THURSDAY, "latest": THURSDAY}
    request = returns_request("order_delayed", locale, new_expected_delivery=thursday)
    assert Renderer().sms(request, shops["kvetinac-cz"]) == DELAY_SMS[locale]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_delay_sms_words_each_reason_code_its_own_way(
    locale: str, shops: dict[str, Shop]
) -> None:
    renderer, shop = Renderer(), shops["kvetinac-cz"]
    texts = {
        reason: renderer.sms(returns_request("order_delayed", locale, reason=reason), shop)
        for reason in DelayReason
    }
    assert len(set(texts.values())) == len(DelayReason), texts
    because = {"cs": ", protože ", "sk": ", pretože ", "pl": ", ponieważ ", "en": " because "}
    assert all(because[locale] in text for text in texts.values()), texts


@pytest.mark.parametrize("locale", LOCALES)
def test_a_delay_without_a_new_date_says_the_date_will_follow(
    locale: str, shops: dict[str, Shop]
) -> None:
    request = returns_request("order_delayed", locale, new_expected_delivery=None)
    email = Renderer().email(request, shops["kvetinac-cz"])
    sms = Renderer().sms(request, shops["kvetinac-cz"])
    in_email, in_sms = DATE_TO_FOLLOW[locale]
    assert in_email in email.text
    assert f"<p>{in_email}</p>" in re.sub(r"<p [^>]*>", "<p>", email.html)
    assert sms.startswith(DELAY_SMS[locale].split(". ")[0])
    assert sms.endswith(in_sms), sms
    for part in (email.subject, email.html, email.text, sms):
        assert "{{" not in part and "None" not in part


@pytest.mark.parametrize("new_date", [True, False])
@pytest.mark.parametrize("reason", list(DelayReason))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_delay_sms_fits_one_segment_once_transliterated(
    locale: str, reason: DelayReason, new_date: bool, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    assert shop.sms_diacritics is SmsDiacritics.TRANSLITERATE
    notice: dict[str, Any] = {"reason": reason}
    if not new_date:
        notice["new_expected_delivery"] = None
    sms = render_sms(Renderer(), returns_request("order_delayed", locale, **notice), shop)
    assert (sms.encoding, sms.segments) == ("GSM-7", 1), (len(sms.body), sms.body)
