"""Render the files a single combined KRaft node needs: server.properties and logging.

Static quorum (``controller.quorum.voters``) so ``StorageTool format`` needs no
``--standalone``; replication factors of 1 and no rebalance delay so one node serves groups
at once (see reference/kafka.md sections 1.4 and 2). Few threads (the defaults, 3 network, 8 I/O
and 10 background, are for a broker with cores of its own): this one shares two cores with the
services it serves, where each thread woken per request waited for a core.
"""

import base64
import uuid
from pathlib import Path


def server_properties(
    *, port: int, controller_port: int, data_dir: Path, partitions: int = 3
) -> str:
    """Return server.properties for one broker+controller on 127.0.0.1."""
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data_dir}
num.partitions={partitions}
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=1
num.io.threads=2
background.threads=2
"""


LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.request.logger=WARN
"""
"""Console logging for Kafka 3.x (reload4j); the process's stdout goes to the log file."""

LOG4J2_PROPERTIES = """\
status=warn
appender.console.type=Console
appender.console.name=STDOUT
appender.console.layout.type=PatternLayout
appender.console.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=info
rootLogger.appenderRef.stdout.ref=STDOUT
"""
"""The same for Kafka 4.x (log4j2), so a move to 4.x only changes the pom and the pin."""


def cluster_id() -> str:
    """Return a new cluster id in Kafka's ``Uuid.toString()`` form (22 url-safe chars).

    Like Kafka's ``Uuid.randomUuid()`` it never starts with "-", which the storage tool's
    argument parser would read as an option.
    """
    while True:
        encoded = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not encoded.startswith("-"):
            return encoded


def advertised_bootstrap(properties: str) -> str | None:
    """Return host:port from ``advertised.listeners`` in a rendered server.properties."""
    for line in properties.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "advertised.listeners" and "://" in value:
            return value.split("://", 1)[1].split(",", 1)[0].strip()
    return None
