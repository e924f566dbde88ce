"""Search requests: parse query parameters into a `Query`, then filter and order.

Parameters AND together, comma-separated values OR together. Unknown parameters are
ignored, unless the client sent `Prefer: handling=strict`, which turns them into a 400.
Malformed values are always a 400 naming the parameter, never echoing the value.
Paging is stateless: the `_page` token in a `next` link encodes the offset and a digest
of the other parameters, so a token only works with the query it was issued for.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from mocks.fhir.dates import parse_date_search
from mocks.fhir.model import Indexed
from mocks.fhir.outcome import FhirError, invalid, safe_name
from mocks.fhir.params import CONTROL, DEFAULT_COUNT, MAX_COUNT, PAGE_PARAM, TYPES, TypeDef

Test = Callable[[Indexed], bool]
_ELEMENT = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_SUMMARIES = {"count", "false", "true", "text", "data"}
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One filtering parameter occurrence."""

    name: str
    values: tuple[str, ...]
    test: Test
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Include:
    """One `_include`: follow `param` of the matches to resources of `targets`."""

    param: str
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search."""

    type: TypeDef
    criteria: tuple[Criterion, ...]
    params: tuple[tuple[str, str], ...]  # as sent, minus the page token: for links
    count: int = DEFAULT_COUNT
    offset: int = 0
    sort: tuple[tuple[str, bool], ...] = ()  # (parameter, descending)
    includes: tuple[Include, ...] = ()
    summary_count: bool = False
    elements: frozenset[str] | None = None

    def values_of(self, *names: str) -> list[tuple[str, ...]]:
        """Values of each non-negated occurrence of the named parameters."""
        return [c.values for c in self.criteria if c.name in names and not c.negated]


def parse_query(type_: TypeDef, pairs: Sequence[tuple[str, str]], *, strict: bool) -> Query:
    """Parse search parameters; raises FhirError for malformed or (strictly) unknown ones."""
    if not type_.searchable:
        raise FhirError(400, "not-supported", f"Searching {type_.name} is not supported")
    pairs = [(k, v) for k, v in pairs if v != ""]
    kept = tuple((k, v) for k, v in pairs if k != PAGE_PARAM)
    query = Query(type_, (), kept)
    criteria: list[Criterion] = []
    for key, raw in pairs:
        name, _, modifier = key.partition(":")
        if name == PAGE_PARAM:
            query = replace(query, offset=_decode_page(raw, kept))
        elif name in CONTROL:
            query = _control(query, name, raw, strict=strict)
        elif (param := type_.param(name)) is not None:
            criteria.append(_criterion(param.kind, key, name, modifier, raw))
        elif strict:
            raise FhirError(
                400,
                "not-supported",
                f"Unknown search parameter '{safe_name(key)}' for {type_.name}",
            )
    return replace(query, criteria=tuple(criteria))


def _control(query: Query, name: str, raw: str, *, strict: bool) -> Query:
    if name == "_count":
        if not (raw.isascii() and raw.isdigit()):
            raise invalid(name, "expected a whole number of 0 or more")
        return replace(query, count=min(int(raw), MAX_COUNT))
    if name == "_summary":
        if raw not in _SUMMARIES:
            raise invalid(name, "expected count, true, text, data or false")
        return replace(query, summary_count=raw == "count")
    if name == "_sort":
        return replace(query, sort=tuple(_sort_key(query.type, key) for key in raw.split(",")))
    if name == "_elements":
        names = [n.strip() for n in raw.split(",")]
        if not all(_ELEMENT.fullmatch(n) for n in names):
            raise invalid(name, "expected a comma list of element names")
        return replace(query, elements=frozenset(names))
    if name == "_include":
        new = [i for i in _include(query.type, raw, strict=strict) if i not in query.includes]
        return replace(query, includes=(*query.includes, *new))
    if name == "_format" and "xml" in raw.lower():
        raise FhirError(406, "not-supported", "Only JSON (application/fhir+json) is supported")
    if name == "_total" and raw not in ("none", "estimate", "accurate"):
        raise invalid(name, "expected none, estimate or accurate")
    return query


def _sort_key(type_: TypeDef, key: str) -> tuple[str, bool]:
    name = key.strip().removeprefix("-")
    if name != "_id" and name not in type_.sorts:
        allowed = ", ".join(("_id", *type_.sorts))
        raise invalid("_sort", f"{type_.name} can be sorted by {allowed} (prefix - for descending)")
    return name, key.strip().startswith("-")


def _include(type_: TypeDef, raw: str, *, strict: bool) -> tuple[Include, ...]:
    parts = raw.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise invalid(
            "_include", "expected SourceType:parameter or SourceType:parameter:TargetType"
        )
    source, param = parts[0], parts[1]
    if source == type_.name and param == "*":
        return tuple(Include(p, t) for p, t in type_.includes.items())
    if source == type_.name and param in type_.includes:
        targets = (parts[2],) if len(parts) == 3 else type_.includes[param]
        return (Include(param, targets),)
    if strict:
        raise FhirError(400, "not-supported", f"_include of '{safe_name(raw)}' is not supported")
    return ()


def _criterion(kind: str, key: str, name: str, modifier: str, raw: str) -> Criterion:
    values = tuple(v.strip() for v in raw.split(","))
    if kind == "date":
        if modifier:
            raise invalid(key, "date parameters take no modifier")
        return Criterion(name, values, _date_test(key, name, values))
    if kind == "reference":
        if modifier and modifier not in TYPES:
            raise invalid(key, "the only modifiers are resource types, e.g. subject:Patient")
        wanted = [_reference(v, modifier or None) for v in values]
        shown = tuple(f"{t}/{i}" if t else i for t, i in wanted)
        return Criterion(name, shown, _reference_test(name, wanted))
    if modifier not in ("", "not"):
        raise invalid(key, "the only token modifier supported is :not")
    if name == "patient-read" and not set(values) <= {"true", "false"}:
        raise invalid(key, "expected true or false")
    test = _id_test(frozenset(values)) if name == "_id" else _token_test(name, values)
    if modifier == "not":
        return Criterion(name, values, lambda r: not test(r), negated=True)
    return Criterion(name, values, test)


def _date_test(key: str, name: str, values: Iterable[str]) -> Test:
    searched = [parse_date_search(key, v) for v in values]

    def test(resource: Indexed) -> bool:
        span = resource.dates.get(name)
        return span is not None and any(prefix(s, span) for prefix, s in searched)

    return test


def _reference_test(name: str, wanted: Sequence[tuple[str | None, str]]) -> Test:
    def test(resource: Indexed) -> bool:
        return any(_ref_matches(ref, wanted) for ref in resource.refs.get(name, ()))

    return test


def _id_test(ids: frozenset[str]) -> Test:
    return lambda resource: resource.id in ids


def _token_test(name: str, values: Iterable[str]) -> Test:
    wanted = [_token(v) for v in values]

    def test(resource: Indexed) -> bool:
        return any(_token_matches(t, wanted) for t in resource.tokens.get(name, ()))

    return test


def _reference(value: str, type_: str | None) -> tuple[str | None, str]:
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return type_, value


def _ref_matches(ref: str, wanted: Iterable[tuple[str | None, str]]) -> bool:
    type_, _, id_ = ref.partition("/")
    return any(id_ == w_id and (w_type is None or w_type == type_) for w_type, w_id in wanted)


def _token(value: str) -> tuple[str | None, str | None]:
    """(system, code): system None = any system, "" = no system; code None = any code."""
    if "|" not in value:
        return None, value
    system, _, code = value.partition("|")
    return system, code or None


def _token_matches(
    token: tuple[str | None, str], wanted: Iterable[tuple[str | None, str | None]]
) -> bool:
    system, code = token
    return any(
        (w_code is None or w_code == code) and (w_system is None or w_system == (system or ""))
        for w_system, w_code in wanted
    )


def patient_refs(values: Iterable[str]) -> set[str]:
    """Patient ids named by reference values (`Patient/{id}`, a bare id, or a full url)."""
    out = set()
    for value in values:
        type_, id_ = _reference(value, "Patient")
        if type_ == "Patient":
            out.add(id_)
    return out


def select(candidates: Iterable[Indexed], query: Query) -> list[Indexed]:
    """The candidates every criterion accepts, in the requested (else natural) order."""
    found = [r for r in candidates if all(c.test(r) for c in query.criteria)]
    for name, descending in reversed(query.sort):
        if name == "_id":
            found.sort(key=lambda r: r.id, reverse=descending)
        else:
            found.sort(key=lambda r: _when(r, name), reverse=descending)
    return found


def _when(resource: Indexed, name: str) -> dt.datetime:
    span = resource.dates.get(name)
    return _NEVER if span is None else span.lo


def page_token(params: Sequence[tuple[str, str]], offset: int) -> str:
    """The opaque `_page` value for the page starting at `offset` of this query."""
    raw = f"{offset}.{_digest(params)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page(token: str, params: Sequence[tuple[str, str]]) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        offset, digest = raw.split(".")
        if digest == _digest(params) and offset.isascii() and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise invalid(
        PAGE_PARAM, "the page token does not belong to this search; follow the next link as given"
    )


def _digest(params: Sequence[tuple[str, str]]) -> str:
    return hashlib.sha256(urlencode(sorted(params)).encode()).hexdigest()[:16]
