"""Private notes encrypted at rest: AES-256-GCM with a key derived (HKDF-SHA256) from the
deployment secret, bound to the subject and the note by the associated data.

A sealed value is `b"\\x01" + nonce(12) + ciphertext-and-tag`. The associated data is the
subject key and the note id, so a row copied to another person (or to another note id)
fails to open instead of showing someone else's note.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_FORMAT = b"\x01"
_NONCE = 12
_SALT = b"helsegraf/userdata/v1"


class Unreadable(Exception):
    """A sealed value that does not open with this key for this subject and note."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=_SALT, info=purpose).derive(secret)


def _associated(subject: str, note_id: str) -> bytes:
    return b"helsegraf-note\x00" + subject.encode() + b"\x00" + note_id.encode()


class NoteCipher:
    """Seals and opens note content; also keys the fingerprints of idempotent requests."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the user-data key must be at least 16 bytes")
        self._aead = AESGCM(_derive(secret, b"private-note/aes-256-gcm"))
        self._mac_key = _derive(secret, b"private-note/request-fingerprint")

    def seal(self, subject: str, note_id: str, plaintext: bytes) -> bytes:
        """Encrypt `plaintext` for this subject's note `note_id` (a fresh random nonce)."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext, _associated(subject, note_id))
        return _FORMAT + nonce + sealed

    def open(self, subject: str, note_id: str, sealed: bytes) -> bytes:
        """The plaintext; `Unreadable` for another key, subject, note id or a changed byte."""
        if len(sealed) < 1 + _NONCE + 16 or sealed[:1] != _FORMAT:
            raise Unreadable("unknown format")
        nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
        try:
            return self._aead.decrypt(nonce, body, _associated(subject, note_id))
        except InvalidTag:
            raise Unreadable("authentication failed") from None

    def fingerprint(self, subject: str, payload: bytes) -> str:
        """A keyed digest of a request (no dictionary attack on short notes without the key)."""
        mac = hmac.new(self._mac_key, subject.encode() + b"\x00" + payload, hashlib.sha256)
        return mac.hexdigest()
