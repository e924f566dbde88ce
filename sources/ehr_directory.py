"""The EHR's directory for one request: practitioners and locations by id.

Loaded in batches by id (or taken from the Practitioners and Locations a search
`_include`d), through the process's reference cache (`sources.reference_cache`): a fresh
copy is not asked for again, and an older one stands in, marked stale, while the EHR
fails. Reference data only: nothing here is about a person.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiodataloader import DataLoader

from sources import fhir
from sources.coalescer import loader_options
from sources.models import Location, Practitioner
from sources.reference_cache import Copy, ReferenceCache, stands_in_for

SOURCE = "EHR"
R = TypeVar("R")
log = logging.getLogger(__name__)


class Directory:
    """Practitioners and locations for one request: `practitioners.load(id)` and
    `locations.load(id)` answer a `Copy` (or None when the EHR has no such record)."""

    def __init__(
        self, read: Callable[[str, list[str]], Awaitable[Any]], reference: ReferenceCache
    ) -> None:
        """`read(kind, ids)` searches the EHR for those records (a searchset Bundle)."""
        self._read = read
        self._reference = reference
        self.practitioners: DataLoader[str, Copy[Practitioner] | None] = DataLoader(
            self._load_practitioners, **loader_options()
        )
        self.locations: DataLoader[str, Copy[Location] | None] = DataLoader(
            self._load_locations, **loader_options()
        )

    async def _load_practitioners(self, ids: list[str]) -> list[Any]:
        return await self._load("Practitioner", ids, fhir.practitioner)

    async def _load_locations(self, ids: list[str]) -> list[Any]:
        return await self._load("Location", ids, fhir.location)

    async def _load(
        self, kind: str, ids: list[str], parse: Callable[[dict[str, Any]], R]
    ) -> list[Copy[R] | Exception | None]:
        """`kind` records by id: fresh copies from the reference cache, the rest in one
        search. The answer replaces the copies (one it lacks no longer exists); when the
        search fails, each id with a copy within the stale bound gets it, marked stale,
        and the others the error."""
        reference = self._reference
        out: dict[str, Copy[R] | Exception | None] = {}
        for ident in ids:
            copy = reference.fresh(SOURCE, kind, ident)
            if copy is not None:
                out[ident] = copy
        wanted = sorted(set(ids) - set(out))
        if wanted:
            try:
                bundle = await self._read(kind, wanted)
                found = {
                    r.get("id"): r
                    for r in fhir.bundle_resources(bundle)
                    if r.get("resourceType") == kind
                }
            except Exception as exc:
                if not stands_in_for(exc):
                    raise
                for ident in wanted:
                    out[ident] = reference.stale(SOURCE, kind, ident) or exc
                served = sum(1 for i in wanted if not isinstance(out[i], Exception))
                log.warning(  # counts and codes only: no id, no name
                    "EHR %s read failed (%s): %d of %d served from older copies",
                    kind,
                    getattr(exc, "code", type(exc).__name__),
                    served,
                    len(wanted),
                )
            else:
                for ident in wanted:
                    if ident in found:
                        out[ident] = reference.keep(SOURCE, kind, ident, parse(found[ident]))
                    else:
                        reference.forget(SOURCE, kind, ident)
                        out[ident] = None
        return [out[i] for i in ids]

    def prime_included(self, bundle: dict[str, Any]) -> None:
        """Included Practitioners and Locations answer this request's loaders: a fresh
        copy the process holds stands (a search answered from the subject cache carries
        records as they were when it was kept), else the included record is kept as one."""
        reference = self._reference
        for resource in fhir.bundle_resources(bundle, mode="include"):
            kind = resource.get("resourceType")
            if kind == "Practitioner":
                loader: DataLoader[str, Any] = self.practitioners
                parse: Callable[[dict[str, Any]], Any] = fhir.practitioner
            elif kind == "Location":
                loader, parse = self.locations, fhir.location
            else:
                continue
            ident = resource["id"]
            copy = reference.fresh(SOURCE, kind, ident) or reference.keep(
                SOURCE, kind, ident, parse(resource)
            )
            loader.prime(ident, copy)
