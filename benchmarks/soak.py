"""`make soak`: constant-rate load on loopback against the gateway and its mocks.

Requests arrive at a fixed rate whatever the latency (an open model: a slow gateway
shows up as growing latency and errors, not as a politely lower rate). Reports
p50/p95/p99 latency, throughput, error classes, and resident memory over time.

    python -m benchmarks.soak --seconds 60 --rps 50
    python -m benchmarks.soak --faults                  # hang=5037,reset=5001,slow=0301
    python -m benchmarks.soak --faults hang=5037,reset=0301 --seconds 30

`--faults` runs the load twice, without faults and then with them, as 1000 citizens
(`--citizens`) of every municipality, and compares (`benchmarks.faults`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.server import Server, serve
from gateway.persisted import OPERATIONS_DIR, document_hash
from mocks.oidc import MockIssuer
from mocks.population import Population

MAX_OUTSTANDING = 2000  # bounds memory should the gateway stall completely


@dataclass(frozen=True)
class Call:
    """One request of a workload: the caller's bearer token, the request body, and the
    group its answers are counted in (the citizen's municipality in the fault mode)."""

    token: str
    body: dict[str, Any]
    group: str = ""


@dataclass(frozen=True)
class Sample:
    """One answered request: its group, latency and error classes (none when clean), and
    when it was sent (seconds into the run)."""

    group: str
    ms: float
    classes: tuple[str, ...]
    at_s: float = 0.0


@dataclass
class Drive:
    """What one constant-rate run saw, request by request."""

    seconds: float
    target_rps: float
    sent: int
    samples: list[Sample]
    rss_mb: list[tuple[float, float]]  # (second, MB)


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
    error_classes: dict[str, int]  # requests per class (see `classify`)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (second, MB)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return round(ordered[rank], 2)


def _workload() -> list[Call]:
    """The home screen as several personas."""
    issuer = MockIssuer()
    population = Population(size=0)
    body = home_body()
    return [Call(issuer.token_for(population.persona(p)), body) for p in ("kari", "ola", "per")]


def home_body() -> dict[str, Any]:
    """The request body of the home screen, as a persisted operation."""
    home = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")
    return {"documentId": f"sha256:{document_hash(home)}"}


def classify(response: httpx.Response | None, error: BaseException | None) -> tuple[str, ...]:
    """The error classes of one answer, each once: `transport:<exception>` when none came,
    `http:<status> <codes>` for a refused request (e.g. `http:503 OVERLOADED`), else one
    `graphql:<source>:<code>` per kind of GraphQL error (e.g.
    `graphql:MUNICIPAL 0301:UPSTREAM_TIMEOUT`; `-` when the error names no source)."""
    if error is not None:
        return (f"transport:{type(error).__name__}",)
    assert response is not None
    try:
        payload = response.json()
    except ValueError:
        payload = None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    extensions = [e.get("extensions") or {} for e in (errors if isinstance(errors, list) else [])]
    if response.status_code >= 400:
        codes = ",".join(sorted({str(x.get("code", "?")) for x in extensions}))
        return (f"http:{response.status_code} {codes}".rstrip(),)
    return tuple(
        sorted({f"graphql:{x.get('source') or '-'}:{x.get('code', '?')}" for x in extensions})
    )


async def drive(server: Server, *, seconds: float, rps: float, workload: Sequence[Call]) -> Drive:
    """Send `rps` requests per second for `seconds`, cycling over `workload`, then wait
    for stragglers; resident memory is sampled every second."""
    samples: list[Sample] = []
    rss: list[tuple[float, float]] = []
    outstanding: set[asyncio.Task[None]] = set()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:

        async def one(n: int) -> None:
            call = workload[n % len(workload)]
            started = time.perf_counter()
            at_s = started - start
            response = error = None
            try:
                response = await client.post(
                    "/graphql", json=call.body, headers={"authorization": f"Bearer {call.token}"}
                )
            except httpx.HTTPError as exc:
                error = exc
            ms = (time.perf_counter() - started) * 1000
            samples.append(Sample(call.group, ms, classify(response, error), round(at_s, 3)))

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
    return Drive(round(wall, 2), rps, sent, samples, rss)


def count_classes(samples: Iterable[Sample]) -> dict[str, int]:
    """Requests per error class."""
    return dict(Counter(kind for sample in samples for kind in sample.classes))


async def run(
    server: Server, *, seconds: float, rps: float, workload: Sequence[Call] | None = None
) -> Report:
    """Send `rps` requests per second for `seconds` (the home screen as three personas
    unless told), then wait for stragglers."""
    seen = await drive(server, seconds=seconds, rps=rps, workload=workload or _workload())
    latencies = [sample.ms for sample in seen.samples]
    return Report(
        seconds=seen.seconds,
        target_rps=rps,
        sent=seen.sent,
        completed=len(latencies),
        throughput_rps=round(len(latencies) / seen.seconds, 1),
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        p99_ms=percentile(latencies, 0.99),
        error_classes=count_classes(seen.samples),
        rss_mb=seen.rss_mb,
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
    """Command line entry (`make soak`, `make soak-faults`)."""
    from benchmarks.faults import DEFAULT_FAULTS, FAULT_RPS, SLOW_MS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--rps", type=float, default=None, help="requests per second (50; fault mode 25)"
    )
    parser.add_argument("--population", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--out", type=Path, default=None, help="the JSON report's file")
    parser.add_argument(
        "--faults",
        nargs="?",
        const=DEFAULT_FAULTS,
        metavar="KIND=UPSTREAM,...",
        help=f"fault mode: hang, reset or slow, each an upstream (default {DEFAULT_FAULTS})",
    )
    parser.add_argument("--slow-ms", type=float, default=SLOW_MS)
    parser.add_argument(
        "--citizens", type=int, default=1000, help="fault mode: citizens per municipality"
    )
    args = parser.parse_args()
    if args.rps is None:
        args.rps = 50.0 if args.faults is None else FAULT_RPS
    if args.seconds <= 0 or args.rps <= 0 or args.citizens <= 0:
        parser.error("--seconds, --rps and --citizens must be positive")
    if args.faults is not None:
        return _fault_mode(parser, args)
    out = args.out or Path("benchmarks/soak.json")
    with serve(population=args.population, latency_ms=args.latency_ms) as server:
        report = asyncio.run(run(server, seconds=args.seconds, rps=args.rps))
    _write(out, asdict(report))
    print(summary(report))
    return 0


def _fault_mode(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from benchmarks.faults import fault_soak, fault_summary, parse_faults

    try:
        plan = parse_faults(args.faults, args.slow_ms)
    except ValueError as exc:
        parser.error(str(exc))
    report = fault_soak(
        plan,
        seconds=args.seconds,
        rps=args.rps,
        population=args.population,
        latency_ms=args.latency_ms,
        per_municipality=args.citizens,
    )
    _write(args.out or Path("benchmarks/soak-faults.json"), asdict(report))
    print(fault_summary(report))
    return 0


def _write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
