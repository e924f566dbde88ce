"""A fast smoke run of `make bench`: every screen, variant, path and concurrency, real
gateway and mock processes, tiny durations and population."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.bench import main
from benchmarks.loadgen import busy_ms, critical_paths_ms
from benchmarks.server import host_cpu_ticks, serve, steal_pct
from benchmarks.targets import verdicts
from benchmarks.workload import SCREENS

RUN_KEYS = {
    "screen",
    "variant",
    "path",
    "concurrency",
    "rps",
    "p50_ms",
    "p99_ms",
    "upstream_calls",
    "cpu_ms_per_req",
    "cpu_user_ms_per_req",
    "cpu_system_ms_per_req",
    "host_steal_pct",
    "peak_rss_mb",
}


def test_busy_time_is_the_union_of_overlapping_calls() -> None:
    assert busy_ms([(0.0, 0.02), (0.01, 0.03), (0.05, 0.06)]) == pytest.approx(40)
    assert busy_ms([]) == 0
    # calls are attributed to the request whose span holds them
    spans = [(0.0, 0.1), (0.2, 0.3)]
    calls = [(0.01, 0.03), (0.02, 0.05), (0.21, 0.22), (0.15, 0.16)]
    assert critical_paths_ms(spans, calls) == pytest.approx([40, 10])


def test_steal_is_the_stolen_share_of_the_ticks_between_two_readings() -> None:
    assert steal_pct((10, 1000), (30, 1200)) == pytest.approx(10)
    assert steal_pct((10, 1000), (10, 1000)) is None  # no time passed
    assert steal_pct(None, (10, 1000)) is None


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="no /proc/stat on this system")
def test_host_ticks_come_from_proc_stat() -> None:
    first = host_cpu_ticks()
    assert first is not None
    stolen, total = first
    assert 0 <= stolen <= total
    second = host_cpu_ticks()
    assert second is not None
    assert second[1] >= total


def test_smoke_run_writes_every_run_with_plausible_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    args = ["--seconds", "0.2", "--population", "300", "--latency-ms", "2", "--warm-set", "2"]
    # concurrency 4 stands in for 32: the same code path in a fraction of the time
    args += ["--concurrency", "1", "4", "--memory-population", "0", "--out", str(out)]
    assert main(args) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    runs = results["runs"]
    combos = {(r["screen"], r["variant"], r["path"], r["concurrency"]) for r in runs}
    assert combos == {
        (s, v, p, c)
        for s in SCREENS
        for v in ("gateway", "baseline")
        for p in ("cold", "warm")
        for c in (1, 4)
    }
    for run in runs:
        assert set(run) >= RUN_KEYS, run
        assert run["errors"] == 0, run
        assert run["rps"] > 0
        assert run["p50_ms"] > 0
        assert run["p99_ms"] >= run["p50_ms"]
        assert run["cpu_ms_per_req"] >= 0  # /proc counts in 10 ms ticks
        assert run["cpu_ms_per_req"] == pytest.approx(
            run["cpu_user_ms_per_req"] + run["cpu_system_ms_per_req"], abs=0.02
        )
        assert run["peak_rss_mb"] > 20
        assert run["host_steal_pct"] is None or 0 <= run["host_steal_pct"] <= 100
        if run["path"] == "cold" or run["variant"] == "baseline":
            assert run["upstream_calls"] > 0, run
    cold = {(r["screen"], r["variant"]): r for r in runs if r["path"] == "cold"}
    assert sum(r["cpu_ms_per_req"] for r in cold.values()) > 0
    for screen in SCREENS:  # the baseline batches nothing: more calls, or as many
        assert (
            cold[screen, "baseline"]["upstream_calls"] >= cold[screen, "gateway"]["upstream_calls"]
        )
    assert (
        cold["home", "baseline"]["upstream_calls"] > 2 * cold["home", "gateway"]["upstream_calls"]
    )
    assert set(results["critical_path_ms"]) == set(SCREENS)
    # every screen waits for at least two dependency levels of 2 ms calls
    assert all(ms >= 4 for ms in results["critical_path_ms"].values())
    assert {t["name"] for t in results["targets"]} == {v.name for v in verdicts(results)}
    printed = capsys.readouterr().out
    assert "targets:" in printed
    assert "steal%" in printed.splitlines()[1]  # the table's header, after the mocks line
    assert "home cold c=1 upstream calls per request" in printed


def test_the_gateway_keeps_its_audit_trail_where_it_is_told(tmp_path: Path) -> None:
    # the trail itself is created on the first audited access; its directory at start
    with serve(population=50, latency_ms=0, audit_dir=tmp_path):
        (home,) = tmp_path.glob("helsegraf-bench-*")
        assert home.is_dir()
    assert list(tmp_path.iterdir()) == []  # removed with the gateway


def test_an_audit_dir_that_is_not_a_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["--audit-dir", str(tmp_path / "missing")])
    assert "is not a directory" in capsys.readouterr().err
