"""The audit chain: sealing, verification and every way of tampering with it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.audit import (
    CANONICAL_VERSION,
    GENESIS,
    NO_SUBJECT,
    AuditEntry,
    AuditRecord,
    canonical,
    chain_hash,
    format_time,
    key_subject,
    seal,
    verify,
)

ACTOR = "01010012345"
SUBJECT = "02020054321"
AT = dt.datetime(2026, 11, 23, 9, 30, 0, 123456, tzinfo=dt.UTC)


def entry(n: int = 0, /, **changes: object) -> AuditEntry:
    base = AuditEntry(
        at=AT + dt.timedelta(seconds=n),
        request_id=f"req-{n}",
        actor=ACTOR,
        actor_kind="citizen",
        basis="PARENT",
        subject=SUBJECT,
        categories=("observations",),
        resources=(f"EHR/Observation/{n}",),
        action="read",
        outcome="success",
        client_id=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def chain(n: int = 5) -> list[AuditRecord]:
    return seal([entry(i) for i in range(n)], 0, GENESIS)


def test_seal_numbers_from_one_and_links_each_record_to_the_previous() -> None:
    records = chain(3)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == GENESIS
    assert records[1].prev_hash == records[0].hash
    assert records[2].prev_hash == records[1].hash
    assert all(r.hash == chain_hash(r.entry, r.seq, r.prev_hash) for r in records)
    assert verify(records).ok
    assert verify(records).checked == 3


def test_seal_continues_an_existing_chain() -> None:
    first = chain(2)
    more = seal([entry(7)], first[-1].seq, first[-1].hash)
    assert more[0].seq == 3
    assert verify([*first, *more]).ok


def test_empty_trail_is_intact() -> None:
    assert verify([]) == verify([], expected_head=(0, GENESIS))
    assert verify([]).ok
    assert verify([]).checked == 0


def test_canonical_form_is_sorted_compact_utc_with_microseconds() -> None:
    oslo = dt.timezone(dt.timedelta(hours=1))
    local = entry(at=dt.datetime(2026, 11, 23, 10, 30, 0, 123456, tzinfo=oslo))
    data = canonical(local, 1, GENESIS)
    document = json.loads(data)
    assert document["at"] == "2026-11-23T09:30:00.123456Z"
    assert list(document) == sorted(document)
    assert b" " not in data
    assert canonical(local, 1, GENESIS) == canonical(entry(), 1, GENESIS)


texts = st.text(max_size=40)


@given(
    request_id=texts.filter(bool),
    actor=texts.filter(bool),
    subject=texts.filter(bool),
    categories=st.lists(texts, max_size=4),
    resources=st.lists(texts, max_size=4),
    client_id=st.none() | texts,
    seq=st.integers(min_value=1, max_value=2**62),
)
def test_canonical_bytes_are_those_of_the_documented_json_form(
    request_id: str,
    actor: str,
    subject: str,
    categories: list[str],
    resources: list[str],
    client_id: str | None,
    seq: int,
) -> None:
    """Trails written before and after the encoder changed hash the same bytes: sorted
    keys, compact separators, UTF-8 without ASCII escaping, as `json.dumps` writes them."""
    item = entry(
        request_id=request_id,
        actor=actor,
        subject=subject,
        categories=tuple(categories),
        resources=tuple(resources),
        client_id=client_id,
    )
    document = json.loads(canonical(item, seq, GENESIS))
    reference = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(item, seq, GENESIS) == reference.encode("utf-8")
    assert document["subject"] == subject
    assert document["categories"] == categories


@given(
    st.datetimes(
        min_value=dt.datetime(1970, 1, 2),
        max_value=dt.datetime(9998, 12, 30),
        timezones=st.timezones(),
    )
)
def test_hashed_times_are_utc_with_microseconds_and_z(at: dt.datetime) -> None:
    """The time form every hash covers, `%Y-%m-%dT%H:%M:%S.%fZ` in UTC, whatever writes it."""
    assert format_time(at) == at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        entry(at=dt.datetime(2026, 11, 23, 9, 30))


@pytest.mark.parametrize(
    ("field", "value"),
    [("basis", "NEIGHBOUR"), ("action", "delete"), ("outcome", "maybe"), ("actor_kind", "bot")],
)
def test_unknown_vocabulary_is_refused_without_naming_people(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field) as raised:
        entry(**{field: value})
    assert ACTOR not in str(raised.value)
    assert SUBJECT not in str(raised.value)


def test_repr_never_shows_national_ids() -> None:
    record = chain(1)[0]
    for text in (repr(record.entry), repr(record), str(record)):
        assert ACTOR not in text
        assert SUBJECT not in text
        assert "***" in text


def _tampered(records: list[AuditRecord], index: int, **changes: object) -> list[AuditRecord]:
    out = list(records)
    out[index] = dataclasses.replace(out[index], **changes)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize(
    ("tamper", "broken_seq", "reason"),
    [
        pytest.param(
            lambda r: _tampered(r, 2, entry=dataclasses.replace(r[2].entry, outcome="denied")),
            3,
            "altered",
            id="altered-field",
        ),
        pytest.param(
            lambda r: _tampered(r, 2, entry=dataclasses.replace(r[2].entry, subject="x")),
            3,
            "altered",
            id="altered-subject",
        ),
        pytest.param(lambda r: _tampered(r, 1, hash="f" * 64), 2, "altered", id="altered-hash"),
        pytest.param(lambda r: [r[0], r[2], r[1], r[3], r[4]], 2, "out of order", id="swapped"),
        pytest.param(lambda r: [r[0], r[1], r[3], r[4]], 3, "missing", id="removed-middle"),
        pytest.param(lambda r: [r[0], r[1], r[1], r[2]], 3, "duplicated", id="duplicated"),
        pytest.param(lambda r: r[1:], 1, "missing", id="removed-first"),
        pytest.param(
            # a rewritten record with a freshly computed hash still breaks the next link
            lambda r: _tampered(
                r,
                1,
                entry=dataclasses.replace(r[1].entry, outcome="denied"),
                hash=chain_hash(
                    dataclasses.replace(r[1].entry, outcome="denied"), 2, r[1].prev_hash
                ),
            ),
            3,
            "chain broken",
            id="rehashed-record",
        ),
    ],
)
def test_verify_names_the_first_broken_record(tamper: object, broken_seq: int, reason: str) -> None:
    assert callable(tamper)
    result = verify(tamper(chain(5)))
    assert not result.ok
    assert result.first_broken_seq == broken_seq
    assert result.reason is not None
    assert reason in result.reason
    assert result.checked == broken_seq - 1


def test_a_truncated_tail_is_invisible_to_the_chain_alone() -> None:
    records = chain(5)
    assert verify(records[:3]).ok  # documented limitation: a prefix is a valid chain


def test_a_truncated_tail_is_caught_by_a_checkpoint() -> None:
    records = chain(5)
    head = (records[-1].seq, records[-1].hash)
    assert verify(records, expected_head=head).ok
    result = verify(records[:3], expected_head=head)
    assert not result.ok
    assert result.first_broken_seq == 4
    assert result.reason is not None
    assert "removed from the end" in result.reason


def test_a_checkpoint_may_be_older_than_the_head() -> None:
    records = chain(5)
    assert verify(records, expected_head=(2, records[1].hash)).ok


def test_a_rewritten_trail_does_not_match_the_checkpoint() -> None:
    records = chain(5)
    rewritten = seal([entry(i, outcome="denied") for i in range(5)], 0, GENESIS)
    result = verify(rewritten, expected_head=(5, records[-1].hash))
    assert not result.ok
    assert result.first_broken_seq == 5
    assert result.reason is not None
    assert "checkpoint" in result.reason


def test_verify_streams_from_a_generator() -> None:
    records = chain(4)
    assert verify(r for r in records).checked == 4


_text = st.text(min_size=1, max_size=20)
_entries = st.builds(
    AuditEntry,
    at=st.datetimes(timezones=st.timezones()),
    request_id=_text,
    actor=_text,
    actor_kind=st.sampled_from(["citizen", "partner", "analyst"]),
    basis=st.sampled_from(["SELF", "PARENT", "PROXY", "YOUTH", "PARTNER", "ANALYST"]),
    subject=_text,
    categories=st.lists(_text, max_size=4).map(tuple),
    resources=st.lists(_text, max_size=4).map(tuple),
    action=st.sampled_from(["read", "write"]),
    outcome=st.sampled_from(["success", "denied", "failed"]),
    client_id=st.none() | _text,
)


@given(st.lists(_entries, max_size=20), st.integers(min_value=1, max_value=20))
def test_any_entries_seal_into_a_verifiable_chain(entries: list[AuditEntry], split: int) -> None:
    first = seal(entries[:split], 0, GENESIS)
    last_seq, last_hash = (first[-1].seq, first[-1].hash) if first else (0, GENESIS)
    records = first + seal(entries[split:], last_seq, last_hash)
    result = verify(records, expected_head=(len(records), records[-1].hash) if records else None)
    assert result.ok
    assert result.checked == len(entries)
    assert len({r.hash for r in records}) == len(records)


# -- versions of the canonical form -------------------------------------------------------

V1_FIRST_HASH = "9b66dddb3e56594626799d1d7a9686e7741f918bcffeadc99ce6ef17d634793f"


def v1_entry() -> AuditEntry:
    return entry(1, request_id="req-1", resources=("EHR/Observation/1",), at=AT)


def test_version_1_records_hash_exactly_as_they_were_written() -> None:
    """The hash of a record written by the version 1 gateway (computed then, kept here)."""
    [record] = seal([v1_entry()], 0, GENESIS, version=1)
    assert record.version == 1
    assert record.hash == V1_FIRST_HASH
    assert json.loads(canonical(v1_entry(), 1, GENESIS, 1))["v"] == 1
    assert "reason" not in json.loads(canonical(v1_entry(), 1, GENESIS, 1))


def test_new_records_are_version_2_and_cover_reason_login_level_and_operation() -> None:
    denied = entry(
        1, outcome="denied", reason="NO_RELATION", acr="idporten-loa-high", operation="sha256:ab"
    )
    [record] = seal([denied], 0, GENESIS)
    assert record.version == CANONICAL_VERSION == 2
    document = json.loads(canonical(denied, 1, GENESIS))
    assert document["v"] == 2
    assert (document["reason"], document["acr"], document["operation"]) == (
        "NO_RELATION",
        "idporten-loa-high",
        "sha256:ab",
    )
    for change in ({"reason": "MANDATE_EXPIRED"}, {"acr": "low"}, {"operation": "sha256:cd"}):
        altered = dataclasses.replace(record, entry=dataclasses.replace(denied, **change))  # type: ignore[arg-type]
        result = verify([altered])
        assert not result.ok
        assert result.reason is not None
        assert "altered" in result.reason


def test_a_version_1_trail_continued_in_version_2_verifies_as_one_chain() -> None:
    old = seal([entry(n) for n in range(3)], 0, GENESIS, version=1)
    new = seal(
        [entry(n, acr="idporten-loa-high", operation="sha256:ab") for n in range(3, 6)],
        old[-1].seq,
        old[-1].hash,
    )
    assert [r.version for r in old + new] == [1, 1, 1, 2, 2, 2]
    result = verify(old + new, expected_head=(6, new[-1].hash))
    assert result.ok
    assert result.checked == 6


def test_a_version_2_record_relabelled_version_1_is_caught() -> None:
    """Lowering a record's version cannot hide a field the old form does not cover."""
    [record] = seal([entry(1, acr="idporten-loa-high")], 0, GENESIS)
    downgraded = dataclasses.replace(record, version=1)
    result = verify([downgraded])
    assert not result.ok
    assert result.first_broken_seq == 1
    assert result.reason is not None
    assert "altered" in result.reason
    unknown = verify([dataclasses.replace(record, version=9)])
    assert not unknown.ok
    assert unknown.reason is not None
    assert "version 9" in unknown.reason


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"outcome": "success", "reason": "NO_RELATION"}, id="reason-on-success"),
        pytest.param({"outcome": "denied", "reason": "no relation"}, id="reason-not-a-code"),
        pytest.param({"acr": ""}, id="empty-acr"),
        pytest.param({"operation": "x" * 300}, id="long-operation"),
        pytest.param({"operation": "line\nbreak"}, id="unprintable-operation"),
    ],
)
def test_reasons_login_levels_and_operations_are_checked(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="audit entry") as raised:
        entry(**changes)
    assert SUBJECT not in str(raised.value)


def test_a_person_known_only_by_an_id_key_is_recorded_by_that_key() -> None:
    assert key_subject("AbC-123_x") == "key:AbC-123_x"
    assert entry(subject=key_subject("AbC"), basis="NONE", outcome="denied", reason="X").subject
    assert NO_SUBJECT == "none"


@given(
    st.lists(_entries, max_size=12),
    st.integers(min_value=0, max_value=12),
    st.none() | st.text(min_size=1, max_size=30).filter(str.isprintable),
)
def test_any_mix_of_versions_seals_into_a_verifiable_chain(
    entries: list[AuditEntry], split: int, acr: str | None
) -> None:
    old = seal(entries[:split], 0, GENESIS, version=1)
    last_seq, last_hash = (old[-1].seq, old[-1].hash) if old else (0, GENESIS)
    newer = [dataclasses.replace(e, acr=acr) for e in entries[split:]]
    records = old + seal(newer, last_seq, last_hash)
    assert verify(records).ok
