"""A basis that lists prescriptions from some sources only asks only those."""

from __future__ import annotations

from tests.e2e.conftest import Harness

MEDICINES = "{ viewer { person { medications { atc sources { kind } } } } }"


async def test_a_young_persons_medicines_ask_no_source_she_never_sees(harness: Harness) -> None:
    """The youth basis lists e-prescriptions only: the EHR's medication list is not asked
    for at all, so the EHR failing costs her nothing (and no failure is recorded)."""
    harness.mocks.ehr.faults.error_rate = 1.0
    harness.mocks.reset_counters()
    body = (await harness.query("ida", MEDICINES)).json()
    assert "errors" not in body, body["errors"]
    medicines = body["data"]["viewer"]["person"]["medications"]
    assert {s["kind"] for m in medicines for s in m["sources"]} == {"NATIONAL"}
    assert harness.mocks.counts()["EHR"] == 0
