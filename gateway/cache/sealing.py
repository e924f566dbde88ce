"""Keys and values as Redis may see them: keyed hashes and authenticated ciphertext.

A logical key (`"resp|<principal>|<operation>|..."`, which may contain a national id) is
never stored: Redis sees `HMAC-SHA256(key secret, logical key)`. A value is sealed with
AES-256-GCM under a key derived (HKDF) from the deployment secret, with the hashed key as
associated data, so a value copied to another key fails to open and counts as a miss.
"""

from __future__ import annotations

import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class Sealer:
    """Hashes keys and seals values with keys derived from one deployment secret."""

    def __init__(self, secret: bytes) -> None:
        self._key_secret = _derive(secret, b"helsegraf cache key v1")
        self._aead = AESGCM(_derive(secret, b"helsegraf cache value v1"))

    def key(self, logical: str) -> str:
        """The stored name of a logical key (hex; reveals nothing of it)."""
        return hmac.digest(self._key_secret, logical.encode(), "sha256").hex()

    def seal(self, stored_key: str, value: bytes) -> bytes:
        """`value` encrypted and bound to `stored_key`."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, value, stored_key.encode())

    def open(self, stored_key: str, sealed: bytes) -> bytes | None:
        """The value sealed for `stored_key`; None when it was not (tampered, moved, short)."""
        if len(sealed) <= NONCE_BYTES:
            return None
        try:
            return self._aead.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], stored_key.encode()
            )
        except InvalidTag:
            return None
