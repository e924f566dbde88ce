"""Writes: create (`POST /{type}`) and update (`PUT /{type}/{id}`), one checker per type.

Each writable type registers a `Creator` (check a client's resource and build the
stored `Indexed`) and, where the server allows changes, an `Updater` (check a new
version against the current one). Modules under `mocks/fhir/writers/` register
themselves on import.

Common rules, as a FHIR server applies them:

- a create may be conditional (`If-None-Exist: identifier=system|value`): when the
  patient's compartment already holds a resource of that type with the identifier,
  that one is returned with 200 and nothing is created (a retried write never makes
  a second resource);
- an update needs `If-Match: W/"{versionId}"` of the current version (412 otherwise,
  428 when missing), keeps the id, and bumps `meta.versionId`;
- created and updated resources live in memory for the life of the server and are
  found by read and search like the projected ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from mocks.fhir.model import Indexed, Resource, instant, patient_of
from mocks.fhir.outcome import FhirError, safe_name
from mocks.fhir.params import TYPES
from mocks.fhir.repository import Repository

MAX_CREATED = 100_000

Creator = Callable[[Repository, dict[str, Any], dt.datetime], Indexed]
Updater = Callable[[Repository, Indexed, dict[str, Any], dt.datetime], Indexed]

CREATORS: dict[str, Creator] = {}
UPDATERS: dict[str, Updater] = {}


def creator(type_: str) -> Callable[[Creator], Creator]:
    """Register the create checker of `type_`."""

    def register(fn: Creator) -> Creator:
        CREATORS[type_] = fn
        return fn

    return register


def updater(type_: str) -> Callable[[Updater], Updater]:
    """Register the update checker of `type_`."""

    def register(fn: Updater) -> Updater:
        UPDATERS[type_] = fn
        return fn

    return register


@dataclass(frozen=True, slots=True)
class Written:
    """The outcome of a write: the stored resource and whether it is new."""

    indexed: Indexed
    created: bool


def create(
    repo: Repository,
    type_: str,
    data: Any,
    now: dt.datetime,
    *,
    if_none_exist: str | None = None,
) -> Written:
    """Check and store a new resource of `type_`; FhirError naming the element if invalid."""
    check = CREATORS.get(type_)
    if check is None or not TYPES[type_].creatable:
        raise FhirError(405, "not-supported", f"Creating {safe_name(type_)} is not supported")
    if not isinstance(data, dict) or data.get("resourceType") != type_:
        raise FhirError(400, "invalid", f"The body must be a {safe_name(type_)} resource")
    if repo.created_count >= MAX_CREATED:
        raise FhirError(507, "too-costly", "The server holds no more created resources")
    indexed = check(repo, data, now)
    patient_id = patient_of(indexed.id)
    if if_none_exist is not None:
        existing = _existing(repo, type_, patient_id, if_none_exist)
        if existing is not None:
            return Written(existing, created=False)
    repo.add_created(patient_id, indexed)
    return Written(indexed, created=True)


def update(
    repo: Repository,
    type_: str,
    id_: str,
    data: Any,
    now: dt.datetime,
    *,
    if_match: str | None,
) -> Indexed:
    """Replace `type_/id_` with a new version; FhirError when not allowed or out of date."""
    check = UPDATERS.get(type_)
    if check is None:
        raise FhirError(405, "not-supported", f"Updating {safe_name(type_)} is not supported")
    if not isinstance(data, dict) or data.get("resourceType") != type_ or data.get("id") != id_:
        raise FhirError(400, "invalid", f"The body must be the {safe_name(type_)} with this id")
    current = repo.read(type_, id_)
    version = str(current.resource.get("meta", {}).get("versionId", "1"))
    if if_match is None:
        raise FhirError(428, "required", "An update needs If-Match with the current version")
    if if_match.strip() not in (f'W/"{version}"', f'"{version}"'):
        raise FhirError(412, "conflict", "The resource has changed since that version")
    new = check(repo, current, data, now)
    meta = dict(new.resource.get("meta", {}))
    meta.update({"versionId": str(int(version) + 1), "lastUpdated": instant(now)})
    stored = Indexed({**new.resource, "id": id_, "meta": meta}, new.dates, new.tokens, new.refs)
    repo.replace(stored)
    return stored


def _existing(repo: Repository, type_: str, patient_id: str, condition: str) -> Indexed | None:
    name, _, value = condition.partition("=")
    system, _, code = value.rpartition("|")
    if name.strip() != "identifier" or not code:
        raise FhirError(400, "invalid", "If-None-Exist supports identifier=system|value only")
    person = repo.store.population.by_fhir_id(patient_id)
    if person is None:
        return None
    for resource in repo.compartment(type_, person.nin):
        held = resource.resource.get("identifier", [])
        for identifier in [held] if isinstance(held, dict) else held:  # 0..1 in some types
            if identifier.get("value") == code and (
                not system or identifier.get("system") == system
            ):
                return resource
    return None


def stamped(resource: Resource, now: dt.datetime) -> Resource:
    """`resource` with version 1 meta (keeping any security labels it carries)."""
    meta = {**resource.get("meta", {}), "versionId": "1", "lastUpdated": instant(now)}
    return {**resource, "meta": meta}


def parse_body(body: bytes) -> Any:
    """The JSON of a write request; 400 when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FhirError(400, "structure", "The request body is not valid JSON") from None
