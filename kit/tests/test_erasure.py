"""The key an email address is stored and matched by for erasure."""

import pytest
from email_validator import validate_email

from orderpulse_kit.erasure import email_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Petr.Novak@Example.CZ", "petr.novak@example.cz"),
        ("petr.novak@example.cz", "petr.novak@example.cz"),
        ("JANA+Objednavky@Seznam.cz", "jana+objednavky@seznam.cz"),
        ("Žofie.Dvořáková@Centrum.CZ", "žofie.dvořáková@centrum.cz"),
        ("petr@ÉXAMPLE.cz", "petr@éxample.cz"),
        ("Petr@XN--xample-9ua.cz", "petr@éxample.cz"),  # the same domain in IDNA
        ("not an Address", "not an address"),  # never comes: the contract refuses it
        (None, None),
    ],
)
def test_the_key_is_the_address_lower_cased_with_the_domain_normalised(
    address: str | None, key: str | None
) -> None:
    assert email_key(address) == key
    assert email_key(key) == key


@pytest.mark.parametrize(
    "address",
    ["Petr.Novak@Example.CZ", "o'Brien@Gmail.com", "A.B-C_d@Sub.Example.Co.UK", "x@WP.pl"],
)
def test_an_ascii_address_gets_the_key_validating_it_would_give(address: str) -> None:
    """It is only lower-cased, not validated: that is all the normalisation does to it."""
    assert (
        email_key(address) == validate_email(address, check_deliverability=False).normalized.lower()
    )
