"""`make soak`: constant-rate load on loopback against the gateway and its mocks.

Requests arrive at a fixed rate whatever the latency (an open model: a slow gateway
shows up as growing latency and errors, not as a politely lower rate). Reports
p50/p95/p99 latency, throughput, error classes, and resident memory over time.

    python -m benchmarks.soak --seconds 60 --rps 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.server import Server, serve
from gateway.persisted import OPERATIONS_DIR, document_hash
from mocks.oidc import MockIssuer
from mocks.population import Population

MAX_OUTSTANDING = 2000  # bounds memory should the gateway stall completely


@dataclass
class Report:
    """What a soak run measured."""

    seconds: float
    target_rps: float
    sent: int
    completed: int
    throughput_rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_classes: dict[str, int]
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (second, MB)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return round(ordered[rank], 2)


def _workload() -> list[tuple[str, dict[str, Any]]]:
    """(bearer token, request body) pairs: the home screen as several personas."""
    issuer = MockIssuer()
    population = Population(size=0)
    home = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
    body = {"documentId": f"sha256:{document_hash(home)}"}
    return [(issuer.token_for(population.persona(p)), body) for p in ("kari", "ola", "per")]


def _classify(response: httpx.Response | None, error: BaseException | None) -> str | None:
    if error is not None:
        return f"transport:{type(error).__name__}"
    assert response is not None
    if response.status_code >= 400:
        return f"http:{response.status_code}"
    codes = sorted(
        {e.get("extensions", {}).get("code", "?") for e in response.json().get("errors", [])}
    )
    return f"graphql:{','.join(codes)}" if codes else None


async def run(server: Server, *, seconds: float, rps: float) -> Report:
    """Send `rps` requests per second for `seconds`, then wait for stragglers."""
    workload = _workload()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    rss: list[tuple[float, float]] = []
    outstanding: set[asyncio.Task[None]] = set()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:

        async def one(n: int) -> None:
            token, body = workload[n % len(workload)]
            started = time.perf_counter()
            response = error = None
            try:
                response = await client.post(
                    "/graphql", json=body, headers={"authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as exc:
                error = exc
            latencies.append((time.perf_counter() - started) * 1000)
            kind = _classify(response, error)
            if kind:
                errors[kind] += 1

        start = time.perf_counter()
        sent = 0
        next_sample = 0.0
        while (elapsed := time.perf_counter() - start) < seconds:
            if elapsed >= next_sample:
                memory = server.rss_mb()
                if memory is not None:
                    rss.append((round(elapsed, 1), round(memory, 1)))
                next_sample += 1.0
            due = int(elapsed * rps) + 1
            while sent < due and len(outstanding) < MAX_OUTSTANDING:
                task = asyncio.ensure_future(one(sent))
                outstanding.add(task)
                task.add_done_callback(outstanding.discard)
                sent += 1
            await asyncio.sleep(min(0.005, 1 / rps))
        if outstanding:
            await asyncio.wait(outstanding, timeout=30)
        wall = time.perf_counter() - start
    memory = server.rss_mb()
    if memory is not None:
        rss.append((round(wall, 1), round(memory, 1)))
    return Report(
        seconds=round(wall, 2),
        target_rps=rps,
        sent=sent,
        completed=len(latencies),
        throughput_rps=round(len(latencies) / wall, 1),
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        p99_ms=percentile(latencies, 0.99),
        error_classes=dict(errors),
        rss_mb=rss,
    )


def summary(report: Report) -> str:
    """A few human-readable lines."""
    rss = [mb for _, mb in report.rss_mb]
    lines = [
        f"soak: {report.sent} sent at {report.target_rps}/s over {report.seconds} s, "
        f"{report.completed} completed ({report.throughput_rps}/s)",
        f"latency ms: p50 {report.p50_ms}  p95 {report.p95_ms}  p99 {report.p99_ms}",
        f"errors: {report.error_classes or 'none'}",
    ]
    if rss:
        lines.append(f"resident memory MB: start {rss[0]}  max {max(rss)}  end {rss[-1]}")
    return "\n".join(lines)


def main() -> int:
    """Command line entry (`make soak`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rps", type=float, default=50)
    parser.add_argument("--population", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/soak.json"))
    args = parser.parse_args()
    if args.seconds <= 0 or args.rps <= 0:
        parser.error("--seconds and --rps must be positive")
    with serve(population=args.population, latency_ms=args.latency_ms) as server:
        report = asyncio.run(run(server, seconds=args.seconds, rps=args.rps))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    print(summary(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
