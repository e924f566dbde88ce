"""`make soak-faults`: the soak's load once with healthy mocks, then again while some
upstreams misbehave, compared.

The workload is the home screen as citizens of every municipality in turn (personas
and generated adults of the mock population), so each faulted municipality has its
citizens and the others' can be watched. A citizen is healthy when every upstream their
home screen reads is: the EHR, the national portal and their own municipality's
service. Faults are named `KIND=UPSTREAM`: `hang` (never answers; the gateway's deadline
ends each call), `reset` (TCP reset before any response), `slow` (answers after
`slow_ms`, by default below the gateway's 2 s deadline) or `big` (answers a 100 MB JSON
body: the gateway's memory over time shows its byte budget holding); an upstream is
`ehr`, `national` or a municipality code.

The mock population has four municipalities, so all three kinds of fault run at once
and one municipality stays healthy: the default hangs Levanger (5037), slows Oslo (0301)
and resets Trondheim (5001), and keeps Bergen (4601) healthy. The hang and the slow
answer are where they were when there were only three municipalities (the figures in
docs/resilience.md before the bulkhead), and they are the faults that hold the gateway's
capacity while they last, so both sit on municipalities with their own API, read three
times per home screen (appointments, messages, vaccinations); a reset trips the circuit
breaker within a second and then costs nothing, so it takes Trondheim, whose residents'
appointments and messages come from the shared EHR and only their vaccinations from its
API. Bergen, the healthy one, has its own API too, so its citizens read the same
upstreams as the faulted ones. A slow answer below the deadline never trips the breaker.
A faulted EHR or national portal touches every citizen (their healthy figures are then
empty).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from benchmarks.server import serve
from benchmarks.soak import Call, Drive, Sample, count_classes, drive, home_body, percentile
from mocks.oidc import MockIssuer
from mocks.population import MUNICIPALITIES, Person, Population

KINDS = ("hang", "reset", "slow", "big")
SHARED = ("ehr", "national")  # every citizen's home screen reads these
CODES = tuple(m.code for m in MUNICIPALITIES)
DEFAULT_FAULTS = "hang=5037,reset=5001,slow=0301"
SLOW_MS = 1500.0
BIG_BYTES = 100_000_000  # a `big` upstream's every answer
# Below the no-fault knee of a cold home screen on a shared 2-core host (~30-50/s): a
# rate the healthy run already sheds at compares nothing. Each citizen is asked about
# once in under three minutes at 1000 per municipality (4000 in all), as in life, so the
# whole-response cache (complete answers, 30 s) does not hide a slow upstream behind its
# first answer.
FAULT_RPS = 25.0
PERSONAS = ("kari", "ola", "per")  # adults with data everywhere (none lives in Bergen)


@dataclass(frozen=True)
class FaultPlan:
    """Which upstream misbehaves how: `faults` maps an upstream to its fault kind."""

    faults: Mapping[str, str]
    slow_ms: float = SLOW_MS

    def mock_faults(self) -> dict[str, dict[str, object]]:
        """`HELSEGRAF_MOCKS__FAULTS`' value (see `gateway.settings_sections.MockFaultSettings`)."""
        as_setting: dict[str, dict[str, object]] = {
            "hang": {"hang": True},
            "reset": {"reset": True},
            "slow": {"latency_ms": self.slow_ms},
            "big": {"oversized_bytes": BIG_BYTES},
        }
        return {upstream: as_setting[kind] for upstream, kind in self.faults.items()}

    def env(self) -> dict[str, str]:
        """The gateway's environment that injects these faults into its embedded mocks."""
        return {"HELSEGRAF_MOCKS__FAULTS": json.dumps(self.mock_faults())}

    def healthy(self) -> list[str]:
        """The municipalities whose citizens read only healthy upstreams."""
        if any(upstream in self.faults for upstream in SHARED):
            return []
        return [code for code in CODES if code not in self.faults]


def parse_faults(text: str, slow_ms: float = SLOW_MS) -> FaultPlan:
    """`hang=5037,reset=0301,slow=5001` as a plan; ValueError names what is wrong."""
    faults: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, upstream = part.partition("=")
        kind, upstream = kind.strip(), upstream.strip()
        if kind not in KINDS:
            raise ValueError(f"fault {part!r}: the kind is one of {', '.join(KINDS)}")
        if upstream not in (*SHARED, *CODES):
            known = ", ".join((*SHARED, *CODES))
            raise ValueError(f"fault {part!r}: the upstream is one of {known}")
        if upstream in faults:
            raise ValueError(f"upstream {upstream} is given two faults")
        faults[upstream] = kind
    if not faults:
        raise ValueError("no fault given (e.g. hang=5037,reset=0301,slow=5001)")
    if slow_ms <= 0:
        raise ValueError("the slow upstream's latency must be positive")
    return FaultPlan(faults, slow_ms)


def citizens(population: Population, per_municipality: int) -> dict[str, list[Person]]:
    """Up to `per_municipality` adult citizens of each municipality: the personas living
    there first, then generated adults in population order."""
    chosen: dict[str, list[Person]] = {code: [] for code in CODES}
    candidates = [population.persona(key) for key in PERSONAS] + [
        p for p in population if p.persona is None and p.age_on(population.today) >= 18
    ]
    for person in candidates:
        group = chosen.get(person.address.municipality)
        if group is not None and len(group) < per_municipality:
            group.append(person)
    return chosen


def workload(by_municipality: Mapping[str, Sequence[Person]]) -> list[Call]:
    """The home screen as each citizen, municipalities interleaved so each gets an equal
    share of any stretch of the run."""
    issuer = MockIssuer()
    body = home_body()
    longest = max((len(people) for people in by_municipality.values()), default=0)
    return [
        Call(issuer.token_for(people[n % len(people)]), body, code)
        for n in range(longest)
        for code, people in by_municipality.items()
        if people
    ]


@dataclass
class GroupFigures:
    """Latency and errors of one group of requests."""

    requests: int
    p50_ms: float | None  # every answer, refusals included
    p99_ms: float | None
    with_errors: int  # requests with any error class
    clean_p50_ms: float | None  # answers without any error (a quick 503 is no speed-up)
    clean_p99_ms: float | None
    error_classes: dict[str, int]


def figures(samples: Sequence[Sample]) -> GroupFigures:
    """`samples` summed up."""
    latencies = [s.ms for s in samples]
    clean = [s.ms for s in samples if not s.classes]
    return GroupFigures(
        requests=len(samples),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        with_errors=len(samples) - len(clean),
        clean_p50_ms=percentile(clean, 0.50),
        clean_p99_ms=percentile(clean, 0.99),
        error_classes=count_classes(samples),
    )


@dataclass
class RunFigures:
    """One run of the fault mode's pair."""

    seconds: float
    target_rps: float
    sent: int
    completed: int
    everyone: GroupFigures
    healthy: GroupFigures  # the citizens of the healthy municipalities
    by_municipality: dict[str, GroupFigures]
    upstream_errors: dict[str, int]  # "MUNICIPAL 0301:UPSTREAM_TIMEOUT": requests
    http_errors: dict[str, int]  # "503 OVERLOADED": requests
    transport_errors: dict[str, int]  # exception name: requests
    refused_by_second: dict[int, int]  # second of the run: requests refused (HTTP >= 400)
    rss_mb: dict[str, float | None]  # start, max, end
    rss_over_time: list[tuple[float, float]] = field(default_factory=list)


def run_figures(seen: Drive, healthy: Sequence[str]) -> RunFigures:
    """A run's samples summed up by municipality and error family."""
    classes = count_classes(seen.samples)

    def family(prefix: str) -> dict[str, int]:
        return {k.removeprefix(prefix): n for k, n in classes.items() if k.startswith(prefix)}

    groups = sorted({s.group for s in seen.samples})
    memory = [mb for _, mb in seen.rss_mb]
    return RunFigures(
        seconds=seen.seconds,
        target_rps=seen.target_rps,
        sent=seen.sent,
        completed=len(seen.samples),
        everyone=figures(seen.samples),
        healthy=figures([s for s in seen.samples if s.group in healthy]),
        by_municipality={g: figures([s for s in seen.samples if s.group == g]) for g in groups},
        upstream_errors=family("graphql:"),
        http_errors=family("http:"),
        transport_errors=family("transport:"),
        refused_by_second=dict(
            sorted(
                Counter(
                    int(s.at_s)
                    for s in seen.samples
                    if any(c.startswith("http:") for c in s.classes)
                ).items()
            )
        ),
        rss_mb={
            "start": memory[0] if memory else None,
            "max": max(memory) if memory else None,
            "end": memory[-1] if memory else None,
        },
        rss_over_time=seen.rss_mb,
    )


@dataclass
class FaultReport:
    """The fault mode's answer: both runs and the healthy citizens' slowdown."""

    faults: dict[str, str]
    slow_ms: float
    healthy_municipalities: list[str]
    citizens: dict[str, int]  # per municipality
    no_fault: RunFigures
    with_faults: RunFigures
    healthy_p50_ratio: float | None  # with faults / without
    healthy_p99_ratio: float | None


def _ratio(after: float | None, before: float | None) -> float | None:
    return None if after is None or not before else round(after / before, 2)


def fault_soak(
    plan: FaultPlan,
    *,
    seconds: float,
    rps: float,
    population: int,
    latency_ms: float,
    per_municipality: int,
) -> FaultReport:
    """The same load on a fresh gateway without faults, then on one with `plan`'s."""
    by_municipality = citizens(Population(size=population), per_municipality)
    calls = workload(by_municipality)
    healthy = plan.healthy()
    runs = []
    for env in ({}, plan.env()):
        with serve(population=population, latency_ms=latency_ms, extra_env=env) as server:
            seen = asyncio.run(drive(server, seconds=seconds, rps=rps, workload=calls))
        runs.append(run_figures(seen, healthy))
    before, after = runs
    return FaultReport(
        faults=dict(plan.faults),
        slow_ms=plan.slow_ms,
        healthy_municipalities=healthy,
        citizens={code: len(people) for code, people in by_municipality.items()},
        no_fault=before,
        with_faults=after,
        healthy_p50_ratio=_ratio(after.healthy.p50_ms, before.healthy.p50_ms),
        healthy_p99_ratio=_ratio(after.healthy.p99_ms, before.healthy.p99_ms),
    )


def fault_summary(report: FaultReport) -> str:
    """A few human-readable lines: both runs side by side."""
    faults = ", ".join(f"{kind} {upstream}" for upstream, kind in report.faults.items())
    healthy = ", ".join(report.healthy_municipalities) or "none"
    lines = [
        f"faults: {faults} (slow = {report.slow_ms:.0f} ms); healthy municipalities: {healthy}",
        f"citizens per municipality: {report.citizens}",
    ]
    for label, run in (("no faults", report.no_fault), ("with faults", report.with_faults)):
        lines += [
            f"{label}: {run.sent} sent at {run.target_rps}/s over {run.seconds} s, "
            f"{run.completed} answered",
            f"  healthy citizens ms: p50 {run.healthy.p50_ms}  p99 {run.healthy.p99_ms}  "
            f"({run.healthy.with_errors} of {run.healthy.requests} with errors; without them "
            f"p50 {run.healthy.clean_p50_ms}  p99 {run.healthy.clean_p99_ms})",
            f"  all citizens ms: p50 {run.everyone.p50_ms}  p99 {run.everyone.p99_ms}",
            f"  upstream errors: {run.upstream_errors or 'none'}",
            f"  http errors: {run.http_errors or 'none'}",
            f"  refused by second of the run: {run.refused_by_second or 'none'}",
            f"  transport errors: {run.transport_errors or 'none'}",
            f"  resident memory MB: start {run.rss_mb['start']}  max {run.rss_mb['max']}  "
            f"end {run.rss_mb['end']}",
        ]
    lines.append(
        f"healthy citizens with faults / without: p50 x{report.healthy_p50_ratio}  "
        f"p99 x{report.healthy_p99_ratio}"
    )
    return "\n".join(lines)
