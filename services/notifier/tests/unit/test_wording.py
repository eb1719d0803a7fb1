"""How the cancellation and failed-delivery messages are worded, in every locale (issue 16):
an apology only where the shop or the courier let the customer down, and a planned next attempt
never contradicted by a demand to choose a new day."""

import re
from datetime import date
from html import unescape
from typing import Any

import pytest
from jinja2 import Environment, PackageLoader

from orderpulse_notifier.formatting import LocaleFormat
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.service import render_sms
from orderpulse_notifier.shops import Shop, SmsDiacritics
from orderpulse_schemas import examples, notice_models
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.values import Locale

LOCALES = tuple(locale.value for locale in Locale)
KINDS = sorted(notice_models())
# The stems an apology is said with, lower-case: "Omlouváme se", "Ospravedlňujeme sa",
# "Przepraszamy", "We are sorry" / "We apologise".
APOLOGY = {
    "cs": ("omlouv",),
    "sk": ("ospravedl",),
    "pl": ("przeprasz",),
    "en": ("sorry", "apolog"),
}
# Another day beside a planned attempt is offered on a condition, never demanded.
IF_THAT_DAY_DOES_NOT_SUIT = {
    "cs": "Pokud vám tento den nevyhovuje, můžete",
    "sk": "Ak vám tento deň nevyhovuje, môžete",
    "pl": "Jeśli ten dzień Ci nie odpowiada, możesz",
    "en": "If that day does not suit you, you can",
}
NEXT_ATTEMPT = date(2026, 11, 27)
SHOP_REASONS = ["out_of_stock", "payment_failed", "fraud_suspected", "other"]
# Why an attempt failed: the customer's doing (out, or refused the parcel), or not.
CUSTOMER_SIDE = ["recipient_absent", "refused"]
COURIER_SIDE = ["address_not_found", "no_access", "damaged", "other"]


def request(kind: str, locale: str, **notice: Any) -> NotificationRequested:
    """The example request of `kind` in `locale`, with notice fields replaced as given."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["data"]["customer"]["locale"] = locale
    message["data"]["notice"].update(notice)
    return NotificationRequested.model_validate(message)


def texts(notification: NotificationRequested, shop: Shop) -> dict[str, str]:
    """Each part of the message as the customer reads it: the email's subject, plain text and
    HTML (entities resolved), and the SMS."""
    renderer = Renderer()
    email = renderer.email(notification, shop)
    return {
        "subject": email.subject,
        "text": email.text,
        "html": unescape(email.html),
        "sms": renderer.sms(notification, shop),
    }


def apologises(text: str, locale: str) -> bool:
    return any(stem in text.lower() for stem in APOLOGY[locale])


def demand(locale: str) -> str:
    """The locale's request to choose a new day, as the shared phrases word it."""
    phrases = Environment(loader=PackageLoader("orderpulse_notifier", "templates"))
    module = phrases.get_template(f"{locale}/_phrases.txt").module
    sentence: str = module.actions["arrange_redelivery"]  # type: ignore[attr-defined]
    return sentence


@pytest.mark.parametrize("locale", LOCALES)
def test_a_cancellation_the_customer_asked_for_has_no_apology(
    locale: str, shops: dict[str, Shop]
) -> None:
    notification = request("order_cancelled", locale, reason="customer_request", reason_text=None)
    for part, text in texts(notification, shops["kvetinac-cz"]).items():
        assert not apologises(text, locale), (part, text)


@pytest.mark.parametrize("reason", SHOP_REASONS)
@pytest.mark.parametrize("locale", LOCALES)
def test_a_cancellation_by_the_shop_apologises(
    locale: str, reason: str, shops: dict[str, Shop]
) -> None:
    notification = request("order_cancelled", locale, reason=reason, reason_text=None)
    parts = texts(notification, shops["kvetinac-cz"])
    assert apologises(parts["text"], locale), parts["text"]
    assert apologises(parts["html"], locale), parts["html"]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_planned_next_attempt_offers_another_day_only_as_an_option(
    locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    notification = request(
        "delivery_failed",
        locale,
        next_attempt=NEXT_ATTEMPT.isoformat(),
        customer_action="arrange_redelivery",
    )
    day = LocaleFormat(locale, shop.time_zone).date(NEXT_ATTEMPT)
    parts = texts(notification, shop)
    for part in ("text", "html"):
        text = parts[part]
        assert day in text, (part, text)
        assert demand(locale) not in text, f"{part}: the date, and a demand for a new day"
        option = text.find(IF_THAT_DAY_DOES_NOT_SUIT[locale])
        assert option > text.find(day), f"{part}: another day offered as an option, after it"
    assert demand(locale) not in parts["sms"]


@pytest.mark.parametrize("locale", LOCALES)
def test_without_a_next_attempt_the_customer_is_asked_to_choose_a_day(
    locale: str, shops: dict[str, Shop]
) -> None:
    notification = request(
        "delivery_failed", locale, next_attempt=None, customer_action="arrange_redelivery"
    )
    parts = texts(notification, shops["kvetinac-cz"])
    for part in ("text", "html"):
        assert demand(locale) in parts[part], parts[part]
        assert IF_THAT_DAY_DOES_NOT_SUIT[locale] not in parts[part]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_planned_attempt_with_a_depot_offers_the_depot_as_an_option(
    locale: str, shops: dict[str, Shop]
) -> None:
    notification = request("delivery_failed", locale, customer_action="collect_at_depot")
    parts = texts(notification, shops["kvetinac-cz"])
    for part in ("text", "html"):
        assert IF_THAT_DAY_DOES_NOT_SUIT[locale] in parts[part], parts[part]


@pytest.mark.parametrize("reason", COURIER_SIDE)
@pytest.mark.parametrize("locale", LOCALES)
def test_a_delivery_that_failed_on_the_courier_s_side_apologises(
    locale: str, reason: str, shops: dict[str, Shop]
) -> None:
    notification = request("delivery_failed", locale, reason=reason, reason_text=None)
    parts = texts(notification, shops["kvetinac-cz"])
    assert apologises(parts["text"], locale), parts["text"]
    assert apologises(parts["html"], locale), parts["html"]


@pytest.mark.parametrize("reason", CUSTOMER_SIDE)
@pytest.mark.parametrize("locale", LOCALES)
def test_a_delivery_that_failed_on_the_customer_s_side_does_not_apologise(
    locale: str, reason: str, shops: dict[str, Shop]
) -> None:
    notification = request("delivery_failed", locale, reason=reason, reason_text=None)
    for part, text in texts(notification, shops["kvetinac-cz"]).items():
        assert not apologises(text, locale), (part, text)


@pytest.mark.parametrize(
    ("kind", "notice"),
    [
        ("order_cancelled", {"reason": "customer_request"}),
        ("order_cancelled", {"reason": "out_of_stock"}),
        ("delivery_failed", {}),
        ("delivery_failed", {"next_attempt": None}),
        ("delivery_failed", {"customer_action": "none", "action_url": None}),
    ],
)
@pytest.mark.parametrize("locale", LOCALES)
def test_the_sms_stays_one_gsm_7_segment_once_transliterated(
    locale: str, kind: str, notice: dict[str, Any], shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    assert shop.sms_diacritics is SmsDiacritics.TRANSLITERATE
    sms = render_sms(Renderer(), request(kind, locale, **notice), shop)
    assert (sms.encoding, sms.segments) == ("GSM-7", 1), sms.body


# Free text of a reason, as a carrier or shop writes it: in its own language and voice.
FREE_TEXT = "Ich konnte die Hausnummer nicht finden"
FREE_TEXT_KINDS = [
    ("delivery_failed", {"reason": "address_not_found"}),
    ("order_delayed", {"source": "carrier", "reason": "weather", "new_expected_delivery": None}),
    ("order_cancelled", {"reason": "out_of_stock"}),
]


def note(locale: str, by_carrier: bool) -> str:
    """How the locale's phrases show `FREE_TEXT`."""
    phrases = Environment(loader=PackageLoader("orderpulse_notifier", "templates"))
    module = phrases.get_template(f"{locale}/_phrases.txt").module
    shown: str = module.note(FREE_TEXT, by_carrier)  # type: ignore[attr-defined]
    return shown


@pytest.mark.parametrize(("kind", "notice"), FREE_TEXT_KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_free_text_is_not_shown_beside_a_coded_reason(
    locale: str, kind: str, notice: dict[str, Any], shops: dict[str, Shop]
) -> None:
    notification = request(kind, locale, **notice, reason_text=FREE_TEXT)
    for part, text in texts(notification, shops["kvetinac-cz"]).items():
        assert FREE_TEXT not in text, part


@pytest.mark.parametrize(("kind", "notice"), FREE_TEXT_KINDS)
@pytest.mark.parametrize("locale", LOCALES)
def test_free_text_explains_other_once_in_the_email_and_attributed(
    locale: str, kind: str, notice: dict[str, Any], shops: dict[str, Shop]
) -> None:
    notification = request(kind, locale, **notice | {"reason": "other"}, reason_text=FREE_TEXT)
    shown = note(locale, by_carrier=kind != "order_cancelled")
    parts = texts(notification, shops["kvetinac-cz"])
    for part in ("text", "html"):
        assert parts[part].count(FREE_TEXT) == 1 and shown in parts[part], parts[part]
    assert FREE_TEXT not in parts["sms"] and FREE_TEXT not in parts["subject"]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_carrier_s_words_are_quoted_as_the_carrier_s(locale: str) -> None:
    carrier, shop = note(locale, by_carrier=True), note(locale, by_carrier=False)
    before, _, after = carrier.partition(FREE_TEXT)
    assert before[-1] in "„“" and after in "“”", carrier
    assert shop.endswith(FREE_TEXT) and carrier != shop


@pytest.mark.parametrize("kind", ["at_pickup_point", "pickup_reminder"])
@pytest.mark.parametrize("locale", LOCALES)
def test_a_pickup_sms_stays_one_segment_on_every_weekday(
    locale: str, kind: str, shops: dict[str, Shop]
) -> None:
    """The longest weekday names ("niedz., 31.05") and two-digit days and months included, at a
    point and at a locker, with a four-digit amount to pay."""
    shop = shops["kvetinac-cz"]
    staffed = examples.load("notifications.v1", f"notification.requested.{kind}")["data"]["notice"]
    locker = staffed["point"] | {"opening_hours": []}
    cod = {"amount": "1297.00", "currency": "CZK"}
    days = [f"2026-05-{day}" for day in range(25, 32)] + [f"2026-11-{day}" for day in range(23, 30)]
    for day in days:  # Monday to Sunday, twice
        for point in (staffed["point"], locker):
            notification = request(
                kind, locale, stored_until=f"{day}T21:59Z", point=point, cash_on_delivery=cod
            )
            sms = render_sms(Renderer(), notification, shop)
            assert (sms.encoding, sms.segments) == ("GSM-7", 1), sms.body


def phrase(locale: str, name: str) -> str:
    """A sentence of the locale's shared phrases."""
    phrases = Environment(loader=PackageLoader("orderpulse_notifier", "templates"))
    sentence: str = getattr(phrases.get_template(f"{locale}/_phrases.txt").module, name)
    return sentence


# What the refund must say (CRD art. 13): the original delivery is refunded too, and the refund
# waits at most for the goods or the proof they were sent, whichever comes first.
DELIVERY_REFUNDED = {
    "cs": "za dopravu",
    "sk": "za doručenie",
    "pl": "koszt dostawy",
    "en": "delivery",
}
PROOF_OF_SENDING = {
    "cs": ("doložíte, že jste ho odeslali", "co nastane dřív"),
    "sk": ("preukážete, že ste ho odoslali", "čo nastane skôr"),
    "pl": ("dowodu jego odesłania", "co nastąpi wcześniej"),
    "en": ("proof that you have posted them", "whichever comes first"),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_refund_terms_say_what_the_law_does(locale: str) -> None:
    assert DELIVERY_REFUNDED[locale] in phrase(locale, "refund_delivery")
    assert "14" in phrase(locale, "refund_within")
    assert all(words in phrase(locale, "refund_hold") for words in PROOF_OF_SENDING[locale])


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("return_instructions", ("refund_within", "refund_hold", "refund_delivery")),
        ("return_window_closing", ("refund_within", "refund_hold", "refund_delivery")),
        ("return_requested", ("refund_hold", "refund_delivery")),
        ("return_received", ("refund_within", "refund_delivery")),
    ],
)
@pytest.mark.parametrize("locale", LOCALES)
def test_return_emails_state_the_refund_terms(
    locale: str, kind: str, says: tuple[str, ...], shops: dict[str, Shop]
) -> None:
    parts = texts(request(kind, locale), shops["kvetinac-cz"])
    for name in says:
        assert phrase(locale, name) in " ".join(parts["text"].split()), (name, parts["text"])
        assert phrase(locale, name) in parts["html"], name


# English as a Czech writer translates it, and American formats (12-hour clock, `CZK1,297.00`).
NOT_ENGLISH = ["the way you paid", "handed over", "it is enough", "Below you will find", "sorry:"]
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
AMERICAN = re.compile(rf"\d ?[AP]M\b|\b[A-Z]{{3}}\d|\b(?:{MONTHS})\w* \d{{1,2}}\b(?!:)")


@pytest.mark.parametrize("kind", KINDS)
def test_english_reads_as_english_in_european_formats(kind: str, shops: dict[str, Shop]) -> None:
    for part, text in texts(request(kind, "en"), shops["kvetinac-cz"]).items():
        assert not [words for words in NOT_ENGLISH if words in text], (part, text)
        assert not AMERICAN.search(text.replace("\u00a0", " ")), (part, AMERICAN.search(text))


# The received-return message names the refund date the returns service computed, when it has one.
REFUND_DAY = date(2026, 11, 26)
REFUND_BY = {
    "cs": "Peníze vrátíme nejpozději: ",
    "sk": "Peniaze vrátime najneskôr: ",
    "pl": "Zwrot pieniędzy najpóźniej: ",
    "en": "Refund by: ",
}
SMS_REFUND_BY = {
    "cs": "Peníze vám vrátíme do ",
    "sk": "Peniaze vám vrátime do ",
    "pl": "Pieniądze zwrócimy do ",
    "en": "We will refund you by ",
}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_received_return_names_the_refund_date_when_it_is_known(
    locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    keep = shop.model_copy(update={"sms_diacritics": SmsDiacritics.KEEP})
    notification = request("return_received", locale, refund_by=REFUND_DAY.isoformat())
    dates = LocaleFormat(locale, shop.time_zone)
    parts = texts(notification, keep)
    for part in ("text", "html"):
        body = read(parts[part])
        assert REFUND_BY[locale] + dates.date(REFUND_DAY) in body, body
        assert phrase(locale, "refund_within") not in body
        assert phrase(locale, "refund_delivery") in body
    assert dates.date(REFUND_DAY) in preview(parts["html"])
    sms = parts["sms"]
    assert SMS_REFUND_BY[locale] + dates.sms_date(REFUND_DAY) in sms, sms
    assert "14" not in sms and sms.endswith(".") and ".." not in sms, sms


@pytest.mark.parametrize("locale", LOCALES)
def test_the_received_return_keeps_the_14_days_without_a_date(
    locale: str, shops: dict[str, Shop]
) -> None:
    parts = texts(request("return_received", locale, refund_by=None), shops["kvetinac-cz"])
    for part in ("text", "html"):
        body = read(parts[part])
        assert phrase(locale, "refund_within") in body, body
        assert REFUND_BY[locale].strip() not in body
    assert "14" in preview(parts["html"]) and "14" in parts["sms"]


@pytest.mark.parametrize("diacritics", list(SmsDiacritics))
@pytest.mark.parametrize("locale", LOCALES)
def test_the_received_return_sms_is_no_longer_with_the_date(
    locale: str, diacritics: SmsDiacritics, shops: dict[str, Shop]
) -> None:
    """The date in its longest form (a Wednesday, two-digit day and month) takes no more
    segments than the 14 days did."""
    shop = shops["kvetinac-cz"].model_copy(update={"sms_diacritics": diacritics})
    dated = request("return_received", locale, refund_by="2026-12-30")
    undated = request("return_received", locale, refund_by=None)
    with_date = render_sms(Renderer(), dated, shop).segments
    assert with_date <= render_sms(Renderer(), undated, shop).segments


def read(text: str) -> str:
    """The words of a message part as shown, without its tags or line breaks; the preview
    taken out, so a sentence is found in the body."""
    body = re.sub(r'<div class="preheader".*?</div>', "", text, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", "", body).split())


def preview(html: str) -> str:
    """The inbox preview: the hidden text the email's body opens with."""
    found = re.search(r'<div class="preheader"[^>]*>(.*?)</div>', html, re.S)
    assert found, "every email has a preheader"
    return found.group(1)
