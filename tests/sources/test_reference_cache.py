"""The reference cache on its own, on an injected clock: two lifetimes, bounds, and only
reference data."""

from __future__ import annotations

import datetime as dt

import pytest

from authz.facts import Address
from sources.errors import (
    UpstreamBadResponse,
    UpstreamCircuitOpen,
    UpstreamError,
    UpstreamNotFound,
    UpstreamSaturated,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sources.models import Location, Practitioner
from sources.reference_cache import ReferenceCache, stands_in_for

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
ANNE = Practitioner(id="pr1", name="Anne Aas", role="Lege")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def cache(clock: Clock, *, max_entries: int = 100, max_bytes: int = 1_000_000) -> ReferenceCache:
    return ReferenceCache(
        fresh_s=300, stale_s=3600, max_entries=max_entries, max_bytes=max_bytes, clock=clock
    )


def test_a_copy_is_fresh_then_stale_then_gone() -> None:
    clock = Clock()
    kept = cache(clock)
    copy = kept.keep("EHR", "Practitioner", "pr1", ANNE)
    assert (copy.value, copy.as_of, copy.stale) == (ANNE, T0, False)
    clock.advance(299)
    fresh = kept.fresh("EHR", "Practitioner", "pr1")
    assert fresh is not None
    assert (fresh.value, fresh.as_of, fresh.stale) == (ANNE, T0, False)
    clock.advance(1)  # the fresh lifetime is over: ask the upstream
    assert kept.fresh("EHR", "Practitioner", "pr1") is None
    standing_in = kept.stale("EHR", "Practitioner", "pr1")
    assert standing_in is not None
    assert (standing_in.value, standing_in.as_of, standing_in.stale) == (ANNE, T0, True)
    clock.advance(3600 - 300)  # the stale bound is over: the error, as without a cache
    assert kept.stale("EHR", "Practitioner", "pr1") is None
    assert kept.fresh("EHR", "Practitioner", "pr1") is None
    assert len(kept) == 0


def test_a_fresh_answer_replaces_the_copy() -> None:
    clock = Clock()
    kept = cache(clock)
    kept.keep("EHR", "Practitioner", "pr1", ANNE)
    clock.advance(400)
    renamed = Practitioner(id="pr1", name="Anne Aas Berg", role="Lege")
    kept.keep("EHR", "Practitioner", "pr1", renamed)
    fresh = kept.fresh("EHR", "Practitioner", "pr1")
    assert fresh is not None
    assert (fresh.value, fresh.as_of) == (renamed, T0 + dt.timedelta(seconds=400))
    clock.advance(3500)  # past the first copy's stale bound, within the new one's
    stale = kept.stale("EHR", "Practitioner", "pr1")
    assert stale is not None
    assert stale.value == renamed


def test_forget_drops_a_copy_the_upstream_no_longer_has() -> None:
    clock = Clock()
    kept = cache(clock)
    kept.keep("EHR", "Location", "loc1", Location(id="loc1", name="St. Olavs"))
    kept.forget("EHR", "Location", "loc1")
    clock.advance(400)
    assert kept.stale("EHR", "Location", "loc1") is None


def test_copies_are_keyed_by_source_kind_and_id() -> None:
    kept = cache(Clock())
    kept.keep("EHR", "Practitioner", "x1", ANNE)
    assert kept.fresh("EHR", "Location", "x1") is None
    assert kept.fresh("OTHER", "Practitioner", "x1") is None
    assert kept.fresh("EHR", "Practitioner", "x2") is None


@pytest.mark.parametrize("kind", ["Patient", "Appointment", "Communication", "Observation", ""])
def test_only_reference_data_is_kept(kind: str) -> None:
    kept = cache(Clock())
    with pytest.raises(ValueError, match="not reference data"):
        kept.keep("EHR", kind, "e1", ANNE)
    with pytest.raises(ValueError, match="not reference data"):
        kept.fresh("EHR", kind, "e1")
    with pytest.raises(ValueError, match="not reference data"):
        kept.stale("EHR", kind, "e1")
    assert len(kept) == 0


def test_bounded_in_entries_least_recently_used_go_first() -> None:
    kept = cache(Clock(), max_entries=3)
    for n in range(3):
        kept.keep("EHR", "Practitioner", f"pr{n}", ANNE)
    assert kept.fresh("EHR", "Practitioner", "pr0") is not None  # used: pr1 is now oldest
    kept.keep("EHR", "Practitioner", "pr3", ANNE)
    assert len(kept) == 3
    assert kept.fresh("EHR", "Practitioner", "pr1") is None
    assert all(kept.fresh("EHR", "Practitioner", f"pr{n}") for n in (0, 2, 3))


def test_bounded_in_bytes() -> None:
    kept = cache(Clock(), max_entries=10_000, max_bytes=20_000)
    place = Location(id="loc", name="x" * 500, address=Address("Gate 1", "7030", "Trondheim"))
    for n in range(200):
        kept.keep("EHR", "Location", f"loc{n}", place)
    assert 0 < kept.bytes_used <= 20_000
    assert len(kept) < 200
    assert kept.fresh("EHR", "Location", "loc199") is not None  # the newest stay


def test_one_huge_record_is_not_kept_but_still_stamped() -> None:
    kept = cache(Clock(), max_bytes=8_000)
    for n in range(5):
        kept.keep("EHR", "Location", f"loc{n}", Location(id=f"loc{n}", name="small"))
    huge = kept.keep("EHR", "Location", "big", Location(id="big", name="x" * 5_000))
    assert huge.as_of == T0
    assert kept.fresh("EHR", "Location", "big") is None
    assert len(kept) == 5  # nothing evicted for it


def test_off_keeps_nothing() -> None:
    clock = Clock()
    kept = ReferenceCache.off(clock)
    copy = kept.keep("EHR", "Practitioner", "pr1", ANNE)
    assert copy.as_of == T0
    assert kept.fresh("EHR", "Practitioner", "pr1") is None
    assert kept.stale("EHR", "Practitioner", "pr1") is None


@pytest.mark.parametrize(
    ("fresh_s", "stale_s"), [(0, 10), (10, 5), (-1, 10)], ids=["no-fresh", "bound-short", "neg"]
)
def test_lifetimes_are_checked(fresh_s: float, stale_s: float) -> None:
    with pytest.raises(ValueError, match="stale bound"):
        ReferenceCache(fresh_s=fresh_s, stale_s=stale_s, max_entries=1, max_bytes=1)


@pytest.mark.parametrize(
    ("error", "stands_in"),
    [
        (UpstreamUnavailable("EHR", "search"), True),
        (UpstreamTimeout("EHR", "search"), True),
        (UpstreamCircuitOpen("EHR", "search"), True),
        (UpstreamSaturated("EHR", "search"), True),
        (UpstreamBadResponse("EHR", "search"), True),
        (UpstreamError("EHR", "search"), True),
        (UpstreamNotFound("EHR", "search"), False),  # an answer: it does not exist
        (KeyError("id"), False),  # a bug, not an outage
    ],
)
def test_which_failures_an_older_copy_may_stand_in_for(
    error: BaseException, stands_in: bool
) -> None:
    assert stands_in_for(error) is stands_in
