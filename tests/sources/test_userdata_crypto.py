"""The note cipher: AES-GCM bound to subject and note, keys derived from the secret."""

from __future__ import annotations

import pytest

from sources.userdata.crypto import NoteCipher, Unreadable

SECRET = b"k" * 32


def test_a_sealed_note_opens_only_for_its_subject_and_note() -> None:
    cipher = NoteCipher(SECRET)
    sealed = cipher.seal("anne", "pn01", b"Hemmelig")
    assert cipher.open("anne", "pn01", sealed) == b"Hemmelig"
    assert b"Hemmelig" not in sealed
    for subject, note in (("bo", "pn01"), ("anne", "pn02"), ("anne\x00pn", "01")):
        with pytest.raises(Unreadable):
            cipher.open(subject, note, sealed)


def test_every_seal_uses_a_fresh_nonce() -> None:
    cipher = NoteCipher(SECRET)
    assert cipher.seal("anne", "pn01", b"x") != cipher.seal("anne", "pn01", b"x")


@pytest.mark.parametrize("position", [0, 1, 13, -1])
def test_a_changed_byte_does_not_open(position: int) -> None:
    cipher = NoteCipher(SECRET)
    sealed = bytearray(cipher.seal("anne", "pn01", b"tekst"))
    sealed[position] ^= 0x01
    with pytest.raises(Unreadable):
        cipher.open("anne", "pn01", bytes(sealed))
    with pytest.raises(Unreadable):
        cipher.open("anne", "pn01", b"\x01short")


def test_another_secret_neither_opens_nor_fingerprints_alike() -> None:
    one, other = NoteCipher(SECRET), NoteCipher(b"m" * 32)
    with pytest.raises(Unreadable):
        other.open("anne", "pn01", one.seal("anne", "pn01", b"tekst"))
    assert one.fingerprint("anne", b"x") != other.fingerprint("anne", b"x")
    assert one.fingerprint("anne", b"x") != one.fingerprint("bo", b"x")
    assert one.fingerprint("anne", b"x") == NoteCipher(SECRET).fingerprint("anne", b"x")


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        NoteCipher(b"short")
