"""The key an email address is stored and matched by for erasure, and the suppression list."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from email_validator import validate_email
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.database import connect
from orderpulse_kit.erasure import (
    Arriving,
    email_key,
    erased_since_sent,
    erasure_columns,
    remember_erasure,
)


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


erasures = sa.Table("test_erasures", sa.MetaData(), *erasure_columns())
SENT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ERASED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = connect(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(erasures.metadata.create_all)
    yield engine
    await engine.dispose()


def arriving(
    *, order: str = "ord-1", email: str | None = None, phone: str | None = None, shop: str = "shop"
) -> Arriving:
    return Arriving(shop, order, email, phone, SENT)


async def test_data_sent_before_an_erasure_is_suppressed_by_any_identifier_it_named(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await remember_erasure(
            conn, erasures, "shop", "Jana.Novakova@Seznam.cz", "+420601123456", ["ord-7"], ERASED
        )
        found = await erased_since_sent(
            conn,
            erasures,
            {
                "by email, any case": arriving(email="jana.novakova@SEZNAM.cz"),
                "by phone": arriving(phone="+420601123456"),
                "by order": arriving(order="ord-7"),
                "someone else": arriving(email="petr@seznam.cz", phone="+420602000000"),
                "another shop": arriving(shop="other", email="jana.novakova@seznam.cz"),
                "sent after the erasure": Arriving(
                    "shop", "ord-8", "jana.novakova@seznam.cz", None, ERASED + timedelta(seconds=1)
                ),
            },
        )
    assert found == {"by email, any case", "by phone", "by order"}


async def test_the_list_keeps_hashes_only_and_the_latest_erasure_of_an_identifier(
    engine: AsyncEngine,
) -> None:
    later = ERASED + timedelta(days=3)
    async with engine.begin() as conn:
        await remember_erasure(conn, erasures, "shop", "jana@seznam.cz", None, [], later)
        await remember_erasure(conn, erasures, "shop", "JANA@seznam.cz", None, [], ERASED)
        rows = (await conn.execute(sa.select(erasures))).all()
        found = await erased_since_sent(
            conn,
            erasures,
            {"between": Arriving("shop", "ord-1", "jana@seznam.cz", None, later)},
        )
    assert len(rows) == 1
    assert "jana" not in rows[0].identity and len(rows[0].identity) == 64
    assert found == {"between"}


async def test_nothing_is_looked_up_for_nothing_arriving(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await erased_since_sent(conn, erasures, {}) == set()
