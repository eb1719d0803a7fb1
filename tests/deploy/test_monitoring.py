"""The optional alert rules: one PrometheusRule whose every alert is complete, watches what the
overlays deploy, and has its heading in the runbook (deploy/README.md) explaining it.

PrometheusRule is a custom resource that kubernetes-validate does not know, so its shape is
checked here; that each expression reads only metrics the services expose is checked on the
running services (tests/e2e/test_journey.py).
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "deploy" / "k8s" / "monitoring"
RUNBOOK = REPO / "deploy" / "README.md"
RULE_FIELDS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
SEVERITIES = {"critical", "warning", "info"}
DURATION = re.compile(r"(\d+[smhdwy])+")
MATCHER = re.compile(r'\b(namespace|deployment|container|pod)=~"([^"]*)"')

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def alerts(render: Callable[[Path], list[Obj]]) -> dict[str, Obj]:
    """The rendered rules by alert name."""
    objects = render(MONITORING)
    assert [(o["apiVersion"], o["kind"]) for o in objects] == [
        ("monitoring.coreos.com/v1", "PrometheusRule")
    ]
    (rule,) = objects
    assert rule["metadata"]["namespace"], "the namespace Prometheus reads rules from"
    found = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    names = [r["alert"] for r in found]
    assert len(names) == len(set(names)), "an alert is declared twice"
    return dict(zip(names, found, strict=True))


def alerts_section() -> str:
    """The runbook's `## Alerts` section, code blocks left out."""
    text = re.sub(r"^```.*?^```", "", RUNBOOK.read_text(encoding="utf-8"), flags=re.M | re.S)
    return text.split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]


def anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_is_complete(alerts: dict[str, Obj]) -> None:
    for name, rule in alerts.items():
        assert re.fullmatch(r"Orderpulse[A-Z]\w+", name), name
        assert set(rule) <= RULE_FIELDS, f"{name}: unknown fields {set(rule) - RULE_FIELDS}"
        assert isinstance(rule["expr"], str) and rule["expr"].strip(), name
        assert DURATION.fullmatch(rule.get("for", "0s")), f"{name}: for {rule.get('for')}"
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], name


def test_every_alert_links_to_its_heading_in_the_runbook(alerts: dict[str, Obj]) -> None:
    headings = {
        anchor(heading)
        for heading in re.findall(r"^#{1,6} (.+)$", RUNBOOK.read_text(encoding="utf-8"), re.M)
    }
    for name, rule in alerts.items():
        assert rule["annotations"]["runbook_url"] == f"deploy/README.md#{anchor(name)}", name
        assert anchor(name) in headings, f"{name}: no heading `### {name}` in deploy/README.md"


def test_the_runbook_explains_the_alerts_there_are_and_no_others(alerts: dict[str, Obj]) -> None:
    explained = re.findall(r"^### (.+)$", alerts_section(), re.M)
    assert sorted(explained) == sorted(alerts)
    assert "orderpulse_consumer_lag" in alerts_section()
    assert "orderpulse_consumer_lag" in alerts["OrderpulseConsumerLag"]["expr"]


def test_alerts_watch_what_the_overlays_deploy(
    alerts: dict[str, Obj], overlays: dict[str, list[Obj]]
) -> None:
    """A renamed namespace or service must not leave an alert silently matching nothing."""
    deployed = [o for objects in overlays.values() for o in objects if o["kind"] == "Deployment"]
    namespaces = {o["metadata"]["namespace"] for o in deployed}
    deployments = {o["metadata"]["name"] for o in deployed}
    pods = {f"{deployment}-5d8f7c9b4-x2x7z" for deployment in deployments}
    for name, rule in alerts.items():
        for label, pattern in MATCHER.findall(rule["expr"]):
            wanted = {"namespace": namespaces, "pod": pods}.get(label, deployments)
            missed = {value for value in wanted if not re.fullmatch(pattern, value)}
            assert not missed, f"{name}: {label}=~{pattern!r} misses {missed}"
