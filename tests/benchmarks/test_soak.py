"""The short soak: a real gateway process under constant load for a few seconds."""

from __future__ import annotations

import asyncio

from benchmarks.server import serve
from benchmarks.soak import percentile, run, summary


def test_percentiles_use_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([], 0.5) is None


def test_short_soak_answers_everything_without_errors() -> None:
    with serve(population=200, latency_ms=5) as server:
        report = asyncio.run(run(server, seconds=3, rps=15))
    assert report.sent >= 40
    assert report.completed == report.sent
    assert report.error_classes == {}
    assert report.p99_ms is not None
    assert report.rss_mb
    assert "latency ms: p50" in summary(report)
