"""A fast run of `make bench-bodies`: huge upstream answers cost their fields, not the process."""

from __future__ import annotations

import pytest

from benchmarks.bodies import main


def test_huge_answers_are_refused_and_memory_is_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("start: ")
    assert "round 1: " in out
    assert "UPSTREAM_BAD_RESPONSE" in out  # over the size cap: the EHR's fields only
    assert "INTERNAL" not in out
