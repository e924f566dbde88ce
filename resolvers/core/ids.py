"""Opaque global ids: `type + source + upstream id`, never a national identity number.

A person's id is a keyed hash of their national id, so it is stable across replicas and
requests and cannot be reversed; the gateway recognises it by hashing the national ids
the viewer may act for.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re

from authz.audit import NO_SUBJECT, key_subject
from resolvers.core.errors import BadUserInput

PERSON = "Person"
# What `IdCodec.person_key` writes: 15 bytes in URL-safe base64.
_PERSON_KEY = re.compile(r"[A-Za-z0-9_-]{20}")
MAX_NAMED = 200  # characters of an item named in a record
_ELEVEN_DIGITS = re.compile(r"\d{11}")  # never record what may be a national id


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


def entity_parts(global_id: str) -> tuple[str, str, str, str] | None:
    """(type, source, person key, upstream id) of an entity id as the graph writes them
    (`{Type}:{source}:{person key}.{upstream id}`); None for anything else (a person's id,
    a malformed or foreign one)."""
    try:
        type_name, source, key = decode(global_id)
    except BadUserInput:
        return None
    person_key, dot, upstream_id = key.partition(".")
    if type_name == PERSON or not dot or not person_key or not upstream_id:
        return None
    return type_name, source, person_key, upstream_id


def key_subject_of(person_key: str) -> str:
    """The audit subject for a person known only by the key an id carried: `key:<key>`
    when it has the form `IdCodec.person_key` writes, else `NO_SUBJECT` (the text of a
    forged id is the caller's own and is never put on the record)."""
    if _PERSON_KEY.fullmatch(person_key) and not _ELEVEN_DIGITS.search(person_key):
        return key_subject(person_key)
    return NO_SUBJECT


def asked_for(parts: tuple[str, str, str, str]) -> str | None:
    """How a refused record names the item an id asked for, `source/Type/upstream id`;
    None when that text could hold anything but an id (too long, unprintable, an
    11-digit run): a forged id's text is the caller's own, never put on the record as is."""
    type_name, source, _, upstream_id = parts
    named = f"{source}/{type_name}/{upstream_id}"
    if len(named) > MAX_NAMED or not named.isprintable() or _ELEVEN_DIGITS.search(named):
        return None
    return named
