"""The short soak: a real gateway process under constant load for a few seconds."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from benchmarks.faults import (
    DEFAULT_FAULTS,
    citizens,
    fault_soak,
    fault_summary,
    parse_faults,
    run_figures,
    workload,
)
from benchmarks.server import serve
from benchmarks.soak import Drive, Sample, classify, percentile, run, summary
from gateway.settings import Settings
from mocks.population import Population


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


# -- the fault mode ------------------------------------------------------------------


def _response(status: int, payload: object) -> httpx.Response:
    return httpx.Response(status, json=payload)


def test_answers_are_classified_by_family_source_and_code() -> None:
    assert classify(None, httpx.ReadTimeout("slow")) == ("transport:ReadTimeout",)
    overloaded = {"errors": [{"message": "busy", "extensions": {"code": "OVERLOADED"}}]}
    assert classify(_response(503, overloaded), None) == ("http:503 OVERLOADED",)
    assert classify(httpx.Response(502, text="<html>"), None) == ("http:502",)
    partial = {
        "data": {"viewer": None},
        "errors": [
            {"extensions": {"code": "UPSTREAM_TIMEOUT", "source": "MUNICIPAL 5037"}},
            {"extensions": {"code": "UPSTREAM_TIMEOUT", "source": "MUNICIPAL 5037"}},
            {"extensions": {"code": "CATEGORY_UNAVAILABLE"}},
        ],
    }
    assert classify(_response(200, partial), None) == (
        "graphql:-:CATEGORY_UNAVAILABLE",
        "graphql:MUNICIPAL 5037:UPSTREAM_TIMEOUT",
    )
    assert classify(_response(200, {"data": {"viewer": None}}), None) == ()


def test_fault_plans_are_parsed_and_checked() -> None:
    plan = parse_faults("hang=5037, reset=0301,slow=ehr", slow_ms=900)
    assert dict(plan.faults) == {"5037": "hang", "0301": "reset", "ehr": "slow"}
    assert plan.mock_faults() == {
        "5037": {"hang": True},
        "0301": {"reset": True},
        "ehr": {"latency_ms": 900},
    }
    assert plan.healthy() == []  # a slow EHR touches everyone
    default = parse_faults(DEFAULT_FAULTS)
    assert sorted(default.faults.values()) == ["hang", "reset", "slow"]  # all three at once
    assert default.healthy() == ["4601"]
    assert parse_faults("slow=national").healthy() == []
    big = parse_faults("big=0301").mock_faults()["0301"]["oversized_bytes"]
    assert isinstance(big, int)
    assert big > 16 * 1024 * 1024  # past every upstream's default size cap
    Settings(mocks={"faults": parse_faults("big=0301").mock_faults()})  # a valid setting
    for wrong, named in [
        ("explode=5037", "kind"),
        ("hang=9999", "upstream"),
        ("hang=5037,reset=5037", "two faults"),
        ("", "no fault"),
    ]:
        with pytest.raises(ValueError, match=named):
            parse_faults(wrong)


def test_run_figures_split_groups_and_error_families() -> None:
    samples = [
        Sample("5001", 10.0, (), 0.2),
        Sample("5001", 2.0, ("http:503 OVERLOADED",), 1.5),
        Sample("5001", 30.0, (), 1.7),
        Sample("5037", 2000.0, ("graphql:MUNICIPAL 5037:UPSTREAM_TIMEOUT",), 0.1),
        Sample("0301", 5.0, ("transport:ReadError",), 2.9),
    ]
    run = run_figures(
        Drive(3.0, 2.0, 6, samples, [(0.0, 100.0), (1.0, 120.0), (3.0, 110.0)]), ["5001"]
    )
    assert run.completed == 5
    assert run.sent == 6
    assert run.healthy.requests == 3
    assert run.healthy.with_errors == 1
    assert run.healthy.p50_ms == 10.0
    assert run.healthy.clean_p50_ms == 10.0
    assert run.healthy.clean_p99_ms == 30.0  # a quick refusal is not counted as a fast answer
    assert run.by_municipality["5037"].with_errors == 1
    assert run.upstream_errors == {"MUNICIPAL 5037:UPSTREAM_TIMEOUT": 1}
    assert run.http_errors == {"503 OVERLOADED": 1}
    assert run.transport_errors == {"ReadError": 1}
    assert run.refused_by_second == {1: 1}
    assert run.rss_mb == {"start": 100.0, "max": 120.0, "end": 110.0}


def test_every_municipality_has_its_own_adult_citizens() -> None:
    population = Population(size=200)
    chosen = citizens(population, 5)
    assert set(chosen) == {"5001", "5037", "0301", "4601"}
    for code, people in chosen.items():
        assert len(people) == 5
        assert len({p.nin for p in people}) == 5
        assert all(p.address.municipality == code for p in people)
        assert all(p.age_on(population.today) >= 18 for p in people)
    calls = workload(chosen)
    assert len(calls) == 20
    assert [c.group for c in calls[:8]] == ["5001", "5037", "0301", "4601"] * 2


def test_short_fault_soak_costs_only_the_faulted_municipalities() -> None:
    """The default faults, one municipality hung, one resetting and one slow at once, at a
    load the gateway carries today: every request is answered, the hung and resetting
    municipalities' citizens all get errors and the slow one's at most, each naming only
    their own service, and the healthy municipality's citizens get none."""
    plan = parse_faults(DEFAULT_FAULTS)
    report = fault_soak(plan, seconds=3, rps=10, population=200, latency_ms=5, per_municipality=10)
    for figures in (report.no_fault, report.with_faults):
        assert figures.sent >= 25
        assert figures.completed == figures.sent
        assert figures.transport_errors == {}
        assert figures.rss_mb["start"] is not None
    assert report.no_fault.everyone.with_errors == 0
    faulted = report.with_faults
    assert report.healthy_municipalities == ["4601"]
    assert faulted.healthy.requests > 0
    assert faulted.healthy.with_errors == 0
    assert faulted.http_errors == {}
    assert faulted.refused_by_second == {}
    assert set(plan.faults) == {"5037", "5001", "0301"}
    for code, kind in plan.faults.items():
        group = faulted.by_municipality[code]
        assert group.requests > 0
        assert all(c.startswith(f"graphql:MUNICIPAL {code}:") for c in group.error_classes)
        if kind == "slow":  # answers below the deadline: the fault shows as waiting
            assert group.requests > group.with_errors
            assert group.clean_p50_ms is not None
            assert group.clean_p50_ms >= plan.slow_ms
        else:
            assert group.with_errors == group.requests
    assert faulted.upstream_errors
    assert all(
        k.split(":")[0] in {f"MUNICIPAL {code}" for code in plan.faults}
        for k in faulted.upstream_errors
    )
    assert "healthy citizens" in fault_summary(report)
