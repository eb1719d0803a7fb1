"""The optional Strimzi topics: every topic of the contract and its dead letters, well formed.

KafkaTopic is a custom resource, absent from the Kubernetes schemas kubernetes-validate ships, so
its shape is checked here against what Strimzi's v1beta2 KafkaTopic accepts.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orderpulse_schemas.topics import ALL_TOPICS

REPO = Path(__file__).resolve().parents[2]
STRIMZI = REPO / "deploy" / "k8s" / "strimzi"
SPEC_FIELDS = {"topicName", "partitions", "replicas", "config"}
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def topics(render: Callable[[Path], list[Obj]]) -> dict[str, Obj]:
    """Rendered KafkaTopics by topic name."""
    objects = render(STRIMZI)
    assert {(o["apiVersion"], o["kind"]) for o in objects} == {
        ("kafka.strimzi.io/v1beta2", "KafkaTopic")
    }
    named = {o["spec"].get("topicName", o["metadata"]["name"]): o for o in objects}
    assert len(named) == len(objects), "a topic is declared twice"
    return named


def test_every_topic_and_dead_letter_topic_is_declared(topics: dict[str, Obj]) -> None:
    expected = {t.name for t in ALL_TOPICS} | {t.dead_letter for t in ALL_TOPICS}
    assert set(topics) == expected


def test_topics_are_well_formed(topics: dict[str, Obj]) -> None:
    for name, topic in topics.items():
        metadata, spec = topic["metadata"], topic["spec"]
        assert DNS_SUBDOMAIN.fullmatch(metadata["name"]) and len(metadata["name"]) <= 253, name
        assert metadata["labels"]["strimzi.io/cluster"], f"{name}: which Kafka cluster?"
        assert metadata["namespace"], f"{name}: the Topic Operator's namespace"
        assert set(spec) <= SPEC_FIELDS, f"{name}: unknown fields {set(spec) - SPEC_FIELDS}"
        assert isinstance(spec["partitions"], int) and spec["partitions"] >= 1, name
        assert isinstance(spec["replicas"], int) and 1 <= spec["replicas"] <= 32767, name
        config = spec.get("config", {})
        assert all(isinstance(v, str | int | float | bool) for v in config.values()), name
        assert int(config.get("min.insync.replicas", 1)) <= spec["replicas"], name


def test_no_autoscaler_outgrows_the_partitions_it_consumes(
    topics: dict[str, Obj], overlays: dict[str, list[Obj]]
) -> None:
    """A consumer group uses at most one consumer per partition: more replicas would idle."""
    for overlay, objects in overlays.items():
        for scaler in (o for o in objects if o["kind"] == "HorizontalPodAutoscaler"):
            service = scaler["metadata"]["name"]
            consumed = [t.name for t in ALL_TOPICS if service in t.consumers]
            assert consumed, f"{service} consumes no topic of the contract"
            most = max(topics[name]["spec"]["partitions"] for name in consumed)
            assert scaler["spec"]["maxReplicas"] <= most, f"{overlay}: {service}"
