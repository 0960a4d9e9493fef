"""Benchmark figures: throughput and latency percentiles, and the table they are printed in."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of values already sorted ascending (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Measurement:
    """One scenario's result: how many operations in how long, and each call's latency."""

    scenario: str
    workers: int
    operations: int  # transfers posted (or requests served, for other benchmarks)
    seconds: float
    latencies: Sequence[float]  # seconds per call, sorted ascending
    unit: str = "transfers"

    @property
    def rate(self) -> float:
        return self.operations / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies, 0.95) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000


def results_table(
    title: str,
    measurements: Sequence[Measurement],
    caption: str = "latency: per database transaction (a batch is one)",
    *,
    reference: tuple[str, float] | None = None,
) -> Table:
    """One row per scenario; latency is per measured call (a whole batch is one call). With a
    `reference` (its name and rate), each row also shows its rate as a ratio to it."""
    unit = measurements[0].unit if measurements else "operations"
    table = Table(title=title, caption=caption)
    table.add_column("scenario")
    table.add_column("workers", justify="right")
    table.add_column(unit, justify="right")
    table.add_column("seconds", justify="right")
    table.add_column(f"{unit}/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    if reference is not None:
        table.add_column(f"ratio to {reference[0]}", justify="right")
    for m in measurements:
        ratio = [f"{m.rate / reference[1]:.2f}"] if reference and reference[1] > 0 else []
        if reference is not None and not ratio:
            ratio = ["?"]
        table.add_row(
            m.scenario,
            str(m.workers),
            f"{m.operations:,}",
            f"{m.seconds:.1f}",
            f"{m.rate:,.0f}",
            f"{m.p50_ms:.1f}",
            f"{m.p95_ms:.1f}",
            f"{m.p99_ms:.1f}",
            *ratio,
        )
    return table
