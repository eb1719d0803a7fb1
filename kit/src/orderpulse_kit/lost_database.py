"""Refusing to start on a lost database.

A service's database holds what it made of the records its consumer group has committed: orders
and their timers, deliveries and their claims, returns and their deadlines. When the database is
lost (a SQLite file deleted, a volume replaced, a PostgreSQL database dropped and created again)
but the group's offsets are not, a start carries on after those offsets on an empty database:
everything consumed before is forgotten, and nothing says so.

Every start records its group in the database (`Migrations.mark`, the table
`<service>_consumer_groups`). Before it migrates, a start that finds no such record and tables
that hold no row (missing, or just created by the migrations step, Kubernetes' init container)
asks Kafka whether the group has committed offsets. If it has, the service does not start: the
lifespan raises `DatabaseLost`, whose message says what happened and the ways on, and uvicorn
exits with code 3, as it does for a database that lacks a migration. The ways on: restore the
database from a backup; or start over deliberately, with `<PREFIX>_ACCEPT_NEW_DATABASE=true` for
one start (what was consumed stays lost), or by deleting the group's offsets (the group then reads
again what the topics still hold). Either way the start that goes ahead records the group, so the
next one asks nothing, even while the tables are still empty (the returns service stores nothing
until an order is delivered). A database with rows but no record (from before the record existed)
is recorded without asking.

If Kafka does not answer within `KAFKA_WAIT` seconds, the start fails too (`DatabaseUnchecked`):
without Kafka the service consumes nothing anyway, and an empty database has nothing to serve, so
waiting costs nothing the outage does not already cost. Going on instead would record the group
and let the consumer resume after its offsets as soon as Kafka answers: the very loss this is here
to stop. The orchestrator restarts the service (exit code 3), and the next start asks again.

Only the service's own group (`settings.group_id`) is asked: its records are what the tables are
made of. The question goes through the service's broker connection and its options; the
in-memory test broker connects to nothing, and then there is nobody to ask.

Not noticed: a database lost while its service was stopped for longer than Kafka keeps the
offsets of a group without members (`offsets.retention.minutes`, 7 days by default); the group
then starts from the beginning of what the topics hold.
"""

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition
from faststream.exceptions import IncorrectState
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.migrations import Migrations
from orderpulse_kit.settings import ServiceSettings

log = logging.getLogger(__name__)

KAFKA_WAIT = 20.0
"""Seconds Kafka gets to say whether the group has committed offsets (connecting included)."""

RETRY_AFTER = 0.5
"""Seconds between questions while Kafka answers with a retriable error."""

RUNBOOK = "deploy/README.md, 'A lost database'"


class DatabaseLost(RuntimeError):
    """The database holds nothing, but the service's consumer group has consumed before."""


class DatabaseUnchecked(RuntimeError):
    """The database holds nothing, and Kafka did not say whether the group has consumed before."""


async def refuse_a_lost_database(
    settings: ServiceSettings, engine: AsyncEngine, migrations: Migrations, broker: KafkaBroker
) -> None:
    """Raise DatabaseLost if the group has not started on this database, which holds nothing,
    but has committed offsets; DatabaseUnchecked if Kafka does not say. Return if the group has
    started on it before, it holds something, the group has committed nothing, or
    `settings.accept_new_database`."""
    group, accept = settings.group_id, _variable(settings, "accept_new_database")
    if await migrations.started(engine, group) or not await migrations.holds_nothing(engine):
        return
    if settings.accept_new_database:
        log.warning(
            "the database holds nothing and %s is set: starting without asking whether group %r "
            "has consumed before; unset it again (later starts on this database do not ask)",
            accept,
            group,
        )
        return
    retried: list[KafkaError] = []
    try:
        async with asyncio.timeout(KAFKA_WAIT):
            committed = await _committed(broker, group, retried)
    except Exception as error:
        await broker.stop()
        why = retried[-1] if isinstance(error, TimeoutError) and retried else error
        message = (
            f"not starting: the database holds nothing, and Kafka did not say within "
            f"{KAFKA_WAIT:.0f} s whether consumer group {group!r} has consumed before ({why!r}). "
            "Had it, and the database was lost, the consumer would carry on after the group's "
            "offsets once Kafka answers, as if nothing was lost; the next start asks again. A "
            f"first start waits for Kafka too; {accept}=true starts without asking. "
            f"See {RUNBOOK}."
        )
        log.error(message)
        raise DatabaseUnchecked(message) from error
    if committed is None:
        return
    if committed:
        await broker.stop()
        message = _lost(settings, accept, committed)
        log.error(message)
        raise DatabaseLost(message)


async def _committed(
    broker: KafkaBroker, group: str, retried: list[KafkaError]
) -> list[TopicPartition] | None:
    """The partitions on which `group` has a committed offset; None on the in-memory test
    broker, which has no admin client. Retriable errors are retried (and added to `retried`)
    until the caller's timeout."""
    await broker.connect()
    try:
        admin: AIOKafkaAdminClient = broker.config.admin_client
    except IncorrectState:
        return None
    while True:
        try:
            offsets = await admin.list_consumer_group_offsets(group)
        except KafkaError as error:
            # E.g. no group coordinator yet: a new cluster creates its offsets topic now.
            if not error.retriable:
                raise
            retried.append(error)
            log.debug("asking for the offsets of group %r again: %r", group, error)
            await asyncio.sleep(RETRY_AFTER)
        else:
            return sorted(tp for tp, meta in offsets.items() if meta.offset >= 0)


def _lost(settings: ServiceSettings, accept: str, committed: list[TopicPartition]) -> str:
    group = settings.group_id
    topics = ", ".join(sorted({tp.topic for tp in committed}))
    return (
        f"not starting: the database holds nothing, but consumer group {group!r} has committed "
        f"offsets on {len(committed)} partition(s) of {topics}. The service has consumed "
        "before, so its database was lost (deleted, replaced or emptied) and what it built "
        "from those records is gone; starting would carry on after those offsets as if nothing "
        "was lost. Either restore the database from a backup and start again, or start over "
        f"deliberately: set {accept}=true for one start (what was consumed stays lost), or, "
        "with every replica stopped, delete the group's offsets so that it reads again what "
        "the topics still hold (kafka-consumer-groups.sh --bootstrap-server <broker> --delete "
        f"--group {group}). See {RUNBOOK}."
    )


def _variable(settings: ServiceSettings, field: str) -> str:
    """The environment variable of `field`, e.g. `TRACKER_ACCEPT_NEW_DATABASE`."""
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()
