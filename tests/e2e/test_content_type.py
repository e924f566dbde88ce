"""An upstream answering its real JSON labelled as something else (an error page, a
misrouted proxy) costs only that upstream's fields, as `UPSTREAM_BAD_RESPONSE`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mocks.app import MockUpstreams
from mocks.control import Faults
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import Harness
from tests.e2e.test_home import HOME


def _errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("errors", []))


async def test_the_mock_fault_relabels_the_real_answer() -> None:
    answers = []
    for faults in (Faults(), Faults(content_type="text/html; charset=utf-8")):
        mocks = MockUpstreams(size=0, today=REFERENCE_DAY, faults={"ehr": faults})
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=mocks.asgi()), base_url="http://mocks.test"
        ) as client:
            answers.append(await client.get("/ehr/fhir/R4/metadata"))
    real, relabelled = answers
    assert real.headers["content-type"].startswith("application/fhir+json")
    assert relabelled.status_code == real.status_code == 200
    assert relabelled.headers.get_list("content-type") == ["text/html; charset=utf-8"]
    assert relabelled.content == real.content


@pytest.mark.parametrize("label", ["text/html", "text/plain; charset=utf-8"])
async def test_ehr_json_labelled_otherwise_costs_only_the_ehr_fields(
    harness: Harness, label: str
) -> None:
    harness.mocks.ehr.faults.content_type = label
    response = await harness.query("kari", HOME)
    assert response.status_code == 200
    body = response.json()
    person = body["data"]["viewer"]["person"]
    assert person["name"] == "Kari Nordmann"  # national
    assert person["vaccinations"]  # national and municipal
    assert {s["kind"] for m in person["medications"] for s in m["sources"]} == {"NATIONAL"}
    assert person["labResults"] is None
    assert person["unreadMessageCount"] is None
    errors = _errors(body)
    assert errors
    assert {e["extensions"]["source"] for e in errors} == {"EHR"}
    assert {e["extensions"]["code"] for e in errors} == {"UPSTREAM_BAD_RESPONSE"}
    paths = {tuple(e["path"]) for e in errors}
    assert ("viewer", "person", "labResults") in paths
    for error in errors:
        assert "mocks.test" not in error["message"]
    assert harness.mocks.counts()["EHR"] == 1  # the look-up: a bad answer is not retried


async def test_the_national_batch_labelled_html_costs_only_the_national_fields(
    harness: Harness,
) -> None:
    harness.mocks.national.faults.content_type = "text/html"
    body = (await harness.query("kari", HOME)).json()
    assert "POST /national/api/v1/$batch" in harness.mocks.national.requests
    person = body["data"]["viewer"]["person"]
    assert person["labResults"]  # EHR
    assert {s["kind"] for m in person["medications"] for s in m["sources"]} == {"EHR"}
    errors = _errors(body)
    assert errors
    assert {e["extensions"]["source"] for e in errors} == {"NATIONAL"}
    assert {e["extensions"]["code"] for e in errors} == {"UPSTREAM_BAD_RESPONSE"}
