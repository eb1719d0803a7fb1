"""The pipeline benchmark's picture: latency distributions, then throughput and CPU over time.

Top: one cumulative latency curve per scenario (solid) and per pace of the pass-through baseline
(dashed), log-scaled, with the 250 ms aim. Below, one column per scenario: events offered and
taken in and notifications sent per second, then each process's CPU per second, both against
seconds since the scenario's first event.
"""

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from measure import percentiles

if TYPE_CHECKING:
    from pipeline import Observed, ScenarioResult

AIM_MS = 250
COLOURS = {
    "outbox": "tab:blue",
    "peers": "tab:green",
    "latency-100ms": "tab:orange",
    "burst": "tab:red",
}
PROCESSES = {
    "status-tracker": "tab:purple",
    "returns": "tab:brown",
    "notifier": "tab:green",
    "broker": "tab:gray",
}


def draw(
    path: Path,
    baseline: Sequence["Observed"],
    results: Sequence["ScenarioResult"],
    observed: Sequence["Observed"],
) -> None:
    """Save the picture of one run to `path` (PNG)."""
    columns = max(len(observed), 1)
    figure = plt.figure(figsize=(5.5 * max(columns, 2), 13), layout="constrained")
    grid = figure.add_gridspec(3, columns, height_ratios=(1.2, 1, 1))
    latency_cdf(figure.add_subplot(grid[0, :]), baseline, results, observed)
    for column, (result, seen) in enumerate(zip(results, observed, strict=True)):
        throughput = figure.add_subplot(grid[1, column])
        throughput_over_time(throughput, result, seen)
        cpu_over_time(figure.add_subplot(grid[2, column], sharex=throughput), seen)
    figure.suptitle(
        "orderpulse pipeline benchmark: status-tracker → returns → notifier, one process each, "
        f"on one {os.cpu_count()}-core machine, {date.today().isoformat()}",
        fontsize=14,
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)


def latency_cdf(
    axes: Axes,
    baseline: Sequence["Observed"],
    results: Sequence["ScenarioResult"],
    observed: Sequence["Observed"],
) -> None:
    """Cumulative share of messages by latency, log-scaled, scenarios and baseline."""
    for result, seen in zip(results, observed, strict=True):
        colour = COLOURS.get(result.scenario)
        name = f"{result.scenario}, {result.pace}"
        _cdf(axes, seen.latencies_ms, _label(name, result.latency_ms), colour, "-")
        if result.latency_ms_by_phase:  # the first phase alone: a pace it keeps up with
            phase, p = next(iter(result.latency_ms_by_phase.items()))
            label = _label(f"{result.scenario}: only events sent {phase}", p)
            _cdf(axes, seen.phase_latencies_ms[0], label, colour, ":")
    for seen, style in zip(baseline, ("--", "-."), strict=False):
        _cdf(
            axes,
            seen.latencies_ms,
            _label(seen.name, percentiles(seen.latencies_ms)),
            "black",
            style,
        )
    axes.axvline(AIM_MS, color="tab:green", linestyle=":", linewidth=2)
    axes.annotate(" aim: p99 < 250 ms", (AIM_MS, 0.55), color="tab:green", fontsize=10, va="bottom")
    axes.set_xscale("log")
    axes.set_ylim(0, 1)
    axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes.set_xlabel(
        "latency, ms (log scale): event's time → provider accepted the message "
        "(pass-through: → record forwarded; its timestamps are whole ms, drawn from 0.1 ms)"
    )
    axes.set_ylabel("messages at or below")
    axes.set_title("Latency distribution (cumulative), per scenario and for the bare pass-through")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", fontsize=9)


def _cdf(axes: Axes, values: Sequence[float], label: str, colour: str | None, style: str) -> None:
    ordered = np.sort(np.maximum(np.asarray(values, dtype=float), 0.1))
    share = np.arange(1, len(ordered) + 1) / len(ordered)
    axes.plot(ordered, share, style, color=colour, label=label, linewidth=1.8)


def _label(name: str, p: dict[str, float]) -> str:
    return f"{name} (p50 {_ms(p['p50'])}, p99 {_ms(p['p99'])})"


def _ms(value: float) -> str:
    return f"{value / 1000:,.1f} s" if value >= 10_000 else f"{value:,.0f} ms"


def throughput_over_time(axes: Axes, result: "ScenarioResult", seen: "Observed") -> None:
    """Events offered and taken in, and notifications sent, per one-second bucket."""
    start = seen.sent[0]
    end = seen.samples[-1].at
    edges = np.arange(0, np.ceil(end - start) + 1)
    offered, _ = np.histogram(np.asarray(seen.sent) - start, edges)
    sent, _ = np.histogram(np.asarray(seen.notified) - start, edges)
    moments = np.asarray([s.at for s in seen.samples]) - start
    taken = np.asarray([s.consumed for s in seen.samples], dtype=float)
    taken_in = np.diff(np.interp(edges, moments, taken))
    axes.step(edges[:-1], offered, where="post", color="black", alpha=0.5, label="events offered")
    axes.step(edges[:-1], taken_in, where="post", color="tab:blue", label="events taken in")
    axes.step(edges[:-1], sent, where="post", color="tab:green", label="notifications sent")
    axes.set_yscale("symlog", linthresh=10)
    axes.set_ylim(bottom=0)
    axes.set_title(
        f"{result.scenario}: events offered at {result.pace}\n"
        f"{result.events:,} events, {result.events_per_second:.0f} events/s through, "
        f"p99 {_ms(result.latency_ms['p99'])}",
        fontsize=11,
    )
    axes.set_xlabel("seconds since the first event")
    axes.set_ylabel("per second (symlog scale)")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)


def cpu_over_time(axes: Axes, seen: "Observed") -> None:
    """Each process's CPU, % of one core, per one-second bucket."""
    start = seen.sent[0]
    moments = np.asarray([s.at for s in seen.samples]) - start
    edges = np.arange(0, np.ceil(moments[-1]) + 1)
    for name, colour in PROCESSES.items():
        if name not in seen.samples[0].cpu:
            continue
        used = np.asarray([s.cpu[name] for s in seen.samples])
        axes.step(
            edges[:-1],
            100 * np.diff(np.interp(edges, moments, used)),
            where="post",
            color=colour,
            label=name,
        )
    axes.axhline(100, color="black", linestyle=":", linewidth=1)
    axes.set_ylim(0, 130)
    axes.set_xlabel("seconds since the first event")
    axes.set_ylabel("CPU, % of one core")
    axes.set_title("CPU per process (100 % = one core saturated)", fontsize=11)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)
