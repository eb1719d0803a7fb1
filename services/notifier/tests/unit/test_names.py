"""Greetings by name (issue 16): the vocative where Czech and Polish use it, and no name at all
where the vocative would be a guess (O'Brien → "O'briene", Jean-Luc → "Jean-luci")."""

import re
from html import unescape

import pytest

from orderpulse_notifier.formatting import LocaleFormat
from orderpulse_notifier.names import czech_vocative, polish_vocative
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Shop
from orderpulse_schemas.values import Locale

from ..conftest import notification

PRAGUE = "Europe/Prague"
# Foreign or compound names, which no vocative rule of ours declines with certainty.
FOREIGN = ["O'Brien", "Jean-Luc", "McDonald", "DeShawn", "Jean", "Jacques", "Anne Marie", "Li."]
GREETINGS = {
    "cs": ("Dobrý den, {},", "Dobrý den,"),
    "sk": ("Dobrý deň, {},", "Dobrý deň,"),
    "pl": ("Dzień dobry, {}!", "Dzień dobry!"),
    "en": ("Hello {},", "Hello,"),
}


@pytest.mark.parametrize(
    ("name", "called"),
    [
        ("Petr", "Petře"),
        ("Jana", "Jano"),
        ("Tomáš", "Tomáši"),
        ("Lucie", "Lucie"),
        ("Jiří", "Jiří"),
        ("Marek", "Marku"),
        ("Zdeněk", "Zdeňku"),
        ("Karel", "Karle"),
        ("Dagmar", "Dagmar"),
        ("Ľubomír", "Ľubomíre"),
        ("Zuzana", "Zuzano"),
        ("Andrea", "Andreo"),
        ("Honza", "Honzo"),
        ("Ivo", "Ivo"),
        ("Edit", "Edit"),
        ("Ivet", "Ivet"),
    ],
)
def test_czech_and_slovak_names_in_the_czech_vocative(name: str, called: str) -> None:
    assert czech_vocative(name) == called


@pytest.mark.parametrize(
    "name", [*FOREIGN, "Abigail", "Luc", "Sasha", "Jessica", "Anh", "Grzegorz", "Łukasz"]
)
def test_czech_declines_no_foreign_or_compound_name(name: str) -> None:
    assert czech_vocative(name) is None


@pytest.mark.parametrize(
    ("name", "called"),
    [
        ("Katarzyna", "Katarzyno"),
        ("Anna", "Anno"),
        ("Małgorzata", "Małgorzato"),
        ("Zofia", "Zofio"),
        ("Maria", "Mario"),
        ("Kasia", "Kasiu"),
        ("Zosia", "Zosiu"),
        ("Ola", "Olu"),
        ("Kuba", "Kubo"),
        ("Piotr", "Piotrze"),
        ("Tomasz", "Tomaszu"),
        ("Jan", "Janie"),
        ("Paweł", "Pawle"),
        ("Marek", "Marku"),
        ("Michał", "Michale"),
        ("Krzysztof", "Krzysztofie"),
        ("Robert", "Robercie"),
        ("Kacper", "Kacprze"),
        ("Jerzy", "Jerzy"),
    ],
)
def test_polish_names_in_the_polish_vocative(name: str, called: str) -> None:
    assert polish_vocative(name) == called


@pytest.mark.parametrize(
    "name", [*FOREIGN, "Miriam", "Carmen", "Petr", "John", "Vanessa", "Jessica"]
)
def test_polish_declines_no_name_whose_vocative_is_a_guess(name: str) -> None:
    assert polish_vocative(name) is None


@pytest.mark.parametrize("name", ["Petr", "O'Brien", "Jean-Luc", "Katarzyna"])
@pytest.mark.parametrize("locale", ["sk", "en"])
def test_slovak_and_english_greet_by_the_name_as_given(locale: str, name: str) -> None:
    assert LocaleFormat(locale, PRAGUE).greeting_name(f" {name} ") == name


@pytest.mark.parametrize("name", ["Petr", "Katarzyna", "O'Brien", "Jean-Luc"])
@pytest.mark.parametrize("locale", [locale.value for locale in Locale])
def test_every_email_greets_by_the_vocative_or_without_a_name(
    locale: str, name: str, shops: dict[str, Shop]
) -> None:
    request = notification("order_dispatched", first_name=name, locale=locale)
    called = LocaleFormat(locale, PRAGUE).greeting_name(name)
    with_name, without = GREETINGS[locale]
    expected = with_name.format(called) if called else without
    email = Renderer().email(request, shops["kvetinac-cz"])
    assert email.text.startswith(expected + "\n"), email.text
    assert re.search(f"<p[^>]*>{re.escape(expected)}</p>", unescape(email.html)), email.html
    if locale in ("cs", "pl") and name in ("O'Brien", "Jean-Luc"):
        assert name not in email.text and not called
