"""`make bench`: the home, child_overview, inbox and results screens against the mocks.

For each variant (the gateway as configured, and the baseline with batching, loaders and
caches off) and each screen, a fresh gateway process serves: cold requests (every one
from a citizen this process has not seen) at concurrency 1 and 32, then a warm-up pass
over a fixed set of citizens and warm requests from that set at concurrency 1 and 32.
The mocks run in their own process, so the gateway's CPU and memory are its own. Writes
`benchmarks/results.json`; prints a table and which targets hold (docs/performance.md).

    python -m benchmarks.bench --seconds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvloop

from benchmarks.loadgen import Outcome, Request, closed_run, critical_paths_ms, percentile
from benchmarks.server import Server, host_cpu_ticks, serve, serve_mocks, steal_pct
from benchmarks.targets import report, verdicts
from benchmarks.workload import SCREENS, WARM_SET, Workload
from mocks.population import Population

VARIANTS = ("gateway", "baseline")
CONCURRENCIES = (1, 32)
# Both variants: no rate limit or in-flight cap gets in the way of the measurement.
COMMON_ENV = {
    "HELSEGRAF_RATE_LIMIT_PER_MINUTE_PRINCIPAL": "1000000",
    "HELSEGRAF_RATE_LIMIT_PER_MINUTE_CLIENT": "10000000",
    "HELSEGRAF_MAX_IN_FLIGHT": "256",
    "HELSEGRAF_MAX_LOOP_LAG_MS": "0",
    "HELSEGRAF_LOG_FORMAT": "json",
}
# The baseline, in one place: every switch that turns a batching, loader or cache tier off.
# The baseline is the gateway without issue 6's work: no batching or loaders, no caches,
# httpx's own transport (what a plain Strawberry + aiodataloader + httpx server has).
BASELINE_ENV = {
    "HELSEGRAF_BATCHING": "false",
    "HELSEGRAF_CACHE": "false",
    "HELSEGRAF_UPSTREAM_NETWORK": "httpx",
}
NOT_UPSTREAM = {"OIDC"}  # the token issuer's key set: not a data upstream


class Mocks:
    """Counters and call recording of the mock upstreams' process."""

    def __init__(self, server: Server) -> None:
        self.url = server.url

    def reset(self) -> None:
        httpx.delete(f"{self.url}/_mock/stats", timeout=10).raise_for_status()

    def calls_by_source(self) -> dict[str, int]:
        stats = httpx.get(f"{self.url}/_mock/stats", timeout=10).json()
        return {name: sum(counts.values()) for name, counts in stats.items()}

    def record(self, on: bool) -> None:
        method = "PUT" if on else "DELETE"
        httpx.request(method, f"{self.url}/_mock/calls", timeout=10).raise_for_status()

    def recorded(self) -> list[tuple[float, float]]:
        calls = httpx.get(f"{self.url}/_mock/calls", timeout=30).json()
        return [
            (lo, hi)
            for name, spans in calls.items()
            if name not in NOT_UPSTREAM
            for lo, hi in spans
        ]


def measure(
    gateway: Server,
    mocks: Mocks,
    requests: Iterator[Request],
    *,
    concurrency: int,
    seconds: float,
    record: bool = False,
) -> tuple[Outcome, dict[str, Any]]:
    """One run, with the gateway's CPU and the upstream calls it caused."""
    mocks.reset()
    if record:
        mocks.record(True)
    user_before, system_before = gateway.cpu_split_s() or (0.0, 0.0)
    host_before = host_cpu_ticks()
    outcome = _load(gateway.url, requests, concurrency, seconds)
    host_after = host_cpu_ticks()
    user_after, system_after = gateway.cpu_split_s() or (0.0, 0.0)
    user, system = user_after - user_before, system_after - system_before
    by_source = {k: v for k, v in mocks.calls_by_source().items() if k not in NOT_UPSTREAM}
    done = max(outcome.completed, 1)
    stats: dict[str, Any] = {
        "concurrency": concurrency,
        "requests": outcome.completed,
        "rps": round(outcome.rps, 1),
        "p50_ms": _round(percentile(outcome.latencies_ms, 0.50)),
        "p99_ms": _round(percentile(outcome.latencies_ms, 0.99)),
        "upstream_calls": round(sum(by_source.values()) / done, 2),
        "upstream_calls_by_source": {k: round(v / done, 2) for k, v in by_source.items() if v},
        "cpu_ms_per_req": round((user + system) * 1000 / done, 2),
        # the kernel's share varies most from run to run on a shared host: shown apart
        "cpu_user_ms_per_req": round(user * 1000 / done, 2),
        "cpu_system_ms_per_req": round(system * 1000 / done, 2),
        # CPU time the hypervisor took from this virtual machine during the run: where it
        # is high, every process's CPU per request reads high too (docs/performance.md)
        "host_steal_pct": _round(steal_pct(host_before, host_after)),
        "peak_rss_mb": _round(gateway.peak_rss_mb()),
        "errors": sum(outcome.errors.values()),
        "error_classes": dict(outcome.errors),
        "ran_out_of_citizens": outcome.exhausted,
    }
    if record:
        paths = critical_paths_ms(outcome.spans, mocks.recorded())
        mocks.record(False)
        stats["critical_path_ms"] = _round(statistics.median(paths) if paths else None)
    return outcome, stats


def _load(url: str, requests: Iterator[Request], concurrency: int, seconds: float) -> Outcome:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(closed_run(url, requests, concurrency=concurrency, seconds=seconds))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def bench_screen(
    workload: Workload, mocks: Mocks, variant: str, screen: str, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The cold and warm runs of one screen in one fresh gateway process."""
    env = {**COMMON_ENV, **(BASELINE_ENV if variant == "baseline" else {})}
    runs: list[dict[str, Any]] = []
    with serve(
        population=0,
        latency_ms=args.latency_ms,
        extra_env=env,
        mocks_url=mocks.url,
        audit_dir=args.audit_dir,
    ) as gateway:
        cold = workload.cold(screen)  # shared by both cold runs: nobody is asked for twice
        for concurrency in args.concurrency:
            _, stats = measure(
                gateway,
                mocks,
                cold,
                concurrency=concurrency,
                seconds=args.seconds,
                record=concurrency == 1,
            )
            runs.append({"screen": screen, "variant": variant, "path": "cold", **stats})
        warm_set = workload.warm_set(screen)
        _load(gateway.url, iter(warm_set), 1, 3600)  # the warm-up pass
        for concurrency in args.concurrency:
            _, stats = measure(
                gateway,
                mocks,
                workload.warm(warm_set),
                concurrency=concurrency,
                seconds=args.seconds,
            )
            runs.append({"screen": screen, "variant": variant, "path": "warm", **stats})
    for run in runs:
        print(_row(run), flush=True)
    return runs


def memory_run(args: argparse.Namespace) -> dict[str, Any]:
    """Cold home requests at concurrency 32 over a large population: the gateway's RSS."""
    print(f"memory run: {args.memory_population:,} people ...", flush=True)
    workload = Workload(Population(size=args.memory_population))
    with serve_mocks(population=args.memory_population, latency_ms=args.latency_ms) as server:
        mocks = Mocks(server)
        with serve(
            population=0,
            latency_ms=args.latency_ms,
            extra_env=COMMON_ENV,
            mocks_url=mocks.url,
            audit_dir=args.audit_dir,
        ) as gateway:
            cold = workload.cold("home")
            measure(gateway, mocks, cold, concurrency=1, seconds=min(args.seconds, 2))
            start_rss = gateway.rss_mb() or 0.0
            outcome, stats = measure(
                gateway, mocks, cold, concurrency=32, seconds=args.memory_seconds
            )
            end_rss = gateway.rss_mb() or 0.0
    return {
        "population": args.memory_population,
        "requests": outcome.completed,
        "errors": stats["errors"],
        "start_rss_mb": round(start_rss, 1),
        "end_rss_mb": round(end_rss, 1),
        "peak_rss_mb": stats["peak_rss_mb"],
        "rps": stats["rps"],
    }


HEADER = (
    f"{'screen':<15}{'variant':<9}{'path':<5}{'conc':>5}{'rps':>8}{'p50':>8}{'p99':>8}"
    f"{'calls/req':>10}{'cpu ms/req':>11}{'(sys)':>7}{'steal%':>7}{'peak RSS':>9}  flags"
)


def _row(run: dict[str, Any]) -> str:
    def num(value: float | None, width: int, digits: int = 1) -> str:
        return f"{'-' if value is None else f'{value:.{digits}f}':>{width}}"

    flags = []
    if run["errors"]:
        flags.append(f"ERRORS {run['errors']} {run['error_classes']}")
    if run["ran_out_of_citizens"]:
        flags.append("ran out of cold citizens")
    return (
        f"{run['screen']:<15}{run['variant']:<9}{run['path']:<5}{run['concurrency']:>5}"
        f"{num(run['rps'], 8)}{num(run['p50_ms'], 8)}{num(run['p99_ms'], 8)}"
        f"{num(run['upstream_calls'], 10, 2)}{num(run['cpu_ms_per_req'], 11, 2)}"
        f"{num(run['cpu_system_ms_per_req'], 7, 2)}{num(run.get('host_steal_pct'), 7)}"
        f"{num(run['peak_rss_mb'], 9)}  {' '.join(flags)}"
    )


def summary(results: dict[str, Any]) -> str:
    """The table of every run, the critical paths and the targets."""
    lines = [HEADER, *(_row(r) for r in results["runs"]), ""]
    paths = ", ".join(f"{s} {ms:.1f} ms" for s, ms in results["critical_path_ms"].items())
    lines += [f"upstream critical path (median, cold, c=1): {paths}", ""]
    lines.append(report(verdicts(results)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry (`make bench`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="per run")
    parser.add_argument("--population", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20, help="per upstream call")
    parser.add_argument("--memory-population", type=int, default=100_000, help="0: skip")
    parser.add_argument("--memory-seconds", type=float, default=15)
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=list(CONCURRENCIES), help="workers"
    )
    parser.add_argument("--warm-set", type=int, default=WARM_SET, help="citizens, warm runs")
    parser.add_argument("--screens", nargs="+", choices=SCREENS, default=list(SCREENS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results.json"))
    parser.add_argument(
        "--audit-dir",
        type=Path,
        default=None,
        help="where the gateways keep their SQLite audit trails (default: the temp dir)",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.population < 0 or min(args.concurrency) < 1:
        parser.error("--seconds and --concurrency must be positive, --population not negative")
    if args.audit_dir is not None and not args.audit_dir.is_dir():
        parser.error(f"--audit-dir {args.audit_dir} is not a directory")
    started = time.monotonic()
    workload = Workload(Population(size=args.population), args.warm_set)
    runs: list[dict[str, Any]] = []
    print(f"mocks: {args.population:,} people, {args.latency_ms:g} ms per call", flush=True)
    print(HEADER, flush=True)
    with serve_mocks(population=args.population, latency_ms=args.latency_ms) as server:
        mocks = Mocks(server)
        for variant in VARIANTS:
            for screen in args.screens:
                runs += bench_screen(workload, mocks, variant, screen, args)
    results: dict[str, Any] = {
        "critical_path_ms": {
            r["screen"]: r["critical_path_ms"]
            for r in runs
            if r["variant"] == "gateway" and "critical_path_ms" in r
        },
        "runs": runs,
        "setup": {
            "population": args.population,
            "latency_ms": args.latency_ms,
            "seconds_per_run": args.seconds,
            "warm_set": args.warm_set,
            "audit_dir": str(args.audit_dir or tempfile.gettempdir()),
            "memory_seconds": args.memory_seconds,
            "baseline_env": BASELINE_ENV,
            "common_env": COMMON_ENV,
        },
    }
    if args.memory_population:
        results["memory"] = memory_run(args)
    results["targets"] = [v.__dict__ for v in verdicts(results)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print()
    print(summary(results))
    print(f"\nwrote {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
