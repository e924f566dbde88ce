"""The targets of issue 6, checked against one benchmark run's results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CRITICAL_PATH_FACTOR = 1.15  # home, cold, concurrency 1: p50 within this of the path
HOME_COLD_CALLS = 6  # one call per source per dependency level
WARM_SPEEDUP = 10.0  # warm throughput over the baseline's
WARM_CPU_MS = 1.5  # gateway CPU per warm request
WARM_CALLS = 1  # the registry check of a kept answer (issue 13), nothing else
MEMORY_GROWTH_MB = 128.0  # peak RSS over the RSS before a cold run, 100,000 people


@dataclass(frozen=True)
class Verdict:
    """One target: what was measured, what it must be, and whether it holds."""

    name: str
    measured: str
    target: str
    ok: bool


def _run(runs: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    for run in runs:
        if all(run.get(k) == v for k, v in match.items()):
            return run
    return None


def verdicts(results: dict[str, Any]) -> list[Verdict]:
    """Every target that the results have the runs for."""
    runs: list[dict[str, Any]] = results["runs"]
    out: list[Verdict] = []
    home = _run(runs, screen="home", variant="gateway", path="cold", concurrency=1)
    path = results["critical_path_ms"].get("home")
    if home and path and home["p50_ms"] is not None:
        ratio = home["p50_ms"] / path
        out.append(
            Verdict(
                "home cold c=1 p50 / upstream critical path",
                f"{home['p50_ms']:.1f} / {path:.1f} ms = {ratio:.2f}x",
                f"<= {CRITICAL_PATH_FACTOR}x",
                ratio <= CRITICAL_PATH_FACTOR,
            )
        )
    for concurrency in (1, 32):
        run = _run(runs, screen="home", variant="gateway", path="cold", concurrency=concurrency)
        if run:
            out.append(
                Verdict(
                    f"home cold c={concurrency} upstream calls per request",
                    f"{run['upstream_calls']:.2f}",
                    f"<= {HOME_COLD_CALLS}",
                    run["upstream_calls"] <= HOME_COLD_CALLS,
                )
            )
    screens = sorted({r["screen"] for r in runs})
    for screen in screens:
        warm = [r for r in runs if r["screen"] == screen and r["variant"] == "gateway"]
        warm = [r for r in warm if r["path"] == "warm"]
        if warm:
            # A kept answer is served after one check of the registry facts its access
            # decisions rested on (sources/registry_reads.py), and asks nothing else.
            calls = max(r["upstream_calls"] for r in warm)
            elsewhere = any(
                source != "NATIONAL" for r in warm for source in r["upstream_calls_by_source"]
            )
            out.append(
                Verdict(
                    f"{screen} warm upstream calls per request",
                    f"{calls:.2f}",
                    "<= 1 (the registry check only)",
                    calls <= WARM_CALLS and not elsewhere,
                )
            )
        for concurrency in (1, 32):
            ours = _run(
                runs, screen=screen, variant="gateway", path="warm", concurrency=concurrency
            )
            base = _run(
                runs, screen=screen, variant="baseline", path="warm", concurrency=concurrency
            )
            if ours and base and base["rps"] > 0:
                ratio = ours["rps"] / base["rps"]
                out.append(
                    Verdict(
                        f"{screen} warm c={concurrency} throughput vs baseline",
                        f"{ours['rps']:.1f} / {base['rps']:.1f} rps = {ratio:.1f}x",
                        f">= {WARM_SPEEDUP:.0f}x",
                        ratio >= WARM_SPEEDUP,
                    )
                )
        if warm:
            worst = max(warm, key=lambda r: r["cpu_ms_per_req"])
            cpu = worst["cpu_ms_per_req"]
            steal = worst.get("host_steal_pct")
            out.append(
                Verdict(
                    f"{screen} warm CPU per request (worst of c=1, c=32)",
                    f"{cpu:.2f} ms" + ("" if steal is None else f", host steal {steal:.1f}%"),
                    f"<= {WARM_CPU_MS} ms",
                    cpu <= WARM_CPU_MS,
                )
            )
    memory = results.get("memory")
    if memory:
        growth = memory["peak_rss_mb"] - memory["start_rss_mb"]
        out.append(
            Verdict(
                f"gateway memory, {memory['requests']} cold requests over "
                f"{memory['population']:,} people",
                f"{memory['start_rss_mb']:.0f} -> peak {memory['peak_rss_mb']:.0f} MB "
                f"(+{growth:.0f})",
                f"growth <= {MEMORY_GROWTH_MB:.0f} MB",
                growth <= MEMORY_GROWTH_MB and memory["errors"] == 0,
            )
        )
    return out


def report(found: list[Verdict]) -> str:
    """The targets section of the summary."""
    width = max((len(v.name) for v in found), default=10)
    lines = ["targets:"]
    for v in found:
        mark = "PASS" if v.ok else "MISS"
        lines.append(f"  {mark}  {v.name:<{width}}  {v.measured}  (target {v.target})")
    return "\n".join(lines)
