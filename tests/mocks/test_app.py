"""The assembled mock upstreams: mounts, counters, per-upstream faults by configuration."""

import httpx
import pytest

from mocks.app import MockUpstreams
from mocks.control import Faults
from tests.conftest import REFERENCE_DAY


async def test_faults_apply_per_upstream_and_counters_count() -> None:
    mocks = MockUpstreams(size=0, today=REFERENCE_DAY, faults={"5001": Faults(error_rate=1.0)})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mocks.asgi()), base_url="http://mocks.test"
    ) as client:
        assert (await client.get("/municipalities/5001/api/v1/info")).status_code == 503
        assert (await client.get("/municipalities/5037/api/v1/info")).status_code == 200
        assert (await client.get("/ehr/fhir/R4/metadata")).status_code == 200
        stats = (await client.get("/_mock/stats")).json()
        assert stats["MUNICIPAL 5001"] == {"GET /municipalities/5001/api/v1/info": 1}
        assert mocks.counts()["EHR"] == 1
        await client.delete("/_mock/stats")
    assert sum(mocks.counts().values()) == 0


def test_unknown_fault_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="no mock upstream named"):
        MockUpstreams(size=0, faults={"9999": Faults()})
