"""Opaque global ids: `type + source + upstream id`, never a national identity number.

A person's id is a keyed hash of their national id, so it is stable across replicas and
requests and cannot be reversed; the gateway recognises it by hashing the national ids
the viewer may act for.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from gateway.errors import BadUserInput

PERSON = "Person"


class IdCodec:
    """Encodes and decodes global ids with the deployment's secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def person_key(self, nin: str) -> str:
        """The non-reversible key that stands for a person in ids."""
        digest = hmac.digest(self._secret, nin.encode(), "sha256")[:15]
        return base64.urlsafe_b64encode(digest).decode()

    def person_id(self, nin: str) -> str:
        """The global id of a person."""
        return encode(PERSON, "gw", self.person_key(nin))


def encode(type_name: str, source: str, key: str) -> str:
    """A global id for an entity of `type_name` from `source` with upstream id `key`."""
    raw = f"{type_name}:{source}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(global_id: str) -> tuple[str, str, str]:
    """(type, source, key) of a global id; BadUserInput when it is not one of ours."""
    if not global_id or len(global_id) > 512:
        raise BadUserInput("The id is not a valid helsegraf id.", argument="id")
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput("The id is not a valid helsegraf id.", argument="id") from None
    parts = raw.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise BadUserInput("The id is not a valid helsegraf id.", argument="id")
    return parts[0], parts[1], parts[2]
