"""The shared directory of places: every mock municipality has its own, and adding a
municipality moves no place of the others (their residents' records draw from them)."""

from __future__ import annotations

import pytest

import mocks.catalogue
from mocks.catalogue import Catalogue
from mocks.registry import MUNICIPALITIES

SEED = 20261123


def test_every_municipality_has_gp_offices_and_health_stations_of_its_own() -> None:
    catalogue = Catalogue(SEED)
    for municipality in MUNICIPALITIES:
        for kind in ("gp", "municipal"):
            own = [
                loc for loc in catalogue.locations_of_kind(kind) if loc.city == municipality.name
            ]
            assert own, f"{municipality.name} has no {kind} location"
            assert all(municipality.name in loc.name for loc in own)
    assert len({loc.id for loc in catalogue.locations}) == len(catalogue.locations)


def test_a_municipality_added_after_the_first_three_moves_none_of_their_places(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Records choose among their city's places, so another city's share of the same
    locations would change the first three municipalities' residents' records, personas'
    included."""
    assert len(MUNICIPALITIES) > 3
    everything = Catalogue(SEED).locations
    monkeypatch.setattr(mocks.catalogue, "MUNICIPALITIES", MUNICIPALITIES[:3])
    before = Catalogue(SEED).locations
    added = {m.name for m in MUNICIPALITIES[3:]}
    assert [loc for loc in everything if loc.city not in added] == before
