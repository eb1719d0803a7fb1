"""Talk to a running broker with aiokafka: wait until it answers, create topics.

A broker counts as ready only when a metadata request lists a broker; an open port alone
can belong to a JVM that is still loading its controller.
"""

import asyncio
import contextlib
from collections.abc import Callable, Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

LEADER_ELECTION_TIMEOUT = 30.0


def _always() -> bool:
    return True


async def wait_for_kafka(bootstrap: str, *, alive: Callable[[], bool] = _always) -> None:
    """Return once ``bootstrap`` answers a metadata request with at least one broker.

    Raises ChildProcessError as soon as ``alive()`` turns False; bound it with
    ``asyncio.timeout``.
    """
    while True:
        if not alive():
            raise ChildProcessError("the broker process exited")
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            if await _port_open(bootstrap) and await _lists_a_broker(bootstrap):
                return
        await asyncio.sleep(0.2)


async def _port_open(bootstrap: str) -> bool:
    # Checked first because aiokafka logs an ERROR for every refused bootstrap attempt.
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 2)
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def _lists_a_broker(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))
    finally:
        await admin.close()


async def create_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int = 3,
    *,
    replication_factor: int = 1,
) -> None:
    """Create the topics that do not exist yet and wait until each partition has a leader."""
    wanted = list(dict.fromkeys(names))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        missing = [name for name in wanted if name not in set(await admin.list_topics())]
        if missing:
            new = [NewTopic(name, partitions, replication_factor) for name in missing]
            response = await admin.create_topics(new)
            for topic, code, *message in response.topic_errors:
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise for_code(code)(f"could not create topic {topic!r}: {message}")
        async with asyncio.timeout(LEADER_ELECTION_TIMEOUT):
            await _leaders_elected(admin, wanted)
    finally:
        await admin.close()


async def _leaders_elected(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    while topics:
        described = await admin.describe_topics(topics)
        if all(
            topic["error_code"] == 0
            and topic["partitions"]
            and all(partition["leader"] >= 0 for partition in topic["partitions"])
            for topic in described
        ):
            return
        await asyncio.sleep(0.1)
