"""What a FHIR batch answer may be: anything malformed is the EHR's bad answer, never a crash."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sources.errors import UpstreamBadResponse
from sources.fhir_batch import BatchReads
from sources.upstream import Upstream

URLS = ["Patient/p1", "Observation?patient=p1"]


def reads(answer: Any) -> BatchReads:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer, headers={"content-type": "application/fhir+json"})

    upstream = Upstream(
        "EHR", "http://ehr.test/fhir", timeout_s=1.0, transport=httpx.MockTransport(handler)
    )
    return BatchReads(upstream, "EHR")


@pytest.mark.parametrize(
    "answer",
    [
        [],
        "batch-response",
        {"type": "batch-response", "entry": "none"},
        {"type": "batch-response", "entry": [{}]},
    ],
)
async def test_a_malformed_batch_answer_is_a_bad_response(answer: Any) -> None:
    with pytest.raises(UpstreamBadResponse, match="malformed batch-response"):
        await reads(answer)(URLS)


@pytest.mark.parametrize("entry", [1, "x", {"response": "200 OK"}, {"response": {"status": ""}}])
async def test_a_malformed_entry_is_that_entry_s_bad_response(entry: Any) -> None:
    answer = {
        "type": "batch-response",
        "entry": [{"response": {"status": "200 OK"}, "resource": {"id": "p1"}}, entry],
    }
    first, second = await reads(answer)(URLS)
    assert first == {"id": "p1"}
    assert isinstance(second, UpstreamBadResponse)
