"""Fixtures shared by every test package: one small deterministic population."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import settings

from mocks.population import Population
from mocks.records import RecordStore

# In CI the property tests replay the same examples every run, so a commit that was green
# stays green; on developer machines they explore, and a failure they find is kept in
# .hypothesis/ until fixed.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

# A fixed reference date keeps ages, and so every age-dependent rule, reproducible.
REFERENCE_DAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def population() -> Population:
    """Personas plus 200 generated people, as of REFERENCE_DAY."""
    return Population(size=200, today=REFERENCE_DAY)


@pytest.fixture(scope="session")
def records(population: Population) -> RecordStore:
    """Health records of the shared population."""
    return RecordStore(population)
