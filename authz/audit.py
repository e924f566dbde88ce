"""The audit trail's records and hash chain: pure, synchronous, no I/O.

Each record carries `seq` (1-based, gapless), the hash of the record before it
(`prev_hash`, `GENESIS` for the first) and its own `hash`, the SHA-256 of a
canonical JSON form of its entry, `seq` and `prev_hash`. Changing, reordering,
inserting or removing a record therefore breaks the chain from that record on.

What the chain alone cannot show: records removed from the *end* (the remaining
prefix is itself a valid chain). A checkpoint of the head `(seq, hash)` kept
elsewhere closes that gap: pass it to `verify(..., expected_head=...)`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

GENESIS = "0" * 64

ACTOR_KINDS = frozenset({"citizen", "partner", "analyst"})
BASES = frozenset({"SELF", "PARENT", "PROXY", "YOUTH", "PARTNER", "ANALYST"})
ACTIONS = frozenset({"read", "write"})
OUTCOMES = frozenset({"success", "denied", "failed"})

# Bump when the canonical form changes; it is part of every hash.
CANONICAL_VERSION = 1


def _one_of(name: str, value: str, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise ValueError(f"audit entry: {name} {value!r} is not one of {sorted(allowed)}")
    return str(value)  # a StrEnum member becomes its plain value


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One access to one subject's data, as the gateway asks to record it.

    `actor` and `subject` are national ids (or a client id for clients): they are
    stored, but never shown by `repr`.
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

    def __repr__(self) -> str:
        return (
            f"AuditEntry(at={self.at.isoformat()!r}, request_id={self.request_id!r}, "
            f"actor='***', actor_kind={self.actor_kind!r}, basis={self.basis!r}, "
            f"subject='***', categories={self.categories!r}, "
            f"resources=<{len(self.resources)}>, action={self.action!r}, "
            f"outcome={self.outcome!r}, client_id={self.client_id!r})"
        )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An entry as stored: its place in the chain and the hashes that bind it there."""

    entry: AuditEntry
    seq: int
    prev_hash: str
    hash: str

    def __repr__(self) -> str:
        return (
            f"AuditRecord(seq={self.seq}, prev_hash={self.prev_hash[:12]!r}..., "
            f"hash={self.hash[:12]!r}..., entry={self.entry!r})"
        )


def format_time(at: dt.datetime) -> str:
    """`at` in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the form the hash covers."""
    # isoformat writes this form (with "+00:00" for the "Z") at a fraction of strftime's cost
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def canonical(entry: AuditEntry, seq: int, prev_hash: str) -> bytes:
    """The exact bytes hashed for a record: sorted-key compact UTF-8 JSON."""
    document = {
        "v": CANONICAL_VERSION,
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
    # orjson writes exactly what `json.dumps(document, sort_keys=True, separators=(",",
    # ":"), ensure_ascii=False)` encoded as UTF-8 writes (held by a property test), faster.
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def chain_hash(entry: AuditEntry, seq: int, prev_hash: str) -> str:
    """Hex SHA-256 of `canonical(entry, seq, prev_hash)`."""
    return hashlib.sha256(canonical(entry, seq, prev_hash)).hexdigest()


def seal(entries: Sequence[AuditEntry], last_seq: int, last_hash: str) -> list[AuditRecord]:
    """`entries` chained after the record `(last_seq, last_hash)`; `(0, GENESIS)` when empty."""
    records: list[AuditRecord] = []
    seq, prev = last_seq, last_hash
    for entry in entries:
        seq += 1
        digest = chain_hash(entry, seq, prev)
        records.append(AuditRecord(entry=entry, seq=seq, prev_hash=prev, hash=digest))
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
        if record.hash != chain_hash(record.entry, record.seq, record.prev_hash):
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
