"""Pickup notices as good as the carriers' own (issue 16): the carrier, a map, tracking, the code
as a QR code, how a locker opens or what a counter asks for, cash on delivery and by what, and
more days to collect when the carrier offers them."""

import re
from html import unescape
from typing import Any

import pytest
import segno

from orderpulse_notifier.carriers import carrier_name, locker_name
from orderpulse_notifier.maps import map_url
from orderpulse_notifier.preview import example_request
from orderpulse_notifier.rendering import RenderedEmail, Renderer
from orderpulse_notifier.service import render_sms
from orderpulse_notifier.shops import Shop, SmsDiacritics
from orderpulse_notifier.sms import transliterate
from orderpulse_schemas import examples
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.values import Locale, PickupPoint

from .test_preheader import PREHEADER
from .test_rendering import qr_modules

LOCALES = tuple(locale.value for locale in Locale)
KINDS = ("at_pickup_point", "pickup_reminder")
# An InPost Paczkomat as InPost's points API gives it, InPost's six-digit code, a Polish COD.
PACZKOMAT = {
    "carrier": "inpost",
    "tracking_number": "620500111222333444555666",
    "point": {
        "id": "KRA010M",
        "name": "Paczkomat KRA010M",
        "address": {
            "street": "ul. Józefa Dietla 64",
            "city": "Kraków",
            "postal_code": "31-039",
            "country": "PL",
        },
        "opening_hours": [],
        "kind": "locker",
        "latitude": 50.05381,
        "longitude": 19.94339,
    },
    "pickup_code": "719305",
    "stored_until": "2026-11-12T10:15:00+01:00",
    "cash_on_delivery": {"amount": "149.99", "currency": "PLN"},
    "card_accepted": True,
    "tracking_url": "https://inpost.example.pl/sledzenie-przesylek?number=620500111222333444555666",
    "storage_extension_url": "https://inpost.example.pl/przedluz?number=620500111222333444555666",
}
APP = {  # how a locker opens: in the carrier's app, or with the code
    "cs": "Paczkomat otevřete v aplikaci InPost nebo zadáním kódu pro vyzvednutí.",
    "sk": "Paczkomat otvoríte v aplikácii InPost alebo zadaním kódu na vyzdvihnutie.",
    "pl": "Paczkomat otworzysz w aplikacji InPost albo wpisując kod odbioru.",
    "en": "Open the Paczkomat in the InPost app or with your pickup code.",
}
IN_APP = {"cs": "v aplikaci", "sk": "v aplikácii", "pl": "w aplikacji", "en": " app "}
ID = {  # what a staffed counter may ask for
    "cs": "Obsluha vás může požádat o doklad totožnosti.",
    "sk": "Obsluha vás môže požiadať o doklad totožnosti.",
    "pl": "Obsługa może poprosić o dokument tożsamości.",
    "en": "You may be asked for ID.",
}
SHOW_QR = {
    "cs": "ukažte QR kód z tohoto e-mailu",
    "sk": "ukážte QR kód z tohto e-mailu",
    "pl": "pokaż kod QR z tego e-maila",
    "en": "show the QR code in this email",
}
CARD = {"cs": "(lze zaplatit i kartou)", "sk": "(môžete zaplatiť aj kartou)"}
CARD |= {"pl": "(można zapłacić kartą)", "en": "(card accepted)"}
CASH = {"cs": "(pouze v hotovosti)", "sk": "(iba v hotovosti)"}
CASH |= {"pl": "(tylko gotówką)", "en": "(cash only)"}
CARRIER = {"cs": "Zásilkovna", "sk": "Packeta", "pl": "Packeta", "en": "Packeta"}


def request(kind: str, locale: str, **notice: Any) -> NotificationRequested:
    """The example request of `kind` in `locale` (a Packeta counter), notice fields as given;
    a field given as None is left out."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["data"]["customer"]["locale"] = locale
    changed = message["data"]["notice"] | notice
    message["data"]["notice"] = {key: value for key, value in changed.items() if value is not None}
    return NotificationRequested.model_validate(message)


def point(**changes: Any) -> dict[str, Any]:
    """The example's Packeta point, changed as given (a field given as None is left out)."""
    example = examples.load("notifications.v1", "notification.requested.at_pickup_point")
    changed = example["data"]["notice"]["point"] | changes
    return {key: value for key, value in changed.items() if value is not None}


def email(notification: NotificationRequested, shop: Shop) -> tuple[RenderedEmail, str, str]:
    """The email, and its HTML and text as the customer reads them (entities resolved)."""
    rendered = Renderer().email(notification, shop)
    return rendered, unescape(rendered.html), rendered.text


def test_carriers_are_named_as_their_customers_know_them() -> None:
    assert [carrier_name("zasilkovna", locale) for locale in LOCALES] == list(CARRIER.values())
    assert carrier_name("ceska_posta", "cs") == "Česká pošta"
    assert carrier_name("balikovna", "cs") == "Balíkovna"
    assert carrier_name("inpost", "pl") == "InPost" and carrier_name("gls", "sk") == "GLS"
    assert carrier_name("raben_parcel", "pl") == "raben_parcel", "an unknown code as given"
    assert (locker_name("zasilkovna"), locker_name("inpost")) == ("Z-BOX", "Paczkomat")
    assert locker_name("ppl") == ""


def test_the_map_shows_the_point_at_its_coordinates_or_else_its_address() -> None:
    located = PickupPoint.model_validate(PACZKOMAT["point"])
    assert map_url(located) == (
        "https://www.google.com/maps/search/?api=1&query=50.05381%2C19.94339"
    )
    unlocated = located.model_copy(update={"latitude": None, "longitude": None})
    assert map_url(unlocated) == (
        "https://www.google.com/maps/search/?api=1"
        "&query=ul.+J%C3%B3zefa+Dietla+64%2C+31-039+Krak%C3%B3w%2C+PL"
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_a_locker_opens_in_the_carrier_s_app_or_with_the_code(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    _, html, text = email(request(kind, locale, **PACZKOMAT), shops["kvetinac-cz"])
    for part in (html, text):
        assert APP[locale] in part and ID[locale] not in part, part
        assert "InPost (Paczkomat)" in part, "the carrier and its lockers' name"
        assert f"{CARD[locale]}" in part
    assert 'href="https://www.google.com/maps/search/?api=1&query=50.05381%2C19.94339"' in html
    assert "https://www.google.com/maps/search/?api=1&query=50.05381%2C19.94339" in text
    assert f'<a href="{PACZKOMAT["tracking_url"]}"' in html and PACZKOMAT["tracking_url"] in text
    extension = PACZKOMAT["storage_extension_url"]
    assert f'<a href="{extension}"' in html and extension in text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_a_counter_asks_for_the_code_or_its_qr_code_and_maybe_an_id(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    rendered, html, text = email(request(kind, locale), shops["kvetinac-cz"])
    assert ID[locale] in html and ID[locale] in text
    assert SHOW_QR[locale] in html and SHOW_QR[locale] not in text, "text shows no picture"
    assert IN_APP[locale] not in html, "no app to open a counter with"
    assert f"{CARRIER[locale]}</p>" in rendered.html, "the carrier, no locker brand"
    assert 'href="https://www.google.com/maps/search/?api=1&query=50.07741%2C14.43862"' in html


@pytest.mark.parametrize("locale", LOCALES)
def test_a_point_of_unknown_kind_is_told_what_holds_at_both(
    locale: str, shops: dict[str, Shop]
) -> None:
    notification = request("at_pickup_point", locale, point=point(kind=None))
    _, html, text = email(notification, shops["kvetinac-cz"])
    for part in (html, text):
        assert ID[locale] not in part and IN_APP[locale] not in part
    assert SHOW_QR[locale] in html


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_pickup_code_is_also_a_qr_code_in_the_email(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    rendered, html, text = email(request(kind, locale, **PACZKOMAT), shops["kvetinac-cz"])
    [image] = rendered.images
    assert image.mime_type == "image/png"
    assert re.search(rf'<img src="cid:{re.escape(image.cid)}"[^>]* alt="[^"]*719305"', html)
    expected = segno.make_qr("719305", error="m")
    assert qr_modules(image.content) == [[bool(m) for m in row] for row in expected.matrix]
    assert "cid:" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_cash_on_delivery_says_whether_a_card_will_do_only_when_known(
    locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    said = {
        card: email(request("at_pickup_point", locale, card_accepted=card), shop)
        for card in (True, False, None)
    }
    for card, (_, html, text) in said.items():
        for part in (html, text):
            assert (CARD[locale] in part) is (card is True), (card, part)
            assert (CASH[locale] in part) is (card is False), (card, part)
    _, html, text = email(request("at_pickup_point", locale, cash_on_delivery=None), shop)
    assert CARD[locale] not in html + text, "nothing to pay, nothing to pay by"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_links_are_there_only_when_the_carrier_gave_them(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    given = request(kind, locale)
    notice = given.data.notice.model_dump(mode="json")
    links = (notice["tracking_url"], notice["storage_extension_url"])
    _, html, text = email(given, shops["kvetinac-cz"])
    assert all(link in html and link in text for link in links)
    bare = request(kind, locale, tracking_url=None, storage_extension_url=None)
    _, html, text = email(bare, shops["kvetinac-cz"])
    assert not any(link in html or link in text for link in links)
    assert "sledovani.example.cz" not in html + text
    assert "google.com/maps" in html, "the map needs no carrier's link"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_sms_keeps_to_the_essentials_in_one_segment(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    """A Paczkomat with a Polish amount to pay, once transliterated: no links, one segment."""
    shop = shops["kvetinac-cz"].model_copy(update={"sms_diacritics": SmsDiacritics.TRANSLITERATE})
    sms = render_sms(Renderer(), request(kind, locale, **PACZKOMAT), shop)
    assert (sms.encoding, sms.segments) == ("GSM-7", 1), sms.body
    assert "719305" in sms.body and "Paczkomat KRA010M" in sms.body
    assert "http" not in sms.body


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_worst_case_sms_stays_within_the_shop_s_cap(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    worst = example_request(kind, locale, "kvetinac-cz", "worst")
    assert len(str(worst.data.notice.model_dump()["storage_extension_url"])) > 150
    sms = render_sms(Renderer(), worst, shop)
    assert sms.segments <= shop.messaging.sms_max_segments, sms.body
    assert "http" not in sms.body


# --- Without a code (issue 17): InPost and Packeta send it to the customer themselves ---------

SENDS_CODE = {  # the sentence that stands where the code and its QR code would
    "cs": "Kód pro vyzvednutí vám pošle {0} v SMS nebo e-mailu a najdete ho i v aplikaci {0}.",
    "sk": "Kód na vyzdvihnutie vám pošle {0} v SMS alebo e-maile a nájdete ho aj v aplikácii {0}.",
    "pl": "Kod odbioru {0} wyśle Ci SMS-em lub e-mailem; znajdziesz go też w aplikacji {0}.",
    "en": "{0} sends your pickup code by SMS or email; you’ll also find it in the {0} app.",
}
SMS_SENDS_CODE = {  # once transliterated
    ("cs", "at_pickup_point"): "Kod vam posle {0}.",
    ("cs", "pickup_reminder"): "Kod vam posle {0}.",
    ("sk", "at_pickup_point"): "Kod vam posle {0}.",
    ("sk", "pickup_reminder"): "Kod vam posle {0}.",
    ("pl", "at_pickup_point"): "Kod wysle Ci {0}.",
    ("pl", "pickup_reminder"): "Kod wysle Ci {0}.",
    ("en", "at_pickup_point"): "{0} will send you the code.",
    ("en", "pickup_reminder"): "{0} sends you the code.",
}
CODE_LABEL = {"cs": "Kód pro vyzvednutí:", "sk": "Kód na vyzdvihnutie:"}
CODE_LABEL |= {"pl": "Kod odbioru:", "en": "Pickup code:"}
DEADLINE = {
    "cs": "Vyzvedněte do:",
    "sk": "Vyzdvihnite si do:",
    "pl": "Odbierz do:",
    "en": "Collect by:",
}
CODE_IN_SMS = re.compile(r"\b(Kód|Kod|Code) [0-9]")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_code_a_counter_s_email_says_who_sends_it_and_shows_no_qr_code(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    rendered, html, text = email(request(kind, locale, pickup_code=None), shops["kvetinac-cz"])
    assert rendered.images == () and "<img" not in rendered.html, "no QR code of nothing"
    sentence = SENDS_CODE[locale].format(CARRIER[locale])
    for part in (html, text):
        assert sentence in part and CODE_LABEL[locale] not in part, part
        assert "None" not in part and SHOW_QR[locale] not in part
        assert ID[locale] in part and DEADLINE[locale] in part, "the rest as with a code"
        assert "Praha 2, Vinohradská 48 (Papírnictví U Muzea)" in part
    assert "\n\n\n" not in text, "no line left empty where the code was"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_code_a_paczkomat_s_email_names_inpost_and_its_app(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    paczkomat = PACZKOMAT | {"pickup_code": None}
    rendered, html, text = email(request(kind, locale, **paczkomat), shops["kvetinac-cz"])
    assert rendered.images == ()
    for part in (html, text):
        assert SENDS_CODE[locale].format("InPost") in part and APP[locale] in part, part
        assert CODE_LABEL[locale] not in part and CARD[locale] in part


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_code_the_preheader_says_who_sends_it(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    rendered = Renderer().email(request(kind, locale, pickup_code=None), shops["kvetinac-cz"])
    found = PREHEADER.search(rendered.html)
    assert found, "the preheader is the body's first element"
    preheader = unescape(found.group(2)).split("\u034f")[0]
    assert CARRIER[locale] in preheader and "None" not in preheader, preheader


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_code_the_sms_says_who_sends_it_in_one_segment(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    """At the example's Packeta counter (a long name) and at a Paczkomat, on every weekday, with a
    four-digit amount to pay: still one GSM-7 segment once transliterated."""
    shop = shops["kvetinac-cz"]
    assert shop.sms_diacritics is SmsDiacritics.TRANSLITERATE
    staffed = request(kind, locale).data.notice.model_dump(mode="json")["point"]
    cod = {"amount": "1297.00", "currency": "CZK"}
    days = [f"2026-05-{day}" for day in range(25, 32)] + [f"2026-11-{day}" for day in range(23, 30)]
    for carrier, point, name in (
        ("zasilkovna", staffed, CARRIER[locale]),
        ("inpost", PACZKOMAT["point"], "InPost"),
    ):
        for day in days:
            notification = request(
                kind,
                locale,
                carrier=carrier,
                point=point,
                pickup_code=None,
                stored_until=f"{day}T21:59Z",
                cash_on_delivery=cod,
            )
            sms = render_sms(Renderer(), notification, shop)
            assert (sms.encoding, sms.segments) == ("GSM-7", 1), sms.body
            assert SMS_SENDS_CODE[locale, kind].format(transliterate(name)) in sms.body, sms.body
            assert not CODE_IN_SMS.search(sms.body) and "None" not in sms.body, sms.body
            assert transliterate(point["name"]) in sms.body, sms.body
            assert ("297" in sms.body) is (kind == "at_pickup_point"), "cash to pay, as before"
