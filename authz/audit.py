"""The audit trail's records and hash chain: pure, synchronous, no I/O.

Each record carries `seq` (1-based, gapless), the hash of the record before it
(`prev_hash`, `GENESIS` for the first) and its own `hash`, the SHA-256 of a
canonical JSON form of its entry, `seq` and `prev_hash`. Changing, reordering,
inserting or removing a record therefore breaks the chain from that record on.

What the chain alone cannot show: records removed from the *end* (the remaining
prefix is itself a valid chain). A checkpoint of the head `(seq, hash)` kept
elsewhere closes that gap: pass it to `verify(..., expected_head=...)`.

Versions of the canonical form. Every record stores the version it was hashed in, and
`verify` checks each record in its own version, so a trail written before an upgrade
(version 1) and continued after it verifies as one chain:

- 1: the fields up to `client_id`.
- 2: also `reason` (why an access was denied), `acr` (the caller's login level) and
  `operation` (a hash of what the caller asked: `sha256:<hex>` of a GraphQL document,
  or a fixed label such as `GET /documents/{id}` for an endpoint without a document).

Subjects. `subject` is the national id of the person whose data was reached, or tried.
A refusal about someone the viewer has no relation to knows that person only by the
opaque person key the id carried (see `resolvers/core/ids.py`): it is recorded as
`key:<person key>` (an auditor holding the id secret can find the person by hashing
candidate national ids), never as a national id guessed or looked up for the record.
An attempt whose id named no person at all (malformed) records `NO_SUBJECT`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from authz.codes import is_reason_code

GENESIS = "0" * 64

ACTOR_KINDS = frozenset({"citizen", "partner", "analyst"})
# NONE: a refused attempt on no basis at all (a stranger's id, a forged id).
BASES = frozenset({"SELF", "PARENT", "PROXY", "YOUTH", "PARTNER", "ANALYST", "NONE"})
ACTIONS = frozenset({"read", "write"})
OUTCOMES = frozenset({"success", "denied", "failed"})

# Bump when the canonical form changes; it is part of every hash. Records keep the
# version they were written in; `VERSIONS` are those `verify` still reads.
CANONICAL_VERSION = 2
VERSIONS = frozenset({1, 2})

NO_SUBJECT = "none"  # the refused id named no person
NO_BASIS = "NONE"  # the basis of a refused attempt on someone the viewer has no basis for
_KEY_PREFIX = "key:"
_SHORT = 256  # acr and operation labels: short, printable


def key_subject(person_key: str) -> str:
    """The subject of a record about a person known only by the key in an id."""
    return _KEY_PREFIX + person_key


def _one_of(name: str, value: str, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise ValueError(f"audit entry: {name} {value!r} is not one of {sorted(allowed)}")
    return str(value)  # a StrEnum member becomes its plain value


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One access to one subject's data, as the gateway asks to record it.

    `actor` and `subject` are national ids (or a client id for clients; for `subject`
    see the module text): they are stored, but never shown by `repr`. `reason` is a
    code (`authz.refusals`, or the policy's), on denied entries only; `acr` and
    `operation` say how the caller logged in and what it asked (version 2 of the
    canonical form).
    """

    at: dt.datetime
    request_id: str
    actor: str
    actor_kind: str
    basis: str
    subject: str
    categories: tuple[str, ...]
    resources: tuple[str, ...]
    action: str
    outcome: str
    client_id: str | None
    reason: str | None = None
    acr: str | None = None
    operation: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("audit entry: `at` must be timezone-aware")
        if not self.actor or not self.subject or not self.request_id:
            raise ValueError("audit entry: request_id, actor and subject must not be empty")
        setattr_ = object.__setattr__  # frozen: normalise once, here
        setattr_(self, "at", self.at.astimezone(dt.UTC))
        setattr_(self, "categories", tuple(str(c) for c in self.categories))
        setattr_(self, "resources", tuple(str(r) for r in self.resources))
        setattr_(self, "actor_kind", _one_of("actor_kind", self.actor_kind, ACTOR_KINDS))
        setattr_(self, "basis", _one_of("basis", self.basis, BASES))
        setattr_(self, "action", _one_of("action", self.action, ACTIONS))
        setattr_(self, "outcome", _one_of("outcome", self.outcome, OUTCOMES))
        if self.reason is not None and (
            self.outcome != "denied" or not is_reason_code(self.reason)
        ):
            raise ValueError(
                "audit entry: reason must be a code of up to 64 letters, digits and _.:-, "
                "on denied entries only"
            )
        for name in ("acr", "operation"):
            value = getattr(self, name)
            if value is not None and not (0 < len(value) <= _SHORT and value.isprintable()):
                raise ValueError(f"audit entry: {name} must be 1-{_SHORT} printable characters")

    def __repr__(self) -> str:
        return (
            f"AuditEntry(at={self.at.isoformat()!r}, request_id={self.request_id!r}, "
            f"actor='***', actor_kind={self.actor_kind!r}, basis={self.basis!r}, "
            f"subject='***', categories={self.categories!r}, "
            f"resources=<{len(self.resources)}>, action={self.action!r}, "
            f"outcome={self.outcome!r}, client_id={self.client_id!r}, "
            f"reason={self.reason!r}, acr={self.acr!r}, operation={self.operation!r})"
        )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An entry as stored: its place in the chain, the hashes that bind it there, and the
    version of the canonical form its hash was computed in."""

    entry: AuditEntry
    seq: int
    prev_hash: str
    hash: str
    version: int = CANONICAL_VERSION

    def __repr__(self) -> str:
        return (
            f"AuditRecord(seq={self.seq}, v={self.version}, "
            f"prev_hash={self.prev_hash[:12]!r}..., "
            f"hash={self.hash[:12]!r}..., entry={self.entry!r})"
        )


def format_time(at: dt.datetime) -> str:
    """`at` in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the form the hash covers."""
    # isoformat writes this form (with "+00:00" for the "Z") at a fraction of strftime's cost
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def fits(entry: AuditEntry, version: int) -> bool:
    """True when version `version` of the canonical form covers every field `entry` sets
    (a version 1 record cannot hold a reason, login level or operation)."""
    if version == 1:
        return entry.reason is None and entry.acr is None and entry.operation is None
    return version in VERSIONS


def canonical(
    entry: AuditEntry, seq: int, prev_hash: str, version: int = CANONICAL_VERSION
) -> bytes:
    """The exact bytes hashed for a record in `version`: sorted-key compact UTF-8 JSON.
    ValueError for an unknown version, or an entry that version cannot hold."""
    if not fits(entry, version):
        raise ValueError(f"audit record: version {version} cannot hold this entry")
    document: dict[str, object] = {
        "v": version,
        "seq": seq,
        "prev_hash": prev_hash,
        "at": format_time(entry.at),
        "request_id": entry.request_id,
        "actor": entry.actor,
        "actor_kind": entry.actor_kind,
        "basis": entry.basis,
        "subject": entry.subject,
        "categories": list(entry.categories),
        "resources": list(entry.resources),
        "action": entry.action,
        "outcome": entry.outcome,
        "client_id": entry.client_id,
    }
    if version >= 2:
        document |= {"reason": entry.reason, "acr": entry.acr, "operation": entry.operation}
    # orjson writes exactly what `json.dumps(document, sort_keys=True, separators=(",",
    # ":"), ensure_ascii=False)` encoded as UTF-8 writes (held by a property test), faster.
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def chain_hash(
    entry: AuditEntry, seq: int, prev_hash: str, version: int = CANONICAL_VERSION
) -> str:
    """Hex SHA-256 of `canonical(entry, seq, prev_hash, version)`."""
    return hashlib.sha256(canonical(entry, seq, prev_hash, version)).hexdigest()


def seal(
    entries: Sequence[AuditEntry],
    last_seq: int,
    last_hash: str,
    version: int = CANONICAL_VERSION,
) -> list[AuditRecord]:
    """`entries` chained after the record `(last_seq, last_hash)`; `(0, GENESIS)` when empty.
    New records are written in the current version; `version` exists for tests that
    build older trails."""
    records: list[AuditRecord] = []
    seq, prev = last_seq, last_hash
    for entry in entries:
        seq += 1
        digest = chain_hash(entry, seq, prev, version)
        records.append(AuditRecord(entry, seq, prev, digest, version))
        prev = digest
    return records


@dataclass(frozen=True)
class Verification:
    """The outcome of `verify`: `first_broken_seq` names the first record that fails."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None


class ChainVerifier:
    """`verify`, fed one record at a time, for records that arrive asynchronously."""

    def __init__(self, expected_head: tuple[int, str] | None = None) -> None:
        if expected_head is not None and (
            expected_head[0] < 0 or (expected_head[0] == 0 and expected_head[1] != GENESIS)
        ):
            raise ValueError("expected_head: seq must be >= 0, and record 0 is GENESIS")
        self._head = expected_head
        self.checked = 0
        self._last_seq, self._last_hash = 0, GENESIS

    def _broken(self, seq: int, reason: str) -> Verification:
        return Verification(False, self.checked, seq, reason)

    def add(self, record: AuditRecord) -> Verification | None:
        """The failure `record` reveals, or None while the chain holds."""
        expected_seq = self._last_seq + 1
        if record.seq != expected_seq:
            problem = "missing or out of order" if record.seq > expected_seq else "duplicated"
            return self._broken(
                expected_seq,
                f"expected record {expected_seq}, found record {record.seq} ({problem})",
            )
        if record.version not in VERSIONS:
            return self._broken(record.seq, f"unknown version {record.version} (record altered)")
        if not fits(record.entry, record.version) or record.hash != chain_hash(
            record.entry, record.seq, record.prev_hash, record.version
        ):
            return self._broken(record.seq, "content does not match its hash (record altered)")
        if record.prev_hash != self._last_hash:
            return self._broken(
                record.seq,
                f"prev_hash does not match the hash of record {self._last_seq} (chain broken)",
            )
        if self._head is not None and self._head[0] == record.seq and self._head[1] != record.hash:
            return self._broken(record.seq, "hash differs from the checkpoint (trail rewritten)")
        self.checked += 1
        self._last_seq, self._last_hash = record.seq, record.hash
        return None

    def finish(self) -> Verification:
        """The verdict once every record has been added without failure."""
        if self._head is not None and self._last_seq < self._head[0]:
            return self._broken(
                self._last_seq + 1,
                f"trail ends at record {self._last_seq} but the checkpoint is at record "
                f"{self._head[0]} (records removed from the end)",
            )
        return Verification(True, self.checked)


def verify(
    records: Iterable[AuditRecord], *, expected_head: tuple[int, str] | None = None
) -> Verification:
    """Check a whole trail, in seq order, in one pass without holding it in memory.

    Detects altered content or hashes, broken links, gaps and reordering. A tail
    removed from the end is only detected against `expected_head`, a checkpoint
    `(seq, hash)` taken earlier: the trail must reach that seq with that hash.
    """
    verifier = ChainVerifier(expected_head)
    for record in records:
        failure = verifier.add(record)
        if failure is not None:
            return failure
    return verifier.finish()
