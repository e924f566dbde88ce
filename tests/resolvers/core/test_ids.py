import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.core.errors import BadUserInput
from resolvers.core.ids import IdCodec, decode, encode

NIN = "26878118862"


def test_person_ids_are_stable_opaque_and_secret_dependent() -> None:
    codec = IdCodec(b"secret-one")
    first = codec.person_id(NIN)
    assert first == IdCodec(b"secret-one").person_id(NIN)
    assert first != IdCodec(b"secret-two").person_id(NIN)
    type_name, source, key = decode(first)
    assert (type_name, source) == ("Person", "gw")
    assert NIN not in first
    assert NIN not in key


def test_entity_ids_round_trip() -> None:
    assert decode(encode("Appointment", "m5001", "ap123:x")) == ("Appointment", "m5001", "ap123:x")


@pytest.mark.parametrize(
    "bad",
    ["", "!!!", "Zm9v", "a" * 600, "UGVyc29uOmd3Og"],
    ids=["empty", "not-base64", "no-separators", "too-long", "empty-key"],
)
def test_malformed_ids_are_bad_user_input(bad: str) -> None:
    with pytest.raises(BadUserInput, match="not a valid helsegraf id"):
        decode(bad)


@given(st.text(max_size=80))
def test_decode_never_crashes(value: str) -> None:
    with contextlib.suppress(BadUserInput):
        decode(value)


@given(st.text(max_size=80))
def test_cursor_parsing_never_crashes(value: str) -> None:
    from resolvers.core.common import offset_after

    with contextlib.suppress(BadUserInput):
        offset_after(value)


@given(st.integers(min_value=0, max_value=10**9))
def test_cursors_round_trip(offset: int) -> None:
    from resolvers.core.common import cursor_for, offset_after

    assert offset_after(cursor_for(offset)) == offset + 1
