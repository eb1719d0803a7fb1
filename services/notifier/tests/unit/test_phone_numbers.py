"""Numbers as shops store them: every way a customer's number is written reaches the same phone."""

import pytest

from orderpulse_notifier.policy import UnusableNumber, customer_zone, sms_number
from orderpulse_schemas.values import Customer, Locale


@pytest.mark.parametrize(
    ("written", "locale", "number"),
    [
        ("+420601123456", Locale.CS, "+420601123456"),
        ("+420 601 123 456", Locale.EN, "+420601123456"),
        ("00420 601-123-456", Locale.PL, "+420601123456"),
        ("601 123 456", Locale.CS, "+420601123456"),
        ("0901 123 456", Locale.SK, "+421901123456"),
        ("512 345 678", Locale.PL, "+48512345678"),
        ("(+48) 512-345-678", Locale.CS, "+48512345678"),
    ],
)
def test_a_number_written_as_shops_store_it_is_texted_in_e164(
    written: str, locale: Locale, number: str
) -> None:
    assert sms_number(written, locale) == number


@pytest.mark.parametrize(
    ("written", "locale", "reason"),
    [
        ("601 123 456", Locale.EN, "cannot be read"),  # national, and no country to read it in
        ("call me", Locale.CS, "cannot be read"),
        ("+420 000 000 000", Locale.CS, "not a valid number"),
        ("12", Locale.CS, "not a valid number"),
    ],
)
def test_a_number_no_text_can_go_to_says_why_without_the_number(
    written: str, locale: Locale, reason: str
) -> None:
    with pytest.raises(UnusableNumber, match=reason) as raised:
        sms_number(written, locale)
    assert not digits(written) or digits(written) not in digits(str(raised.value))


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def test_a_national_number_s_time_zone_is_its_country_s() -> None:
    customer = Customer(first_name="Jana", last_name="K", phone="512 345 678", locale=Locale.PL)
    assert customer_zone(customer, "Europe/Prague").key == "Europe/Warsaw"
