"""`HELSEGRAF_MOCKS__FAULTS` reaches the embedded mocks `helsegraf serve | mocks` start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.cli import StartRefused, _mocks, main
from gateway.settings import Settings

FAULTS = '{"5037": {"hang": true}, "0301": {"reset": true}, "5001": {"latency_ms": 1500}}'


def test_faults_from_the_environment_are_applied_to_the_embedded_mocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HELSEGRAF_MOCKS__POPULATION", "0")
    monkeypatch.setenv("HELSEGRAF_MOCKS__LATENCY_MS", "7")
    monkeypatch.setenv("HELSEGRAF_MOCKS__FAULTS", FAULTS)
    mocks = _mocks(Settings())
    assert mocks.municipal["5037"].faults.hang
    assert not mocks.municipal["5037"].faults.reset
    assert mocks.municipal["0301"].faults.reset
    assert not mocks.municipal["0301"].faults.hang
    assert mocks.municipal["5001"].faults.latency_ms == 1500
    # upstreams without an entry keep the common latency and no fault
    assert mocks.ehr.faults.latency_ms == 7
    assert not mocks.national.faults.hang
    assert not mocks.national.faults.reset


def test_fault_fields_are_checked() -> None:
    with pytest.raises(ValidationError):
        Settings(mocks={"faults": {"ehr": {"hang": "sometimes"}}})
    with pytest.raises(ValidationError):
        Settings(mocks={"faults": {"ehr": {"explode": True}}})


def test_an_unknown_faulted_upstream_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(mocks={"population": 0, "faults": {"9999": {"hang": True}}})
    with pytest.raises(StartRefused, match=r"HELSEGRAF_MOCKS__FAULTS.*9999"):
        _mocks(settings)
    monkeypatch.setenv("HELSEGRAF_MOCKS__POPULATION", "0")
    monkeypatch.setenv("HELSEGRAF_MOCKS__FAULTS", '{"9999": {"hang": true}}')
    monkeypatch.setenv("HELSEGRAF_PORT", "0")
    assert main(["mocks"]) == 2
    assert "HELSEGRAF_MOCKS__FAULTS" in capsys.readouterr().err
