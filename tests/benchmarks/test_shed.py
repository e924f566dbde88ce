"""A fast run of `make bench-shed`: a full gateway refuses every request at once."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.shed import main


def test_a_full_gateway_refuses_every_request_and_the_run_reports_its_cost(
    tmp_path: Path,
) -> None:
    out = tmp_path / "shed.json"
    assert main(["--seconds", "0.5", "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["refusals"] > 0
    assert result["other_outcomes"] == {}  # every request refused with 503, nothing else
    assert result["refusal_cpu_ms"] is not None
    assert result["healthz_cpu_ms"] is not None
