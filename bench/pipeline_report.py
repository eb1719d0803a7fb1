"""The pipeline benchmark's report: tables with ratios to the baseline, the aims, profiles."""

import pstats
import re
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import measure
from measure import CPUS

if TYPE_CHECKING:
    from pipeline import BaselineResult, ScenarioResult

PROCESS_NAMES = {
    "bench": "this process (publisher, watchers)",
    "broker": "Kafka broker",
    "peers": "provider peers (SMTP, Twilio)",
}
MET = {True: "met", False: "NOT met"}


def ratio_text(value: float, base: float) -> str:
    """How many times `base` `value` is, e.g. "0.52×", "1,300×"."""
    times = value / base
    return f"{times:,.0f}×" if times >= 100 else f"{times:.2g}×"


def with_ratio(value: float, base: float, digits: str = "{:,.0f}") -> str:
    """`value` and, in brackets, its ratio to the baseline's."""
    return f"{digits.format(value)} ({ratio_text(value, base)})"


def latency_cells(latency: dict[str, float], base: dict[str, float] | None) -> dict[str, str]:
    """p50, p95, p99 in ms, with their ratios to the baseline's at the same pace when given."""
    return {
        key: with_ratio(latency[key], base[key]) if base else f"{latency[key]:,.0f}"
        for key in ("p50", "p95", "p99")
    }


def summary_table(baseline: "BaselineResult", results: list["ScenarioResult"]) -> str:
    """Throughput, latency and CPU per event: the baseline's, then each scenario's with ratios."""
    base = baseline.messages_per_second
    empty = dict.fromkeys(("events_in", "notifications", "p50", "p95", "p99", "drain"), "")
    rows = [
        empty
        | {
            "run": "pass-through",
            "pace": "backlog",
            "events": f"{baseline.backlog:,}",
            "throughput": f"{base:,.0f}",
            "cpu": f"{baseline.cpu_ms_per_message:.3f}",
            "ok": "yes",
        }
    ]
    rows += [
        empty
        | {"run": "pass-through", "pace": pace, "events": "", "throughput": "", "cpu": ""}
        | {"ok": "yes"}
        | latency_cells(latency, None)
        for pace, latency in baseline.latency_ms.items()
    ]
    for result in results:
        cpu, paced = result.services_cpu_ms_per_event, "" if result.saturated else " *"
        rows.append(
            {
                "run": result.scenario,
                "pace": result.pace,
                "events": f"{result.events:,}",
                "throughput": with_ratio(result.events_per_second, base) + paced,
                "events_in": with_ratio(result.events_in_per_second, base) + paced,
                "notifications": with_ratio(result.notifications_per_second, base) + paced,
                **latency_cells(result.latency_ms, baseline.latency_ms.get(result.pace)),
                "cpu": with_ratio(cpu, baseline.cpu_ms_per_message, "{:.1f}"),
                "drain": f"{result.drain_seconds:.0f}",
                "ok": "yes" if result.ok else "NO",
            }
        )
    columns = [
        ("run", "run", "{}"),
        ("pace, events/s", "pace", "{}"),
        ("events", "events", "{}"),
        ("events/s through", "throughput", "{}"),
        ("events/s taken in", "events_in", "{}"),
        ("notifications/s", "notifications", "{}"),
        ("p50 ms", "p50", "{}"),
        ("p95 ms", "p95", "{}"),
        ("p99 ms", "p99", "{}"),
        ("CPU ms/event", "cpu", "{}"),
        ("drain s", "drain", "{}"),
        ("ok", "ok", "{}"),
    ]
    note = "\n* it kept up with its pace: the figure is the pace, not the pipeline's capacity"
    return measure.table(columns, rows) + (
        note if any(" *" in r["throughput"] for r in rows) else ""
    )


def process_table(baseline: "BaselineResult", results: list["ScenarioResult"]) -> str:
    """CPU and peak memory of every process, per run; and how busy the whole machine was."""
    rows: list[dict[str, Any]] = [
        {
            "run": "pass-through",
            "process": "passthrough.py (backlog)",
            "cpu": f"{baseline.cpu_seconds:.1f}",
            "percent": f"{baseline.cpu_percent:.0f}",
            "waited": "",
            "rss": f"{baseline.peak_rss_mib:.0f}",
        }
    ]
    for result in results:
        rows += [
            {
                "run": result.scenario,
                "process": PROCESS_NAMES.get(name, name),
                "cpu": f"{seconds:.1f}",
                "percent": f"{result.cpu_percent[name]:.0f}",
                "waited": f"{result.waited_seconds[name]:.1f}",
                "rss": f"{result.peak_rss_mib[name]:.0f}",
            }
            for name, seconds in result.cpu_seconds.items()
        ]
        machine = {"run": result.scenario, "cpu": "", "waited": "", "rss": ""}
        rows += [
            machine
            | {
                "process": f"(all: the machine's {CPUS} cores)",
                "percent": f"{result.machine_cpu_percent * CPUS:.0f}",
            },
            machine
            | {
                "process": "(all, while the events were published)",
                "percent": f"{result.machine_cpu_percent_publishing * CPUS:.0f}",
            },
        ]
    columns = [
        ("run", "run", "{}"),
        ("process", "process", "{}"),
        ("CPU s", "cpu", "{}"),
        ("% of one core", "percent", "{}"),
        ("waited for a core s", "waited", "{}"),
        ("peak RSS MiB", "rss", "{}"),
    ]
    return measure.table(columns, rows)


def busiest(result: "ScenarioResult") -> tuple[str, float]:
    """The process (a service or the broker) that used the most CPU, and its % of one core."""
    percent = result.cpu_percent
    name = max((name for name in percent if name != "bench"), key=lambda name: percent[name])
    return name, result.cpu_percent[name]


def aims(
    baseline: "BaselineResult", results: list["ScenarioResult"], rate: float
) -> dict[str, Any]:
    """The issue's aims, measured against: each with its figure and whether it was met."""
    by_name = {result.scenario: result for result in results}
    found: dict[str, Any] = {}
    if outbox := by_name.get("outbox"):
        share = outbox.events_per_second / baseline.messages_per_second
        found["pipeline_at_half_the_baseline"] = {"ratio": round(share, 4), "met": share >= 0.5}
    steady = [r for r in results if r.scenario in ("outbox", "peers", "latency-100ms")]
    if steady:
        p99s = {r.scenario: r.latency_ms["p99"] for r in steady}
        met = rate >= 500 and all(p99 < 250 for p99 in p99s.values())
        found["p99_under_250ms_at_500_per_second"] = {"p99_ms": p99s, "rate": rate, "met": met}
    # The same clients and peers answering at once, or else the outbox (no clients, no peers).
    quick = by_name.get("peers") or outbox
    if quick and (slow := by_name.get("latency-100ms")):
        cost = 1 - slow.notifications_per_second / quick.notifications_per_second
        found["provider_latency_costs_at_most_10_percent"] = {
            "cost": round(cost, 3),
            "against": quick.scenario,
            "met": cost <= 0.10,
        }
    return found


def aims_text(found: dict[str, Any]) -> str:
    """The aims in words."""
    lines = []
    if half := found.get("pipeline_at_half_the_baseline"):
        lines.append(
            f"pipeline ≥ ½ of the pass-through: outbox events/s are {half['ratio']:.2%} of "
            f"the baseline's → {MET[half['met']]}"
        )
    if p99 := found.get("p99_under_250ms_at_500_per_second"):
        each = ", ".join(f"{name} {ms:,.0f} ms" for name, ms in p99["p99_ms"].items())
        lines.append(
            f"p99 < 250 ms at 500 events/s: {each} at {p99['rate']:g}/s → {MET[p99['met']]}"
        )
    if cost := found.get("provider_latency_costs_at_most_10_percent"):
        lines.append(
            "100 ms of provider latency costs ≤ 10 % of notifications/s: it costs "
            f"{cost['cost']:.0%} against {cost['against']} → {MET[cost['met']]}"
        )
    return "\n".join(lines)


def details_text(results: list["ScenarioResult"]) -> str:
    """Latency by hop and by phase of a paced burst, and how long the notifier's batches took."""
    lines = []
    for result in results:
        hops = "; ".join(
            f"{hop}: p50 {p['p50']:,.0f}, p99 {p['p99']:,.0f}"
            for hop, p in result.latency_ms_by_hop.items()
        )
        lines.append(f"{result.scenario}, latency (ms) {hops}")
        turns = "; ".join(
            f"{name} ({p['share']:.0%}): p50 {p['p50']:,.0f}, p99 {p['p99']:,.0f}"
            for name, p in result.latency_ms_by_turn.items()
        )
        lines.append(f"{result.scenario}, latency (ms) of messages that {turns}")
        if result.latency_ms_by_phase:
            phases = "; ".join(
                f"{phase}: p50 {p['p50']:,.0f}, p99 {p['p99']:,.0f}"
                for phase, p in result.latency_ms_by_phase.items()
            )
            lines.append(f"{result.scenario}, latency (ms) of events sent {phases}")
    batches = ", ".join(
        f"{r.scenario} {r.notifier_batches} (median {r.notifier_batch_seconds['p50']:.2f} s, "
        f"max {r.notifier_batch_seconds['max']:.2f} s)"
        for r in results
    )
    lines.append(f"notifier batches: {batches}")
    return "\n".join(lines)


def print_profile(path: Path) -> None:
    """Where a profiled service's main thread spent its time: per library, then per function.

    Own time only: cProfile counts each resumption of a coroutine as a call and leaves its
    suspended time out, so cumulative figures of async code mislead. Time in `epoll.poll` is the
    event loop waiting (idle, or for another thread such as aiosqlite's).
    """
    stats = pstats.Stats(str(path), stream=sys.stdout)
    by_library: Counter[str] = Counter()
    entries = stats.stats  # type: ignore[attr-defined]  # undocumented, yet how pstats keeps them
    for (filename, _, function), (_, _, own, _, _) in entries.items():
        by_library[library(filename, function)] += own
    total = sum(by_library.values())
    print(f"\n{path}: {total:.1f} s in the main thread, own time by library")
    for name, seconds in by_library.most_common(15):
        print(f"  {seconds:7.2f} s  {100 * seconds / total:5.1f} %  {name}")
    stats.strip_dirs().sort_stats("tottime").print_stats(15)


def library(filename: str, function: str) -> str:
    """The package (or stdlib module, or builtin) a profiled function belongs to."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if found := re.search(r"(orderpulse_\w+)", filename):
        return found[1]
    if filename == "~":
        return f"builtin {function}"
    if found := re.search(r"python3\.\d+/([^/.]+)", filename):
        return f"stdlib {found[1]}"
    return filename
