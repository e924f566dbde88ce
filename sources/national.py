"""The national-portal client of one GraphQL request: registry facts, powers of attorney,
e-prescriptions, vaccinations, regular GPs and critical information."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader

from authz.facts import PersonFacts, PowerOfAttorney
from sources.coalescer import loader_options
from sources.errors import UpstreamBadResponse
from sources.models import CriticalEntry, MedicationEntry, RegularGp, VaccinationEntry
from sources.national_entries import (
    SOURCE,
    critical,
    facts,
    gp,
    power,
    prescription,
    vaccination,
)
from sources.ownership import own_items
from sources.registry_reads import (
    PERSONS,
    POWERS,
    REGISTRY_PATHS,
    RegistryReads,
    about,
    reads_of,
)
from sources.rest import RestBatcher
from sources.subject_cache import About, RequestCache
from sources.upstream import Upstream

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """One cell of vaccination statistics, exact (suppression is the gateway's job)."""

    municipality: str
    age_band: str
    vaccine: str
    vaccinated: int
    population: int


def _parsed(entry: Any, parse: Callable[[dict[str, Any]], T]) -> T | Exception | None:
    """An entry parsed; None (no such person) and a failure to fetch it passed on (the
    loader fails that person's load only)."""
    if entry is None or isinstance(entry, Exception):
        return entry
    return parse(entry)


def _person(nin: str) -> About:
    return About(nin, (nin,))


class NationalClient:
    """Reads from the national portal for one GraphQL request, batched per level."""

    def __init__(self, upstream: Upstream, cache: RequestCache | None = None) -> None:
        """`cache` keeps registry entries and searches per person across requests
        (`sources.subject_cache`)."""
        self._rest = RestBatcher(upstream, cache, fresh=REGISTRY_PATHS)
        self._basis: set[str] = set()
        # registry entries are read fresh by every request (sources/registry_reads.py)
        self._person_entries = self._per_person(None, PERSONS, "persons", "person")
        self._gp_entries = self._per_person(cache, "/gp/_search", "gps", "gp listing")
        self.persons: DataLoader[str, PersonFacts | None] = DataLoader(
            self._load_persons, max_batch_size=100, **loader_options()
        )
        self.gps: DataLoader[str, RegularGp | None] = DataLoader(
            self._load_gps, max_batch_size=100, **loader_options()
        )

    def _per_person(
        self, cache: RequestCache | None, path: str, listed: str, kind: str
    ) -> Callable[[Sequence[str]], Awaitable[Sequence[Any]]]:
        """One entry per national id from a search by `nins` (None when there is none),
        each cached under its own person."""

        async def search(nins: Sequence[str]) -> list[Any]:
            asked = set(nins)
            result = await self._rest.post(path, {"nins": sorted(asked)})
            items = result.get(listed, [])
            if not isinstance(items, list):
                raise UpstreamBadResponse(SOURCE, listed, f"no {listed} list")
            try:
                found = {i["nin"]: i for i in own_items(items, asked, source=SOURCE, kind=kind)}
            except (KeyError, TypeError) as exc:
                raise UpstreamBadResponse(SOURCE, listed, f"malformed {kind}") from exc
            return [found.get(n) for n in nins]

        return search if cache is None else cache.through(f"{SOURCE} {listed}", _person, search)

    # An Exception among a batch's values fails that key's load alone (aiodataloader's
    # contract, which its types do not spell out).
    async def _load_persons(self, nins: list[str]) -> list[PersonFacts | None]:
        entries = await self._person_entries(nins)
        try:
            return cast(list[PersonFacts | None], [_parsed(e, facts) for e in entries])
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(SOURCE, "persons", "malformed person") from exc

    async def _load_gps(self, nins: list[str]) -> list[RegularGp | None]:
        entries = await self._gp_entries(nins)
        try:
            return cast(list[RegularGp | None], [_parsed(e, gp) for e in entries])
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(SOURCE, "gp", "malformed gp listing") from exc

    async def critical_information(self, nin: str) -> list[CriticalEntry]:
        """Allergies, implants and conditions registered in the core journal."""
        items = await self._rest.post_all(
            "/critical-information/_search", {"nin": nin}, "criticalInformation"
        )
        items = own_items(items, {nin}, source=SOURCE, kind="critical information")
        try:
            return [critical(i) for i in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(SOURCE, "critical-information", "malformed entry") from exc

    def rests_on(self, nins: Iterable[str]) -> None:
        """This request's access decisions rest on these people's registry facts (their
        entries, and the powers of attorney they hold): `registry_reads` names the reads."""
        self._basis.update(nins)

    def registry_reads(self) -> RegistryReads | None:
        """The registry reads this request's access decisions rested on (see `rests_on`);
        None when they rested on none (the viewer's own view, 16 or older)."""
        return reads_of(about(self._rest.fresh_reads, self._basis))

    async def powers_held_by(self, nin: str) -> list[PowerOfAttorney]:
        """Powers of attorney where `nin` is the holder (read fresh, never cached)."""
        items = await self._rest.post_all(POWERS, {"holderNin": nin}, "powersOfAttorney")
        items = own_items(items, {nin}, source=SOURCE, kind="power of attorney", key="holderNin")
        try:
            return [power(p) for p in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(SOURCE, "powers-of-attorney", "malformed entry") from exc

    async def prescriptions(self, nin: str) -> list[MedicationEntry]:
        """E-prescriptions, active and ended (the item rules decide which are shown)."""
        items = await self._rest.post_all("/prescriptions/_search", {"nin": nin}, "prescriptions")
        items = own_items(items, {nin}, source=SOURCE, kind="prescription")
        try:
            return [prescription(p) for p in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(SOURCE, "prescriptions", "malformed entry") from exc

    async def vaccinations(self, nin: str) -> list[VaccinationEntry]:
        """Vaccinations in the national registry."""
        items = await self._rest.post_all("/vaccinations/_search", {"nin": nin}, "vaccinations")
        items = own_items(items, {nin}, source=SOURCE, kind="vaccination")
        try:
            return [vaccination(v) for v in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(SOURCE, "vaccinations", "malformed entry") from exc

    async def vaccination_coverage(
        self, municipality: str | None, vaccine: str | None
    ) -> list[CoverageRow]:
        """Exact vaccination counts by municipality, age band and vaccine (aggregates)."""
        body = {k: v for k, v in (("municipality", municipality), ("vaccine", vaccine)) if v}
        result = await self._rest.post("/statistics/vaccination-coverage/_search", body)
        try:
            return [
                CoverageRow(
                    r["municipality"],
                    r["ageBand"],
                    r["vaccine"],
                    int(r["vaccinated"]),
                    int(r["population"]),
                )
                for r in result["rows"]
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(SOURCE, "statistics", "malformed row") from exc
