"""What both benchmarks measure and how they report it: a child's CPU and memory, a table,
and a dated JSON file of runs under bench/results/."""

import json
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

Column = tuple[str, str, str]  # title, key, format


def child_pid(marker: str) -> int:
    """The pid of our child process whose command line holds `marker`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and marker.encode() in cmdline:
            return int(entry.name)
    raise LookupError(f"no child process running {marker}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` (its threads included) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    """The high-water mark of the resident set of `pid` (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table(columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> str:
    """Rows of values as a plain text table, one column per (title, key, format)."""
    cells = [[title for title, _, _ in columns]]
    cells += [[fmt.format(row[key]) for _, key, fmt in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def append_run(benchmark: str, run: dict[str, Any]) -> Path:
    """Add a run (with its time and machine) to today's results file of `benchmark`."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = RESULTS / f"{benchmark}-{now.date().isoformat()}.json"
    runs = json.loads(path.read_text()) if path.exists() else []
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    runs.append({"at": now.isoformat(timespec="seconds"), **run, "machine": machine})
    path.write_text(json.dumps(runs, indent=2) + "\n")
    return path
