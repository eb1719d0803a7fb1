"""Write the generated files of the contract, or check that the committed ones are current.

`python -m orderpulse_schemas.export` writes `jsonschema/<topic>.json` for every topic and the
catalogue `README.md` into the `schemas/` project; with `--check` it writes nothing and exits 1
when a committed file is drifted, missing or extra.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orderpulse_schemas.readme import render_readme
from orderpulse_schemas.topics import ALL_TOPICS, Topic

PROJECT = Path(__file__).parents[2]
"""The `schemas/` project in the repository (where `pyproject.toml` and `examples/` are)."""
SCHEMA_DIR = "jsonschema"
COMMAND = "uv run python -m orderpulse_schemas.export"


def json_schema(topic: Topic) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of everything the topic may carry."""
    schema = topic.events.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": topic.name,
        "description": topic.description,
    }


def generated(project: Path = PROJECT) -> dict[str, str]:
    """Every generated file, by path relative to `project`, with the content it must have."""
    files = {
        f"{SCHEMA_DIR}/{topic.name}.json": json.dumps(
            json_schema(topic), indent=2, sort_keys=True, ensure_ascii=False
        )
        + "\n"
        for topic in ALL_TOPICS
    }
    files["README.md"] = render_readme(project / "examples")
    return files


def write(project: Path = PROJECT) -> list[str]:
    """Write every generated file (removing stale schemas); the paths that changed."""
    wanted = generated(project)
    changed = []
    for stale in _extra(project, wanted):
        (project / stale).unlink()
        changed.append(f"removed {stale}")
    for name, content in wanted.items():
        file = project / name
        if not file.is_file() or file.read_text(encoding="utf-8") != content:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(content, encoding="utf-8")
            changed.append(f"wrote {name}")
    return changed


def check(project: Path = PROJECT) -> list[str]:
    """What differs between the committed files and the models: empty when all is current."""
    wanted = generated(project)
    problems = []
    for name, content in wanted.items():
        file = project / name
        if not file.is_file():
            problems.append(f"missing: {name}")
        elif file.read_text(encoding="utf-8") != content:
            problems.append(f"drifted: {name}")
    problems.extend(f"extra: {name}" for name in _extra(project, wanted))
    return problems


def _extra(project: Path, wanted: dict[str, str]) -> list[str]:
    present = (project / SCHEMA_DIR).glob("*.json")
    return sorted(
        name for name in (f"{SCHEMA_DIR}/{file.name}" for file in present) if name not in wanted
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m orderpulse_schemas.export",
        description="Write the JSON Schemas and README.md of the contract, or check them.",
    )
    parser.add_argument("--check", action="store_true", help="only check, exit 1 on drift")
    parser.add_argument("--project", type=Path, default=PROJECT, help="the schemas/ directory")
    args = parser.parse_args(argv)
    project: Path = args.project
    if not (project / "examples").is_dir():
        parser.error(f"{project} has no examples/: point --project at the repository's schemas/")
    if args.check:
        problems = check(project)
        if problems:
            print(f"The generated files in {project} are out of date:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            print(f"Regenerate them with: {COMMAND}", file=sys.stderr)
            return 1
        print(f"The generated files in {project} are current.")
        return 0
    for change in write(project) or ["nothing to change"]:
        print(change)
    return 0


if __name__ == "__main__":
    sys.exit(main())
