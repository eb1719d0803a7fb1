"""What every email adds about the order and the shop: the order's status page, the seller's legal
identity, and where it fits: the order summary, the model withdrawal form, the offer to cancel."""

import re
from html import unescape
from typing import Any

import pytest

from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Shop
from orderpulse_schemas import examples, notice_models
from orderpulse_schemas.notifications import DelaySource, NotificationRequested
from orderpulse_schemas.orders import PaymentMethod
from orderpulse_schemas.values import DelayReason, Locale

LOCALES = tuple(locale.value for locale in Locale)
KINDS = sorted(notice_models())
PAGE = "https://kvetinac.example.cz/objednavka"
FORM = "https://kvetinac.example.cz/odstoupeni-od-smlouvy"
# The example shop's ids, as each locale labels a Czech company's.
SELLER = {
    "cs": (
        "Prodávající: Květináč s.r.o., Vinohradská 2165/48, 120 00 Praha 2, Česká republika",
        "IČO: 05612578, DIČ: CZ05612578",
        "Zápis v obchodním rejstříku: C 267891, Městský soud v Praze",
    ),
    "sk": (
        "Predávajúci: Květináč s.r.o., Vinohradská 2165/48, 120 00 Praha 2, Česká republika",
        "IČO: 05612578, IČ DPH: CZ05612578",
        "Zápis v obchodnom registri: C 267891, Městský soud v Praze",
    ),
    "pl": (
        "Sprzedawca: Květináč s.r.o., Vinohradská 2165/48, 120 00 Praha 2, Czechy",
        "IČO: 05612578, NIP UE: CZ05612578",
        "Wpis do rejestru: C 267891, Městský soud v Praze",
    ),
    "en": (
        "Seller: Květináč s.r.o., Vinohradská 2165/48, 120 00 Praha 2, Czech Republic",
        "Company ID (IČO): 05612578, VAT no.: CZ05612578",
        "Commercial register: C 267891, Městský soud v Praze",
    ),
}
OFFER = {
    "cs": "Nechcete čekat? Objednávku můžete zrušit",
    "sk": "Nechcete čakať? Objednávku môžete zrušiť",
    "pl": "Nie chcesz czekać? Możesz anulować zamówienie",
    "en": "Would you rather not wait? You can cancel the order",
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def request(kind: str, locale: str, **notice: Any) -> NotificationRequested:
    """The example request of `kind` in `locale`, with notice fields replaced as given."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["data"]["customer"]["locale"] = locale
    message["data"]["notice"].update(notice)
    return NotificationRequested.model_validate(message)


def with_notice(locale: str, notice: dict[str, Any]) -> NotificationRequested:
    """The example order confirmation in `locale`, with `notice` in full instead of its own."""
    message = examples.load("notifications.v1", "notification.requested.order_accepted")
    message["data"]["customer"]["locale"] = locale
    message["data"]["notice"] = notice
    return NotificationRequested.model_validate(message)


def plain(text: str) -> str:
    """`text` with no-break and narrow spaces as spaces, as a reader sees them."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def shown(html: str) -> str:
    """The HTML's text, each paragraph, line break and table row on a line of its own."""
    html = re.sub(r"<br\s*/?>|</p>|</tr>|</td>", "\n", html)
    return plain(unescape(re.sub(r"<[^>]+>", "", html)))


def lines(text: str) -> list[str]:
    return [line.strip() for line in plain(text).splitlines() if line.strip()]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_email_links_the_status_page_and_names_the_seller(
    renderer: Renderer, shop: Shop, kind: str, locale: str
) -> None:
    asked = request(kind, locale)
    email, page = renderer.email(asked, shop), f"{PAGE}/{asked.data.order_number}"
    assert f'href="{page}"' in email.html
    assert page in email.text
    for line in SELLER[locale]:
        assert line in lines(shown(email.html))
        assert line in lines(email.text)
    assert PAGE not in renderer.sms(asked, shop)  # SMS keep their one segment


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_shop_without_a_status_page_or_identity_shows_neither(
    renderer: Renderer, shop: Shop, kind: str, locale: str
) -> None:
    bare = shop.model_copy(update={"status_page": None, "legal": None})
    email = renderer.email(request(kind, locale), bare)
    for part in (email.html, email.text):
        assert "/objednavka/" not in part
        assert "05612578" not in part and "Květináč s.r.o." not in part


def test_the_status_page_quotes_the_order_number(renderer: Renderer, shop: Shop) -> None:
    message = request("delivered", "cs").model_dump(mode="json")
    message["data"]["order_number"] = "2026/10 045#2"
    email = renderer.email(NotificationRequested.model_validate(message), shop)
    assert 'href="https://kvetinac.example.cz/objednavka/2026%2F10%20045%232"' in email.html


def polish_shop(shop: Shop) -> Shop:
    """A Polish company: KRS, NIP and its EU VAT number."""
    legal = {
        "company": "Doniczka sp. z o.o.",
        "address": {
            "street": "ul. Marszałkowska 84/92",
            "city": "Warszawa",
            "postal_code": "00-514",
            "country": "PL",
        },
        "company_id": "0000123456",
        "tax_id": "5252248481",
        "vat_id": "PL5252248481",
    }
    return Shop.model_validate(shop.model_dump() | {"country": "PL", "legal": legal})


@pytest.mark.parametrize(
    ("locale", "ids"),
    [
        ("pl", "KRS: 0000123456, NIP: 5252248481, NIP UE: PL5252248481"),
        ("cs", "KRS: 0000123456, NIP: 5252248481, DIČ: PL5252248481"),
        ("en", "KRS no.: 0000123456, Tax ID (NIP): 5252248481, VAT no.: PL5252248481"),
    ],
)
def test_a_polish_sellers_ids_are_labelled_as_poland_calls_them(
    renderer: Renderer, shop: Shop, locale: str, ids: str
) -> None:
    email = renderer.email(request("order_dispatched", locale), polish_shop(shop))
    assert ids in lines(email.text)
    assert ids in lines(shown(email.html))


SUMMARIES = {
    "cs": [
        "Keramický květináč Ø 30 cm: 2 ks × 529,00 Kč = 1 058,00 Kč",
        "Substrát pro pokojové rostliny 10 l: 1 ks × 149,00 Kč = 149,00 Kč",
        "Doprava: PPL – doručení na adresu, 90,00 Kč",
        "Platba: kartou online",
        "Celkem: 1 297,00 Kč",
    ],
    "en": [
        "Keramický květináč Ø 30 cm: 2 × CZK 529.00 = CZK 1,058.00",
        "Substrát pro pokojové rostliny 10 l: 1 × CZK 149.00 = CZK 149.00",
        "Delivery: PPL – to your address, CZK 90.00",
        "Payment: card (online)",
        "Total: CZK 1,297.00",
    ],
}


@pytest.mark.parametrize("locale", sorted(SUMMARIES))
def test_the_order_confirmation_summarises_items_delivery_payment_and_total(
    renderer: Renderer, shop: Shop, locale: str
) -> None:
    email = renderer.email(request("order_accepted", locale), shop)
    text = lines(email.text)
    start = next(i for i, line in enumerate(text) if line.startswith("- "))
    assert [line.removeprefix("- ") for line in text[start : start + 5]] == SUMMARIES[locale]
    html = shown(email.html)
    first, *_, last = SUMMARIES[locale]
    name, _, rest = first.partition(": ")
    quantity, _, line_price = rest.partition(" = ")
    assert f"{name}\n{quantity}\n{line_price}" in html  # name, pieces × price, the line's price
    delivery, _, price = SUMMARIES[locale][2].rpartition(", ")
    assert f"{delivery}\n{price}" in html
    assert SUMMARIES[locale][3] in lines(html)
    assert f"{last.partition(': ')[0]}\n{last.partition(': ')[2]}" in html


def test_a_polish_order_with_free_delivery_and_cash_on_delivery(
    renderer: Renderer, shop: Shop
) -> None:
    def pln(amount: str) -> dict[str, str]:
        return {"amount": amount, "currency": "PLN"}

    notice = request("order_accepted", "pl").data.notice.model_dump(mode="json")
    notice["items"] = [{"name": "Doniczka ceramiczna", "quantity": 3, "unit_price": pln("24.99")}]
    notice |= {
        "total": pln("79.97"),
        "delivery": request("at_pickup_point", "pl").data.notice.model_dump(mode="json")["point"],
        "carrier": "inpost",
        "delivery_price": pln("0.00"),
        "payment_method": "cash_on_delivery",
        "payment_price": pln("5.00"),
    }
    notice["delivery"] = {"method": "pickup_point", "point": notice["delivery"]}
    email = renderer.email(with_notice("pl", notice), shop)
    assert lines(email.text)[2:6] == [
        "- Doniczka ceramiczna: 3 szt. × 24,99 zł = 74,97 zł",
        "Dostawa: InPost – odbiór w punkcie, bezpłatnie",
        "Płatność: przy odbiorze (za pobraniem), 5,00 zł",
        "Razem: 79,97 zł",
    ]
    html = shown(email.html)
    assert "Doniczka ceramiczna\n3 szt. × 24,99 zł\n74,97 zł" in html
    assert "Płatność: przy odbiorze (za pobraniem)\n5,00 zł" in html


PAYMENT = {"cs": "Platba", "sk": "Platba", "pl": "Płatność", "en": "Payment"}
HOME_DELIVERY = {
    "cs": "Doprava: doručení na adresu",
    "sk": "Doprava: doručenie na adresu",
    "pl": "Dostawa: kurier pod wskazany adres",
    "en": "Delivery: to your address",
}


@pytest.mark.parametrize("locale", LOCALES)
def test_an_order_without_prices_or_payment_still_reads_whole(
    renderer: Renderer, shop: Shop, locale: str
) -> None:
    notice = request("order_accepted", locale).data.notice.model_dump(mode="json")
    for item in notice["items"]:
        del item["unit_price"]
    for key in ("carrier", "delivery_price", "payment_method"):
        del notice[key]
    text = renderer.email(with_notice(locale, notice), shop).text
    first_item = text.split("\n- ")[1].splitlines()[0]
    assert "=" not in first_item and "2" in first_item  # its pieces, no price
    assert PAYMENT[locale] not in text
    assert HOME_DELIVERY[locale] in lines(text)


def returns_shop(shop: Shop, form: str | None) -> Shop:
    assert shop.returns is not None
    policy = shop.returns.model_copy(update={"withdrawal_form": form})
    return shop.model_copy(update={"returns": policy})


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("kind", "notice"),
    [
        ("return_instructions", {}),
        ("return_window_closing", {}),
        ("return_instructions", {"received": "delivered"}),  # merged into the arrival message
    ],
)
def test_return_messages_link_the_model_withdrawal_form(
    renderer: Renderer, shop: Shop, locale: str, kind: str, notice: dict[str, Any]
) -> None:
    email = renderer.email(request(kind, locale, **notice), shop)
    assert f'href="{FORM}"' in email.html
    assert FORM in email.text
    without = renderer.email(request(kind, locale, **notice), returns_shop(shop, None))
    assert FORM not in without.html and FORM not in without.text


@pytest.mark.parametrize("locale", LOCALES)
def test_other_messages_do_not_link_the_withdrawal_form(
    renderer: Renderer, shop: Shop, locale: str
) -> None:
    for kind in ("order_accepted", "delivered", "return_requested", "return_received"):
        email = renderer.email(request(kind, locale), shop)
        assert FORM not in email.html and FORM not in email.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("source", [DelaySource.SHOP, DelaySource.CARRIER])
@pytest.mark.parametrize("reason", list(DelayReason))
def test_only_a_shop_caused_delay_offers_to_cancel_or_ship_what_is_ready(
    renderer: Renderer, shop: Shop, locale: str, source: DelaySource, reason: DelayReason
) -> None:
    email = renderer.email(request("order_delayed", locale, source=source, reason=reason), shop)
    offered = source is DelaySource.SHOP and reason in (
        DelayReason.OUT_OF_STOCK,
        DelayReason.SUPPLIER_DELAY,
    )
    assert (OFFER[locale] in plain(email.text)) is offered
    assert (OFFER[locale] in shown(email.html)) is offered
    if offered:  # how: by email or phone, the email already about this order
        assert "podpora@kvetinac.example.cz" in email.text.split(OFFER[locale])[1]
        assert "mailto:podpora@kvetinac.example.cz?subject=" in email.html
        assert "10045" in email.html.split("?subject=")[1].split('"')[0]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_payment_method_is_worded_in_every_locale(
    renderer: Renderer, shop: Shop, locale: str
) -> None:
    worded = set()
    for method in PaymentMethod:
        text = renderer.email(request("order_accepted", locale, payment_method=method), shop).text
        [line] = [line for line in lines(text) if line.startswith(PAYMENT[locale] + ": ")]
        worded.add(line)
    assert len(worded) == len(PaymentMethod)  # each its own words, none left as the code
    assert not any("_" in line for line in worded)
