"""HELSEGRAF_SHARED_EHR_MUNICIPALITIES: which municipalities run on the shared EHR."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings
from mocks.app import MockUpstreams
from mocks.registry import MUNICIPALITIES


def test_the_default_matches_the_mocks() -> None:
    shared = [m.code for m in MUNICIPALITIES if m.on_shared_ehr]
    assert Settings().shared_ehr_municipalities == shared == ["5001"]
    embedded = MockUpstreams(size=0).settings_env("http://127.0.0.1:1")
    assert embedded["shared_ehr_municipalities"] == shared


def test_it_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELSEGRAF_SHARED_EHR_MUNICIPALITIES", '["5037", "0301"]')
    assert Settings().shared_ehr_municipalities == ["5037", "0301"]


def test_codes_are_validated() -> None:
    with pytest.raises(ValidationError, match="four-digit municipality code"):
        Settings(shared_ehr_municipalities=["Trondheim"])
