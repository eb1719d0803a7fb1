"""The local Kafka fallback, for real: one broker for the module, a committed round trip,
idempotent start and stop, the CLI, and errors that show the broker's log.

The last two tests stop the module's broker, so they stay at the end of the file.
"""

import asyncio
import os
import re
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from orderpulse_devkit.errors import ServerFailed
from orderpulse_devkit.groups import caught_up
from orderpulse_devkit.kafka import LocalKafkaBroker, create_topics, kafka_bootstrap
from orderpulse_devkit.kafka_config import cluster_id
from orderpulse_devkit.kafka_jars import KAFKA_VERSION, POM_PATH

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalKafkaBroker]:
    broker = LocalKafkaBroker(tmp_path_factory.mktemp("kafka"))
    await broker.start()
    yield broker
    await broker.stop()


def test_pom_default_matches_the_pinned_version() -> None:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = ET.parse(POM_PATH).getroot().findtext("m:properties/m:kafka.version", namespaces=ns)
    assert version == KAFKA_VERSION


def test_cluster_ids_never_look_like_an_option() -> None:
    ids = {cluster_id() for _ in range(5000)}  # 1 in 64 base64 strings starts with "-"
    assert len(ids) == 5000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


async def test_message_round_trip_with_a_committed_group(broker: LocalKafkaBroker) -> None:
    topic, group = f"devkit-{uuid.uuid4().hex[:8]}", f"group-{uuid.uuid4().hex[:8]}"
    await create_topics(broker.bootstrap, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, b"order 42 accepted", key=b"order-42")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), 30)
        await consumer.commit()
        partition = TopicPartition(topic, message.partition)
        committed = await consumer.committed(partition)
    finally:
        await consumer.stop()
    assert (message.key, message.value) == (b"order-42", b"order 42 accepted")
    assert (message.partition, message.offset) == (sent.partition, sent.offset)
    assert committed == message.offset + 1


async def test_create_topics_skips_existing_ones(broker: LocalKafkaBroker) -> None:
    topic = f"devkit-{uuid.uuid4().hex[:8]}"
    await create_topics(broker.bootstrap, [topic, topic], partitions=2)
    await create_topics(broker.bootstrap, [topic], partitions=5)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert len(described["partitions"]) == 2


async def test_caught_up_on_a_topic_just_made_waits_for_the_group(broker: LocalKafkaBroker) -> None:
    """A fresh client may not know a new topic's partitions yet: "caught up" on none of them
    returned at once (a tracker test then raced the record it waited for, 1 run in 5)."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        for _ in range(5):
            topic = f"devkit-{uuid.uuid4().hex[:8]}"
            await create_topics(broker.bootstrap, [topic])
            await producer.send_and_wait(topic, b"customer erased", key=b"order-42")
            with pytest.raises(TimeoutError):  # nobody in the group has read it
                async with asyncio.timeout(0.5):
                    await caught_up(broker.bootstrap, f"group-{topic}", [topic])
    finally:
        await producer.stop()


async def test_start_again_keeps_the_running_broker(broker: LocalKafkaBroker) -> None:
    pid = broker.running_pid()
    assert pid is not None
    assert await broker.start() is False
    assert broker.running_pid() == pid
    assert (broker.workdir / "broker.log").read_text().count("Kafka Server started") == 1


async def test_env_address_is_used_as_is(
    broker: LocalKafkaBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap)
    async with kafka_bootstrap(tmp_path / "unused") as bootstrap:
        assert bootstrap == broker.bootstrap
    assert not (tmp_path / "unused").exists()


async def test_a_broker_that_dies_reports_its_log(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("version=1\nnode.id=7\ncluster.id=x\n")
    doomed = LocalKafkaBroker(tmp_path)  # formatted for node 7, configured as node 1
    with pytest.raises(ServerFailed) as failure:
        await doomed.start()
    message = str(failure.value)
    assert "process exited" in message
    assert str(doomed.log_path) in message
    assert "node" in message.split("log:", 1)[1]  # the tail explains why
    assert doomed.running_pid() is None


async def test_bad_config_fails_before_the_broker_starts(tmp_path: Path) -> None:
    reason = re.escape("Invalid value 0 for configuration num.partitions")
    with pytest.raises(ServerFailed, match=reason):
        await LocalKafkaBroker(tmp_path, partitions=0).start()


async def _cli(*args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orderpulse_devkit.kafka", *args,
        stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    stdout, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode().strip()


async def test_cli_start_and_status_see_the_running_broker(broker: LocalKafkaBroker) -> None:
    workdir = str(broker.workdir)
    assert await _cli("start", "--workdir", workdir) == (0, broker.bootstrap)
    code, status = await _cli("status", "--workdir", workdir)
    assert code == 0
    assert f"pid {broker.running_pid()}" in status


async def test_cli_stop_then_stop_again_is_idempotent(broker: LocalKafkaBroker) -> None:
    workdir = str(broker.workdir)
    assert (await _cli("stop", "--workdir", workdir))[0] == 0
    assert broker.running_pid() is None
    assert (await _cli("stop", "--workdir", workdir))[0] == 0
    assert await _cli("status", "--workdir", workdir) == (3, "Kafka is not running")


async def test_stop_is_idempotent(broker: LocalKafkaBroker) -> None:
    await broker.stop()
    await broker.stop()
    assert broker.running_pid() is None
    assert not broker.pid_path.exists()
    host, _, port = broker.bootstrap.rpartition(":")
    with pytest.raises(OSError):
        await asyncio.open_connection(host, int(port))
