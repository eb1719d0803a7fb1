"""The arrival thanks the customer in every channel and language: the delivered and picked-up
messages, and the return instructions when a shop merges them into the arrival message."""

import pytest

from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Shop
from orderpulse_notifier.sms import measure, transliterate
from orderpulse_schemas.notifications import NotificationRequested

from ..conftest import notification

LOCALES = ["cs", "sk", "pl", "en"]
THANKS = {"cs": "Děkujeme", "sk": "Ďakujeme", "pl": "Dziękujemy", "en": "Thank you"}


def merged(received: str, locale: str) -> NotificationRequested:
    """The return instructions as the arrival message itself, with a code (the longest text)."""
    request = notification("return_instructions", locale=locale)
    notice = request.data.notice.model_copy(
        update={"received": received, "return_code": "Z-7KQ4-22"}
    )
    return request.model_copy(update={"data": request.data.model_copy(update={"notice": notice})})


def thanks(text: str, locale: str) -> bool:
    folded = transliterate(text).casefold()
    return transliterate(THANKS[locale]).casefold() in folded


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["delivered", "picked_up", "merged-delivered", "merged-picked"])
def test_the_arrival_thanks_in_the_email_and_the_text(
    kind: str, locale: str, shops: dict[str, Shop]
) -> None:
    shop = shops["kvetinac-cz"]
    if kind.startswith("merged"):
        request = merged("picked_up" if kind.endswith("picked") else "delivered", locale)
    else:
        request = notification(kind, locale=locale)
    email = Renderer().email(request, shop)
    sms = measure(transliterate(Renderer().sms(request, shop)))
    assert thanks(email.html, locale) and thanks(email.text, locale)
    assert thanks(sms.body, locale), sms.body
    assert (sms.encoding, sms.segments) == ("GSM-7", 1), sms.body
