"""The couriers store on SQLite: parcels and points come back as saved, one poll's effects are
one transaction, and a save at a stale revision writes nothing."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from orderpulse_couriers.migrate import MIGRATIONS
from orderpulse_couriers.parcels import Followed
from orderpulse_couriers.reports import Milestone
from orderpulse_couriers.store import ConcurrentUpdate, Effects, SqlParcelStore, Stored
from orderpulse_schemas.values import PickupPoint

WARSAW = ZoneInfo("Europe/Warsaw")
KEY = ("inpost", "602677439331630337653846")
ORDER = ("shop", "o-1")
POINT = PickupPoint.model_validate(
    {
        "id": "KRA010M",
        "name": "Paczkomat KRA010M",
        "address": {
            "street": "Dietla 54",
            "city": "Kraków",
            "postal_code": "31-039",
            "country": "PL",
        },
    }
)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=WARSAW)
PARCEL = Followed(shop_id="shop", order_id="o-1", carrier=KEY[0], tracking_number=KEY[1])


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlParcelStore]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'couriers.db'}")
    await MIGRATIONS.upgrade(engine)
    yield SqlParcelStore(engine)
    await engine.dispose()


async def test_a_parcel_comes_back_as_it_was_saved(store: SqlParcelStore) -> None:
    await store.apply(Effects(followed=[replace(PARCEL, tracking_url="https://inpost.pl/t")]), NOW)
    heard = replace(
        PARCEL,
        tracking_url="https://inpost.pl/t",
        last=Milestone.IN_TRANSIT,
        last_time=datetime(2026, 3, 3, 10, 5, tzinfo=WARSAW),
        heard=frozenset({"a@1", "b@2"}),
    )
    await store.save([Stored(heard, 0)])

    loaded = await store.load([KEY, ("inpost", "other")])
    assert loaded.parcels == {KEY: Stored(heard, 1)}
    assert loaded.parcels[KEY].parcel.last_time == heard.last_time


async def test_a_save_at_a_stale_revision_writes_nothing(store: SqlParcelStore) -> None:
    await store.apply(Effects(followed=[PARCEL]), NOW)
    first = replace(PARCEL, heard=frozenset({"a@1"}))
    await store.save([Stored(first, 0)])

    with pytest.raises(ConcurrentUpdate):
        await store.save([Stored(replace(PARCEL, heard=frozenset({"b@2"})), 0)])
    assert (await store.load([KEY])).parcels[KEY] == Stored(first, 1)


async def test_following_a_parcel_twice_is_a_concurrent_update(store: SqlParcelStore) -> None:
    await store.apply(Effects(followed=[PARCEL]), NOW)
    with pytest.raises(ConcurrentUpdate):
        await store.apply(Effects(followed=[PARCEL], points=[(ORDER, POINT)]), NOW)
    assert (await store.load([], [ORDER])).points == {}  # nothing of that poll was written


async def test_a_point_is_kept_for_the_order_and_given_to_its_parcels(
    store: SqlParcelStore,
) -> None:
    other = replace(PARCEL, tracking_number="2", order_id="o-2")
    await store.apply(Effects(followed=[PARCEL, other], points=[(ORDER, POINT)]), NOW)

    loaded = await store.load([KEY, ("inpost", "2")], [ORDER, ("shop", "o-2")])
    assert loaded.points == {ORDER: POINT}
    assert loaded.parcels[KEY].parcel.point == POINT
    assert loaded.parcels[("inpost", "2")].parcel.point is None

    moved = POINT.model_copy(update={"id": "KRA011M"})
    await store.apply(
        Effects(points=[(ORDER, moved)], retracked=[(KEY, "https://inpost.pl/u")]), NOW
    )
    loaded = await store.load([KEY], [ORDER])
    assert loaded.points == {ORDER: moved}
    assert loaded.parcels[KEY].parcel.point == moved
    assert loaded.parcels[KEY].parcel.tracking_url == "https://inpost.pl/u"


async def test_parcels_and_points_are_forgotten_after_a_while(store: SqlParcelStore) -> None:
    old = replace(PARCEL, tracking_number="old", order_id="o-old")
    await store.apply(Effects(followed=[old], points=[(("shop", "o-old"), POINT)]), NOW)
    later = NOW + timedelta(days=1)
    await store.apply(Effects(followed=[PARCEL], points=[(ORDER, POINT)]), later)

    assert await store.forget(later) == (1, 1)

    loaded = await store.load([KEY, ("inpost", "old")], [ORDER, ("shop", "o-old")])
    assert set(loaded.parcels) == {KEY}
    assert set(loaded.points) == {ORDER}
    assert await store.forget(later) == (0, 0)


async def test_a_point_chosen_again_is_kept_from_then(store: SqlParcelStore) -> None:
    await store.apply(Effects(points=[(ORDER, POINT)]), NOW)
    await store.apply(Effects(points=[(ORDER, POINT)]), NOW + timedelta(days=2))

    assert await store.forget(NOW + timedelta(days=1)) == (0, 0)
