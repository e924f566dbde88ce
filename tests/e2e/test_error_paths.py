"""Every error a partial failure adds points at a field of the answer.

A field that keeps some sources' data reports the lost ones beside it (a "problem",
`Context.report`). When another error then nulls an object or list above that field,
the field is not in the answer: its problem is dropped (the nulled ancestor's own error
says why it is missing), never left pointing at nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from strawberry.types import Info

from resolvers.core.access import Subject
from resolvers.core.categories import restrictions_of
from resolvers.core.context import Context
from sources.errors import UpstreamError
from tests.e2e.conftest import Harness
from tests.e2e.test_national_outage import in_data

REPRESENTED = """
{ viewer { representations { basis person { medications { id } restrictions { reason } } } } }
"""


async def test_a_problem_below_a_nulled_list_is_dropped(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The EHR is down, so each represented person's medicines keep the e-prescriptions and
    report the EHR lost; then a non-null field of the last one fails (a stand-in for any
    bug), nulling the whole list after those problems were reported."""
    harness.mocks.ehr.faults.malformed = True  # not retried
    real = restrictions_of
    reported: list[tuple[str | int, ...]] = []
    first_report = asyncio.Event()
    report = Context.report

    def reporting(self: Context, error: UpstreamError, path: tuple[str | int, ...]) -> None:
        report(self, error, path)
        first_report.set()

    async def failing(info: Info[Context, None], subject: Subject) -> list[Any]:
        with contextlib.suppress(TimeoutError):  # until the others' problems are in
            await asyncio.wait_for(first_report.wait(), 10)
        await asyncio.sleep(0)  # and the rest of that round's
        reported.extend(p.path for p in info.context.problems)
        raise RuntimeError("a non-null field failed")

    def restrictions(info: Info[Context, None], subject: Subject) -> Any:
        return failing(info, subject) if subject.basis.value == "PROXY" else real(info, subject)

    monkeypatch.setattr("resolvers.person.restrictions_of", restrictions)
    monkeypatch.setattr(Context, "report", reporting)
    body = (await harness.query("kari", REPRESENTED)).json()
    assert reported  # the medicines did report the EHR lost, below the list
    assert all(path[:2] == ("viewer", "representations") for path in reported)
    assert body["data"] == {"viewer": {"representations": None}}
    # only the error that nulled the list is left; its path names the field that failed,
    # as the GraphQL spec has it for an error that propagated to a nullable ancestor
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["path"] == ["viewer", "representations", 2, "person", "restrictions"]


async def test_a_problem_at_a_served_field_is_kept(harness: Harness) -> None:
    """The other side: the field is in the answer (the EHR's medicines lost, the
    e-prescriptions served), so its problem stays, pointing at it."""
    harness.mocks.ehr.faults.malformed = True
    body = (await harness.query("kari", "{ viewer { person { medications { id } } } }")).json()
    assert body["data"]["viewer"]["person"]["medications"]
    [error] = body["errors"]
    assert (error["path"], error["extensions"]["source"]) == (
        ["viewer", "person", "medications"],
        "EHR",
    )
    assert in_data(body["data"], error["path"])
