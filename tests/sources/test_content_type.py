"""An upstream's answer is data only when it is labelled JSON: a JSON-looking body labelled
`text/html` (an error page, a misrouted proxy) is a bad response, on every path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from sources.bodies import is_json_content
from sources.ehr import EhrClient
from sources.errors import UpstreamBadResponse
from sources.resilience import RetryBudget
from sources.rest import RestBatcher
from sources.upstream import Upstream

BUNDLE = {"resourceType": "Bundle", "type": "searchset", "entry": [], "note": "26878118862"}


@pytest.mark.parametrize(
    "value",
    [
        "application/json",
        "application/fhir+json",
        "application/problem+json",
        "application/vnd.api+json",
        "application/json; charset=utf-8",
        "Application/FHIR+JSON;charset=UTF-8",
        " application/json ; charset=utf-8",
    ],
)
def test_json_labels_are_accepted(value: str) -> None:
    assert is_json_content(value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "text/html",
        "text/html; charset=utf-8",
        "text/plain",
        "text/json",
        "application/xml",
        "application/fhir+xml",
        "application/jsonx",
        "application/json-seq",
        "application/+json",
        "application/x+json+xml",
        "application/json, text/html",  # two labels
        "multipart/related; type=application/json",
        "json",
    ],
)
def test_other_labels_are_refused(value: str | None) -> None:
    assert not is_json_content(value)


class Counted(httpx.AsyncByteStream):
    """A JSON body whose reading is observed."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.read = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read = True
        yield self.body


def labelled(status: int, content_type: str | None, seen: list[httpx.Request]) -> Upstream:
    """An upstream answering every request with BUNDLE labelled `content_type`."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {} if content_type is None else {"content-type": content_type}
        return httpx.Response(status, headers=headers, content=orjson.dumps(BUNDLE))

    return Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=1.0,
        budget=RetryBudget(ratio=10),  # never binds: one request seen is no retry at all
        transport=httpx.MockTransport(handler),
    )


@pytest.mark.parametrize("content_type", ["text/html", "text/plain; charset=utf-8", None])
async def test_json_labelled_otherwise_is_a_bad_response_not_data(
    content_type: str | None,
) -> None:
    seen: list[httpx.Request] = []
    ehr = labelled(200, content_type, seen)
    with pytest.raises(UpstreamBadResponse, match=r"not JSON content$") as caught:
        await ehr.call("GET", "Patient/e1", operation="read Patient", idempotent=True)
    assert "26878118862" not in str(caught.value)
    assert "ehr.test" not in str(caught.value)
    assert len(seen) == 1  # the upstream answered: nothing to retry


async def test_the_body_of_a_non_json_answer_is_not_read() -> None:
    body = Counted(orjson.dumps(BUNDLE))
    ehr = Upstream(
        "EHR",
        "http://ehr.test/fhir",
        timeout_s=1.0,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(200, headers={"content-type": "text/html"}, stream=body)
        ),
    )
    with pytest.raises(UpstreamBadResponse, match="not JSON content"):
        await ehr.call("GET", "Patient/e1", operation="read")
    assert not body.read


async def test_a_fhir_json_answer_with_parameters_is_data() -> None:
    ehr = labelled(200, "Application/FHIR+JSON; charset=UTF-8", [])
    assert await ehr.call("GET", "Patient/e1", operation="read") == BUNDLE


async def test_a_not_found_answered_with_html_is_not_data_even_when_not_found_is_ok() -> None:
    ehr = labelled(404, "text/html", [])
    with pytest.raises(UpstreamBadResponse, match="not JSON content"):
        await ehr.call("GET", "Patient/e1", operation="read", not_found_ok=True)
    assert (
        await labelled(404, "application/fhir+json", []).call(
            "GET", "Patient/e1", operation="read", not_found_ok=True
        )
        == BUNDLE
    )


async def test_the_ehr_batch_goes_through_the_same_check() -> None:
    seen: list[httpx.Request] = []
    client = EhrClient(labelled(200, "text/html", seen))
    results = await asyncio.gather(
        client.search("Observation?patient=e1"),
        client.search("Condition?patient=e1"),
        return_exceptions=True,
    )
    assert [r.method for r in seen] == ["POST"]
    assert seen[0].url.path == "/fhir/"  # one batch Bundle for both searches
    assert all(isinstance(r, UpstreamBadResponse) for r in results)
    assert all("not JSON content" in str(r) for r in results)


async def test_the_rest_batch_goes_through_the_same_check() -> None:
    seen: list[httpx.Request] = []

    def batch(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answers = [
            {"id": str(n), "status": 200, "body": {"persons": []}}
            for n in range(len(orjson.loads(request.content)["requests"]))
        ]
        return httpx.Response(
            200, headers={"content-type": "text/html"}, content=orjson.dumps({"responses": answers})
        )

    national = Upstream(
        "NATIONAL", "http://national.test", timeout_s=1.0, transport=httpx.MockTransport(batch)
    )
    client = RestBatcher(national)
    results = await asyncio.gather(
        client.post("persons/_search", {"nin": "a"}),
        client.post("vaccinations/_search", {"nin": "a"}),
        return_exceptions=True,
    )
    assert [r.url.path for r in seen] == ["/$batch"]
    assert all(isinstance(r, UpstreamBadResponse) for r in results)
    assert all("not JSON content" in str(r) for r in results)
