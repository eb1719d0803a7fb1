"""The inbox preview (issue 16): every email opens with hidden text of its own kind and locale,
so a preview shows the message's main fact instead of "Květináč.cz Dobrý den…"."""

import re
from html import unescape

import pytest

from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Shop
from orderpulse_schemas import examples, notice_models
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.values import Locale

LOCALES = tuple(locale.value for locale in Locale)
KINDS = sorted(notice_models())
PREHEADER = re.compile(r'<body[^>]*>\s*<div class="preheader" style="([^"]*)">(.*?)</div>', re.S)
GREETINGS = ("Dobrý", "Dzień", "Hello")


def preheader(kind: str, locale: str, shop: Shop) -> tuple[str, str, str]:
    """The preview text of the example of `kind` in `locale`, its style and the subject."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["data"]["customer"]["locale"] = locale
    email = Renderer().email(NotificationRequested.model_validate(message), shop)
    found = PREHEADER.search(email.html)
    assert found, "the preheader is the body's first element"
    style, content = found.groups()
    text = unescape(content).replace("\u00a0", " ").split("\u034f")[0]
    return " ".join(text.split()), style, email.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_every_kind_has_its_own_hidden_preview(locale: str, shops: dict[str, Shop]) -> None:
    shop = shops["kvetinac-cz"]
    previews = {}
    for kind in KINDS:
        text, style, subject = preheader(kind, locale, shop)
        assert text and not text.startswith((*GREETINGS, shop.brand)), (kind, text)
        assert text != subject and "{" not in text, (kind, text)
        assert "display: none" in style and "mso-hide: all" in style, style
        previews[kind] = text
    assert len(set(previews.values())) == len(KINDS), previews


def test_the_preview_speaks_the_customer_s_language(shops: dict[str, Shop]) -> None:
    shop = shops["kvetinac-cz"]
    previews = {locale: preheader("at_pickup_point", locale, shop)[0] for locale in LOCALES}
    assert len(set(previews.values())) == len(LOCALES), previews
    code = examples.load("notifications.v1", "notification.requested.at_pickup_point")["data"]
    assert all(code["notice"]["pickup_code"] in text for text in previews.values()), previews
