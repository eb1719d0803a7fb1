"""The Kubernetes overlays as rendered: valid objects, hardened pods, truthful probes, no secrets.

Every overlay is built with `kubectl kustomize` and each object is validated against the
Kubernetes 1.31 JSON schemas (kubernetes-validate, strict: unknown fields fail). Then each
service's Deployment is checked for what ops teams look at first.
"""

import copy
import importlib.util
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "deploy" / "k8s" / "base"
OVERLAYS = ("dev", "prod")
SERVICES = {
    "status-tracker": "TRACKER_",
    "notifier": "NOTIFIER_",
    "returns": "RETURNS_",
    "couriers": "COURIERS_",
}
# The services that read the shops file (couriers reads none: a parcel carries its shop's id).
SHOPS_READERS = ("status-tracker", "notifier", "returns")
KUBERNETES_VERSION = "1.31"
PORT = 8080
# Names of settings whose values are secrets: they must come from a Secret, never inline.
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|ACCESS_KEY|ACCOUNT_SID|DATABASE_URL|USERNAME|SALT")

Obj = dict[str, Any]


def one(objects: list[Obj], kind: str, name: str) -> Obj:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def container(objects: list[Obj], service: str) -> Obj:
    pod = one(objects, "Deployment", service)["spec"]["template"]["spec"]
    (main,) = [c for c in pod["containers"] if c["name"] == service]
    return main


def env(objects: list[Obj], service: str) -> dict[str, Obj]:
    variables = container(objects, service).get("env", [])
    names = [variable["name"] for variable in variables]
    assert len(names) == len(set(names)), f"{service}: duplicated env names {names}"
    return {variable["name"]: variable for variable in variables}


def ports(rules: list[Obj]) -> set[tuple[int, str]]:
    return {(port["port"], port["protocol"]) for rule in rules for port in rule["ports"]}


def schema_errors(obj: Obj) -> list[str]:
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path)
        return [f"{obj['kind']}/{obj['metadata']['name']}: {where}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [error.message]
    return []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_kubernetes(overlays: dict[str, list[Obj]], overlay: str) -> None:
    objects = overlays[overlay]
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "ServiceAccount", "ConfigMap"} <= kinds
    # No custom resources here (Strimzi's topics are their own kustomization): all validated.
    assert [error for obj in objects for error in schema_errors(obj)] == []


def test_the_validator_rejects_what_kubernetes_would() -> None:
    """The schema check has teeth: a misspelled field or a wrong type fails it."""
    good = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i:1", "securityContext": {}}]},
    }
    assert schema_errors(good) == []
    misspelled = copy.deepcopy(good)
    misspelled["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
    assert schema_errors(misspelled)
    wrong_type = copy.deepcopy(good)
    wrong_type["spec"]["containers"][0]["ports"] = [{"containerPort": "8080"}]
    assert schema_errors(wrong_type)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_committed(overlays: dict[str, list[Obj]], overlay: str) -> None:
    objects = overlays[overlay]
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "Secret"] == []
    for service in SERVICES:
        for name, variable in env(objects, service).items():
            if SECRET_NAME.search(name):
                assert "value" not in variable, f"{service}: {name} is inlined"
                assert "secretKeyRef" in variable.get("valueFrom", {}), f"{service}: {name}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_pods_are_hardened(overlays: dict[str, list[Obj]], overlay: str, service: str) -> None:
    objects = overlays[overlay]
    pod = one(objects, "Deployment", service)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod.get("hostNetwork", False) is False
    assert pod.get("automountServiceAccountToken") is False
    for each in pod["containers"] + pod.get("initContainers", []):
        context = each["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, each["name"]
        assert context["readOnlyRootFilesystem"] is True, each["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, each["name"]
        assert context.get("privileged", False) is False, each["name"]
        assert context.get("runAsNonRoot", True) is True, each["name"]
        assert context.get("runAsUser", 10001) != 0, each["name"]
    # The read-only root filesystem leaves /tmp writable through an emptyDir.
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container(objects, service)["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_probes_ask_the_real_endpoints(
    overlays: dict[str, list[Obj]], overlay: str, service: str
) -> None:
    main = container(overlays[overlay], service)
    ports = {port["name"]: port["containerPort"] for port in main["ports"]}
    assert ports.get("http") == PORT

    def asks(probe: str) -> tuple[str, int]:
        get = main[probe]["httpGet"]
        port = get["port"]
        return get["path"], ports[port] if isinstance(port, str) else port

    assert asks("livenessProbe") == ("/healthz", PORT)
    assert asks("readinessProbe") == ("/readyz", PORT)  # database and Kafka
    if "startupProbe" in main:
        assert asks("startupProbe") == ("/healthz", PORT)
    pod = one(overlays[overlay], "Deployment", service)["spec"]["template"]
    assert pod["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(PORT),
        "prometheus.io/path": "/metrics",
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_resources_are_bounded(overlays: dict[str, list[Obj]], overlay: str, service: str) -> None:
    pod = one(overlays[overlay], "Deployment", service)["spec"]["template"]["spec"]
    for each in pod["containers"] + pod.get("initContainers", []):
        for bound in ("requests", "limits"):
            assert set(each["resources"][bound]) >= {"cpu", "memory"}, f"{each['name']}: {bound}"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_migrations_run_before_the_service_starts(
    overlays: dict[str, list[Obj]], overlay: str, service: str
) -> None:
    """An init container from the same image migrates the same database; the service only checks."""
    objects = overlays[overlay]
    pod = one(objects, "Deployment", service)["spec"]["template"]["spec"]
    (migrate,) = pod["initContainers"]
    main, prefix = container(objects, service), SERVICES[service]
    module = f"orderpulse_{service.replace('-', '_')}.migrate"
    assert importlib.util.find_spec(module) is not None, module
    assert migrate["command"] == ["python", "-m", module]
    assert migrate["image"] == main["image"]
    (database,) = [v for v in migrate["env"] if v["name"] == f"{prefix}DATABASE_URL"]
    assert database == env(objects, service)[f"{prefix}DATABASE_URL"]
    assert env(objects, service)[f"{prefix}MIGRATE_ON_START"]["value"] == "false"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_its_companions(
    overlays: dict[str, list[Obj]], overlay: str, service: str
) -> None:
    """ServiceAccount, Service, PodDisruptionBudget, HPA and NetworkPolicy, all aimed at it."""
    objects = overlays[overlay]
    deployment = one(objects, "Deployment", service)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()

    def selects(match: dict[str, str]) -> bool:
        return bool(match) and match.items() <= labels.items()

    pod = deployment["spec"]["template"]["spec"]
    account = one(objects, "ServiceAccount", pod["serviceAccountName"])
    assert pod["serviceAccountName"] == service
    assert account["automountServiceAccountToken"] is False

    service_object = one(objects, "Service", service)["spec"]
    assert selects(service_object["selector"])
    assert [p["targetPort"] for p in service_object["ports"]] == ["http"]

    budget = one(objects, "PodDisruptionBudget", service)["spec"]
    assert selects(budget["selector"]["matchLabels"])

    scaler = one(objects, "HorizontalPodAutoscaler", service)["spec"]
    target = scaler["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        service,
    )
    assert 1 <= scaler["minReplicas"] <= scaler["maxReplicas"]  # test_strimzi: vs partitions
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_network_policy_lets_in_only_http_and_out_only_what_it_needs(
    overlays: dict[str, list[Obj]], overlay: str, service: str
) -> None:
    objects = overlays[overlay]
    labels = one(objects, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
    policy = one(objects, "NetworkPolicy", service)["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    assert ports(policy["ingress"]) == {(PORT, "TCP")}
    sources = [source for rule in policy["ingress"] for source in rule["from"]]
    assert {"podSelector": {}} in sources  # its own namespace
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    } in sources
    needed = {(53, "UDP"), (53, "TCP"), (9092, "TCP"), (5432, "TCP")}
    if service == "notifier":
        needed |= {(443, "TCP"), (587, "TCP")}  # the providers
    if service == "couriers":
        needed |= {(443, "TCP")}  # the carriers' APIs it polls
    assert ports(policy["egress"]) == needed


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_settings_come_from_the_cluster(
    overlays: dict[str, list[Obj]], overlay: str, service: str
) -> None:
    """Kafka from a ConfigMap, PostgreSQL from a Secret, the shops file mounted as a ConfigMap."""
    objects = overlays[overlay]
    prefix = SERVICES[service]
    variables = env(objects, service)
    config_maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}

    for name in (f"{prefix}KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"):
        ref = variables[name]["valueFrom"]["configMapKeyRef"]
        assert ref["key"] in config_maps[ref["name"]]["data"], name

    database = variables[f"{prefix}DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert database["name"] == "orderpulse-database"
    assert database.get("optional", False) is False  # no SQLite on a read-only filesystem

    if service not in SHOPS_READERS:
        assert f"{prefix}SHOPS_FILE" not in variables, f"{service} reads no shops file"
        return
    shops_file = Path(variables[f"{prefix}SHOPS_FILE"]["value"])
    main = container(objects, service)
    (mount,) = [m for m in main["volumeMounts"] if m["mountPath"] == str(shops_file.parent)]
    assert mount.get("readOnly") is True
    pod = one(objects, "Deployment", service)["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    shops = config_maps[volume["configMap"]["name"]]["data"][shops_file.name]
    assert shops == (REPO / "deploy" / "shops.yaml").read_text(encoding="utf-8")


def test_the_shops_configmap_is_deploy_shops_yaml() -> None:
    """kustomize reads only inside its directory, so the base holds a copy: keep it equal."""
    copy_ = (BASE / "shops.yaml").read_bytes()
    original = (REPO / "deploy" / "shops.yaml").read_bytes()
    assert copy_ == original, "run: cp deploy/shops.yaml deploy/k8s/base/shops.yaml"


def test_dev_runs_one_replica_and_sends_nothing(overlays: dict[str, list[Obj]]) -> None:
    objects = overlays["dev"]
    for service in SERVICES:
        assert one(objects, "HorizontalPodAutoscaler", service)["spec"]["minReplicas"] == 1
    variables = env(objects, "notifier")
    assert variables["NOTIFIER_EMAIL_BACKEND"]["value"] == "outbox"
    assert variables["NOTIFIER_SMS_BACKEND"]["value"] == "outbox"
    outbox = Path(variables["NOTIFIER_OUTBOX_DIR"]["value"])
    mounts = {m["mountPath"]: m["name"] for m in container(objects, "notifier")["volumeMounts"]}
    assert str(outbox) in mounts, "the outbox must be a volume: the root filesystem is read-only"


def test_prod_runs_replicas_and_real_providers(overlays: dict[str, list[Obj]]) -> None:
    objects, dev = overlays["prod"], overlays["dev"]
    for service in SERVICES:
        assert one(objects, "HorizontalPodAutoscaler", service)["spec"]["minReplicas"] >= 2
        prod_requests = container(objects, service)["resources"]["requests"]
        dev_requests = container(dev, service)["resources"]["requests"]
        assert prod_requests != dev_requests, service
    variables = env(objects, "notifier")
    assert variables["NOTIFIER_EMAIL_BACKEND"]["value"] == "ses"
    assert variables["NOTIFIER_SES_REGION"]["value"]
    assert variables["NOTIFIER_SMS_BACKEND"]["value"] == "twilio"
    for name in ("NOTIFIER_TWILIO_ACCOUNT_SID", "NOTIFIER_TWILIO_AUTH_TOKEN"):
        ref = variables[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "orderpulse-notifier-providers"
        assert ref["optional"] is False, f"{name}: required once Twilio is chosen"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_tagged(overlays: dict[str, list[Obj]], overlay: str) -> None:
    for service in SERVICES:
        image = container(overlays[overlay], service)["image"]
        name, _, tag = image.rpartition(":")
        assert "@sha256:" in image or (name and "/" not in tag), f"{image}: no tag"
        assert f"orderpulse/{service}" in image
        if overlay == "prod":
            assert tag != "latest" and tag != "dev", image


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_inpost_webhooks_keep_their_sender_address(
    overlays: dict[str, list[Obj]], overlay: str
) -> None:
    """couriers takes a ShipX webhook only from a TCP peer in InPost's range, so the Service that
    exposes it must not replace the client's address (no SNAT), and only that range gets in."""
    objects = overlays[overlay]
    inpost = "91.216.25.0/24"
    exposed = one(objects, "Service", "couriers-webhooks")["spec"]
    assert exposed["type"] == "LoadBalancer"
    assert exposed["externalTrafficPolicy"] == "Local"
    assert exposed["loadBalancerSourceRanges"] == [inpost]
    labels = one(objects, "Deployment", "couriers")["spec"]["template"]["metadata"]["labels"]
    assert exposed["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in exposed["ports"]] == ["http"]
    assert "COURIERS_INPOST_TRUST_ANY_SENDER" not in env(objects, "couriers")
    policy = one(objects, "NetworkPolicy", "couriers")["spec"]
    sources = [source for rule in policy["ingress"] for source in rule["from"]]
    assert {"ipBlock": {"cidr": inpost}} in sources
    assert [s for s in sources if "ipBlock" in s] == [{"ipBlock": {"cidr": inpost}}]
