"""The reference cache's settings: validated bounds, and caching off keeps nothing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.services import oslo_now
from gateway.settings import Settings
from gateway.wiring import reference_cache as _reference


def test_defaults_fresh_five_minutes_stale_a_day() -> None:
    settings = Settings()
    assert (settings.reference_fresh_s, settings.reference_stale_s) == (300, 86_400)
    built = _reference(settings, oslo_now)
    assert (built.fresh_s, built.stale_s, built.max_entries) == (300, 86_400, 50_000)


@pytest.mark.parametrize(
    "values",
    [
        {"reference_fresh_s": 600, "reference_stale_s": 300},  # stale bound before fresh ends
        {"reference_fresh_s": 0},
        {"reference_stale_s": 8 * 86_400},
        {"reference_max_entries": 0},
        {"reference_max_mb": 0},
    ],
)
def test_out_of_bounds_is_refused(values: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate(values)


def test_the_stale_bound_may_equal_the_fresh_lifetime() -> None:
    settings = Settings.model_validate({"reference_fresh_s": 60, "reference_stale_s": 60})
    assert settings.reference_stale_s == 60  # never served stale, never refused


def test_caching_off_keeps_no_reference_copy() -> None:
    built = _reference(Settings.model_validate({"cache": False}), oslo_now)
    built.keep("EHR", "Practitioner", "pr1", "Anne")
    assert built.fresh("EHR", "Practitioner", "pr1") is None
    assert built.stale("EHR", "Practitioner", "pr1") is None
