"""The FHIR interactions themselves (read, search, create, capabilities), free of HTTP.

Both the Starlette routes and the entries of a batch call into one `FhirService`, so a
request answers the same whichever way it arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import mocks.fhir.writers  # noqa: F401  (registers the write checkers)
from mocks.fhir.bundles import searchset
from mocks.fhir.capability import capability_statement
from mocks.fhir.model import Indexed, Resource
from mocks.fhir.outcome import FhirError, unsupported_type
from mocks.fhir.params import TYPES, TypeDef
from mocks.fhir.repository import Repository
from mocks.fhir.search import parse_query, select
from mocks.fhir.writes import Written, create, update
from mocks.records import RecordStore


class FhirService:
    """Reads and searches over one record store."""

    def __init__(self, store: RecordStore) -> None:
        self.repo = Repository(store)
        self.store = store
        self.today = store.population.today

    def metadata(self, base: str) -> Resource:
        """The CapabilityStatement."""
        return capability_statement(base, self.today)

    def read(self, type_: str, id_: str) -> Resource:
        """The resource `type_/id_`; 404 for unknown types and ids."""
        return self.repo.read(_type(type_).name, id_).resource

    def create(self, type_: str, data: Any, *, if_none_exist: str | None = None) -> Written:
        """Create a resource (conditionally when `if_none_exist` is given); FhirError naming
        the element if invalid."""
        return create(
            self.repo, _type(type_).name, data, self.store.now(), if_none_exist=if_none_exist
        )

    def update(self, type_: str, id_: str, data: Any, *, if_match: str | None) -> Indexed:
        """Store a new version of `type_/id_`; FhirError when invalid or out of date."""
        return update(self.repo, _type(type_).name, id_, data, self.store.now(), if_match=if_match)

    def relative(self, url: str, *, base: str) -> list[str]:
        """The path segments of a url relative to this server."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            if not url.startswith(base):
                raise FhirError(400, "not-supported", "Absolute urls must point to this server")
            parts = urlsplit(url[len(base) :])
        return [s for s in parts.path.split("/") if s]

    def search(
        self, type_: str, pairs: Sequence[tuple[str, str]], *, base: str, strict: bool
    ) -> Resource:
        """A searchset page for `type_` and the query parameters `pairs`."""
        query = parse_query(_type(type_), pairs, strict=strict)
        matches = select(self.repo.candidates(query), query)
        return searchset(query, matches, self.repo, base)

    def get(self, url: str, *, base: str, strict: bool) -> Resource:
        """Answer a relative GET url (`Patient/x`, `Appointment?patient=x`, `metadata`)."""
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            if not url.startswith(base):
                raise FhirError(400, "not-supported", "Absolute urls must point to this server")
            parts = urlsplit(url[len(base) :])
        segments = self.relative(url, base=base)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if segments == ["metadata"]:
            return self.metadata(base)
        if len(segments) == 1 or (len(segments) == 2 and segments[1] == "_search"):
            return self.search(segments[0], pairs, base=base, strict=strict)
        if len(segments) == 2:
            return self.read(segments[0], segments[1])
        raise FhirError(400, "not-supported", "Expected Type, Type/id or Type?params")


def _type(name: str) -> TypeDef:
    found = TYPES.get(name)
    if found is None:
        raise unsupported_type(name)
    return found
