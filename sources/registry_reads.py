"""The registry facts a request's access decisions rested on, and checking them again.

Whom a viewer may act for, and on what basis, follows from registry facts: the people's
entries (parental responsibility, addresses, protection, death, youth consent) and the
powers of attorney the viewer holds. They change without anyone telling the gateway, so
they are read fresh by every request (never from the raw upstream cache), and a cached
answer that rested on them is served again only once the same reads, asked again in one
round trip, still give the same answers (`still_hold`): a power revoked or a parental
responsibility ended shows on the next request in every replica, notified or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from sources.errors import UpstreamError
from sources.rest import PageKey, RestBatcher
from sources.upstream import Upstream

PERSONS = "/persons/_search"
POWERS = "/powers-of-attorney/_search"
REGISTRY_PATHS = frozenset({PERSONS, POWERS})


@dataclass(frozen=True, slots=True)
class RegistryReads:
    """Which registry reads an answer rested on, and a digest of what they said."""

    keys: tuple[PageKey, ...]
    digest: str

    def __repr__(self) -> str:  # the keys name people
        return f"RegistryReads(<{len(self.keys)} reads>, digest={self.digest[:12]!r})"

    def encode(self) -> dict[str, Any]:
        """A JSON-ready form, to keep beside a cached answer."""
        return {"k": [[path, body.decode()] for path, body in self.keys], "d": self.digest}

    @classmethod
    def decode(cls, stored: Mapping[str, Any]) -> RegistryReads:
        """The inverse of `encode`."""
        keys = tuple((str(path), str(body).encode()) for path, body in stored["k"])
        return cls(keys, str(stored["d"]))


def digest(answers: Mapping[PageKey, Any]) -> str:
    """A digest of reads and their answers, independent of their order."""
    canonical = orjson.dumps(
        [[path, body.decode(), answers[(path, body)]] for path, body in sorted(answers)],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


def about(answers: Mapping[PageKey, Any], nins: Collection[str]) -> dict[PageKey, Any]:
    """The reads among `answers` that name any of `nins`: an entry search asking for one
    of them, or a search of the powers one of them holds. A read of any other kind is
    kept whoever it names (fail closed: it is checked again rather than trusted)."""
    wanted = set(nins)
    out = {}
    for (path, body), answer in answers.items():
        asked = orjson.loads(body)
        if path == PERSONS:
            named = asked.get("nins", [])
        elif path == POWERS:
            named = [asked.get("holderNin")]
        else:
            out[(path, body)] = answer
            continue
        if wanted.intersection(named):
            out[(path, body)] = answer
    return out


def reads_of(answers: Mapping[PageKey, Any]) -> RegistryReads | None:
    """What a request read from the registry; None when it read nothing there."""
    if not answers:
        return None
    return RegistryReads(tuple(sorted(answers)), digest(answers))


async def still_hold(upstream: Upstream, reads: RegistryReads) -> bool:
    """True when every read, asked again now, answers exactly as before; False when any
    answer changed or the registry could not be asked (fail closed: the caller computes
    a fresh answer instead)."""
    try:
        answers = await RestBatcher(upstream).read_many(reads.keys)
    except UpstreamError:
        return False
    if any(isinstance(answer, BaseException) for answer in answers):
        return False
    return digest(dict(zip(reads.keys, answers, strict=True))) == reads.digest
