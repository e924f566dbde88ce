"""Fixtures for the FHIR mock: one app over the shared records, a client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from mocks.fhir import create_fhir_app
from mocks.records import RecordStore
from tests.mocks.fhir.fhirtest import BASE


@pytest.fixture(scope="session")
def fhir_app(records: RecordStore) -> Starlette:
    """The EHR mock over the session's records."""
    return create_fhir_app(records)


@pytest.fixture
async def client(fhir_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the mock in-process."""
    transport = httpx.ASGITransport(app=fhir_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http
