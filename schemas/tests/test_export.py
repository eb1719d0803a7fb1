"""The committed JSON Schemas and README are what the models generate, and drift is caught."""

import json
import shutil
from pathlib import Path

import pytest

from orderpulse_schemas import ALL_TOPICS, ORDERS, export
from orderpulse_schemas.catalogue import event_models
from orderpulse_schemas.readme import DELAY_REASONS
from orderpulse_schemas.values import DelayReason


def test_committed_files_are_current() -> None:
    problems = export.check()

    assert problems == [], f"run `{export.COMMAND}`: {problems}"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the schemas/ project with freshly generated files."""
    shutil.copytree(export.PROJECT / "examples", tmp_path / "examples")
    export.write(tmp_path)
    return tmp_path


def test_check_names_drifted_missing_and_extra_files(project: Path) -> None:
    (project / "jsonschema/orders.v1.json").write_text("{}\n")
    (project / "README.md").unlink()
    (project / "jsonschema/orders.v0.json").write_text("{}\n")

    assert export.check(project) == [
        "drifted: jsonschema/orders.v1.json",
        "missing: README.md",
        "extra: jsonschema/orders.v0.json",
    ]


def test_an_edited_example_makes_the_readme_drift(project: Path) -> None:
    example = project / "examples/orders.v1/order.cancelled.json"
    example.write_text(example.read_text().replace("858.00", "859.00"))

    assert export.check(project) == ["drifted: README.md"]


def test_command_line_check_fails_with_the_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export.main(["--check", "--project", str(project)]) == 0
    (project / "jsonschema/returns.v1.json").unlink()

    assert export.main(["--check", "--project", str(project)]) == 1
    err = capsys.readouterr().err
    assert "missing: jsonschema/returns.v1.json" in err
    assert export.COMMAND in err

    assert export.main(["--project", str(project)]) == 0
    assert export.check(project) == []


def test_schema_file_is_the_topic_union_with_stable_keys() -> None:
    text = (export.PROJECT / "jsonschema/orders.v1.json").read_text(encoding="utf-8")
    schema = json.loads(text)

    assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert schema["title"] == "orders.v1"
    assert set(schema["discriminator"]["mapping"]) == set(event_models(ORDERS))
    assert schema["$defs"]["Money"]["properties"]["amount"]["anyOf"][1]["type"] == "string"


def test_readme_documents_every_topic_type_and_delay_reason() -> None:
    readme = (export.PROJECT / "README.md").read_text(encoding="utf-8")

    for topic in ALL_TOPICS:
        assert f"## Topic `{topic.name}`" in readme
        for event_type in event_models(topic):
            assert f"### `{event_type}`" in readme
    for header in ("dlq-reason", "dlq-topic", "dlq-partition", "dlq-offset", "dlq-group"):
        assert f"| `{header}` |" in readme
    assert "`dlq-copy: reference` with `dlq-size`" in readme  # a record too large to copy
    assert set(DELAY_REASONS) == set(DelayReason)
    assert all(f"| `{reason.value}` |" in readme for reason in DelayReason)
