from pathlib import Path

import pytest

from orderpulse_notifier.errors import RenderError
from orderpulse_notifier.formatting import LocaleFormat
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Shop
from orderpulse_notifier.sms import measure, transliterate
from orderpulse_schemas import notice_models

from ..conftest import notification

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "orderpulse_notifier" / "templates"
LOCALES = ("cs", "sk", "pl", "en")
KINDS = sorted(p.name for p in (TEMPLATES / "en").iterdir() if p.is_dir())
PARTS = ("email_subject.txt", "email.html", "email.txt", "sms.txt")


def fmt_phone(e164: str) -> str:
    return LocaleFormat("en", "Europe/Prague").phone(e164)


def test_every_kind_has_every_part_in_every_locale() -> None:
    kinds = {
        kind.name for locale in LOCALES for kind in (TEMPLATES / locale).iterdir() if kind.is_dir()
    }
    assert kinds, "no templates found"
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
    subject, html, text = Renderer().email(request, shop)
    sms = measure(transliterate(Renderer().sms(request, shop)))
    assert request.data.order_number in subject
    assert request.data.order_number in text and request.data.order_number in html
    assert fmt_phone(shop.contact.phone) in text, "every email says how to reach a human"
    assert shop.contact.email in html
    assert sms.segments <= 2, sms.body
    for part in (subject, html, text, sms.body):
        assert "{{" not in part and "{%" not in part and "None" not in part


@pytest.mark.parametrize("locale", LOCALES)
def test_order_accepted_renders_every_part(locale: str, shops: dict[str, Shop]) -> None:
    request = notification("order_accepted", locale=locale)
    subject, html, text = Renderer().email(request, shops["kvetinac-cz"])
    sms = Renderer().sms(request, shops["kvetinac-cz"])
    for part in (subject, html, text, sms):
        assert "10045" in part
    for part in (html, text):
        assert "podpora@kvetinac.example.cz" in part
        assert "+420 222 333 444" in part
        assert "Keramický květináč Ø 30 cm" in part
    assert "{{" not in html + text + sms


def test_czech_email_greets_in_the_vocative_and_formats_the_facts(shops: dict[str, Shop]) -> None:
    subject, _, text = Renderer().email(notification("order_accepted"), shops["kvetinac-cz"])
    assert subject == "Přijali jsme vaši objednávku č. 10045"
    assert text.startswith("Dobrý den, Petře,\n\nděkujeme za vaši objednávku č. 10045.")
    assert " ".join(["Celkem:", "1", "297,00", "Kč"]) in " ".join(text.split())
    assert "Doručíme na adresu: Slezská 1482/56, 120 00 Praha 2" in text
    assert "po–pá 8:00–18:00, so 9:00–12:00" in text
    assert "24.–25. 11. 2026" in text


def test_html_has_inlined_css_and_no_style_block(shops: dict[str, Shop]) -> None:
    _, html, _ = Renderer().email(notification("order_accepted"), shops["kvetinac-cz"])
    assert "<style" not in html
    assert 'style="' in html


def test_customer_text_is_escaped_in_html_but_not_in_plain_text(shops: dict[str, Shop]) -> None:
    request = notification("order_accepted", first_name="<b>Eva</b>", locale="en")
    _, html, text = Renderer().email(request, shops["kvetinac-cz"])
    assert "&lt;b&gt;Eva&lt;/b&gt;" in html and "<b>Eva</b>" not in html
    assert "Hello <b>Eva</b>," in text


def test_a_missing_template_is_an_error_not_a_fallback(shops: dict[str, Shop]) -> None:
    untemplated = sorted(set(notice_models()) - set(KINDS))  # the returns messages, for now
    assert untemplated, "every kind has templates: pick another way to show the error"
    request = notification(untemplated[0], locale="sk")
    with pytest.raises(RenderError, match=rf"sk/{untemplated[0]}/email_subject\.txt"):
        Renderer().email(request, shops["kvetinac-cz"])


def test_a_shop_can_override_a_template(tmp_path: Path, shops: dict[str, Shop]) -> None:
    override = tmp_path / "kvetinac-cz" / "cs" / "order_accepted" / "email_subject.txt"
    override.parent.mkdir(parents=True)
    override.write_text("Objednávka {{ order_number }} je na cestě do výroby 🌱")
    subject, _, _ = Renderer(tmp_path).email(notification("order_accepted"), shops["kvetinac-cz"])
    assert subject == "Objednávka 10045 je na cestě do výroby 🌱"
