"""Raw upstream answers, kept per subject and shared by every request of the process (and
every replica, through Redis), so that a portal's next screen does not ask again for what
the last one read.

What is kept is what an upstream said, keyed by the read that asked for it (a FHIR search
url, a REST path and body, a person's registry entry), never by who asked: each request
filters what it takes from here exactly as it filters a fresh answer, so one principal's
view never reaches another. Each entry records the generation tokens of the subjects it is
about (the people whose national ids the read names), read *before* the upstream was
asked; it is used only while those tokens are current. A write through the gateway or an
upstream change notification about a subject replaces its token, so the next read asks
the upstream again (a write that landed while the read was in flight makes the entry
stale at once, never valid). Only reads that name their subject are kept; errors and
empty answers never are.

Identical reads of concurrent requests (a portal opening several screens at once) go to
the upstream once: a read already on its way under the same tokens is awaited, not sent
again. A request that writes (a mutation) is given no cache: what it checks before writing
is read fresh. What a request read is stored after its answer has left (`RequestCache.flush`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import orjson

from sources.waiting import waiting as upstream_wait

K = TypeVar("K", bound=Hashable)
Dispatch = Callable[[Sequence[K]], Awaitable[Sequence[Any]]]


class Tiers(Protocol):
    """The cache tiers (`gateway.cache.Cache`): logical keys, hashed and sealed below."""

    async def generations(self, subjects: Sequence[str]) -> dict[str, str] | None: ...
    async def get_many(self, logicals: Sequence[str]) -> list[bytes | None]: ...
    async def put_many(self, items: Sequence[tuple[str, bytes]], ttl_s: float) -> None: ...


@dataclass(frozen=True, slots=True)
class About:
    """What one read is: its key in the cache, and the people (national ids) it is about."""

    key: str
    subjects: tuple[str, ...]


class SubjectCache:
    """Answers of named reads, valid while the generation tokens of their subjects hold."""

    def __init__(self, tiers: Tiers, ttl_s: float) -> None:
        self.tiers = tiers
        self.ttl_s = ttl_s
        self.hits = 0
        self.misses = 0
        # reads on their way from an upstream: key -> (tokens they were asked under, answer)
        self.in_flight: dict[str, tuple[tuple[str, ...], asyncio.Future[Any]]] = {}

    def for_request(self) -> RequestCache:
        """This process's cache as one request uses it (see `RequestCache`)."""
        return RequestCache(self)


class RequestCache:
    """One request's use of the `SubjectCache`: it reads at once, and keeps what it read
    from the upstreams when `flush` is called, after its answer has left (storing is work
    no caller waits for)."""

    def __init__(self, shared: SubjectCache) -> None:
        self._shared = shared
        self._kept: list[tuple[str, dict[str, str], Any]] = []

    def through(
        self, source: str, about: Callable[[K], About | None], dispatch: Dispatch[K]
    ) -> Dispatch[K]:
        """`dispatch`, answering from the cache every key `about` names and that is still
        valid, and asking the upstream (one dispatch) for the rest."""

        async def cached(keys: Sequence[K]) -> Sequence[Any]:
            return await self._fetch(source, keys, about, dispatch)

        return cached

    async def flush(self) -> None:
        """Store what this request read from the upstreams (under the tokens read before
        each read: a change since then leaves the entry stale, never valid)."""
        kept, self._kept = self._kept, []
        if kept:
            items = [(key, orjson.dumps({"g": g, "v": answer})) for key, g, answer in kept]
            await self._shared.tiers.put_many(items, self._shared.ttl_s)

    async def _fetch(
        self,
        source: str,
        keys: Sequence[K],
        about: Callable[[K], About | None],
        dispatch: Dispatch[K],
    ) -> list[Any]:
        shared = self._shared
        named = [about(key) for key in keys]
        subjects = sorted({s for n in named if n is not None for s in n.subjects})
        tokens = await shared.tiers.generations(subjects) if subjects else None
        if tokens is None:  # nothing to cache, or the cache cannot be trusted right now
            return list(await dispatch(keys))
        logical = [None if n is None else f"raw|{source}|{n.key}" for n in named]
        found = await shared.tiers.get_many([k for k in logical if k is not None])
        stored = iter(found)
        out: list[Any] = [None] * len(keys)
        missing: list[int] = []
        for index, name in enumerate(named):
            raw = next(stored) if name is not None else None
            value = _valid(raw, name, tokens) if name is not None else None
            if value is None:
                missing.append(index)
            else:
                out[index] = value
        shared.hits += len(keys) - len(missing)
        shared.misses += len(missing)
        if missing:
            await self._ask(keys, missing, named, logical, tokens, dispatch, out)
        return out

    async def _ask(
        self,
        keys: Sequence[K],
        missing: list[int],
        named: list[About | None],
        logical: list[str | None],
        tokens: dict[str, str],
        dispatch: Dispatch[K],
        out: list[Any],
    ) -> None:
        """Answer `missing` from the upstream into `out`: the reads another request has in
        flight under the same tokens are awaited, not asked again; the rest go out in one
        dispatch, and the requests waiting for them are told the answers."""
        flights = self._shared.in_flight
        own, mine, waiting = self._board(missing, named, logical, tokens)
        try:
            answers = await dispatch([keys[i] for i in own]) if own else []
        except Exception as exc:  # the keys it was asked for fail; the ones found stand
            answers = [exc] * len(own)
        except BaseException:  # cancelled: whoever waits for these reads asks for itself
            for index, future in mine.items():
                _land(flights, logical[index], future, _Abandoned())
            raise
        for index, answer in zip(own, answers, strict=True):
            out[index] = answer
            name, key = named[index], logical[index]
            if index in mine:
                _land(flights, key, mine[index], answer)
            if name is None or key is None or answer is None or isinstance(answer, BaseException):
                continue
            self._kept.append((key, {s: tokens[s] for s in name.subjects}, answer))
        if waiting:
            await _await_flights(waiting, keys, dispatch, out)

    def _board(
        self,
        missing: list[int],
        named: list[About | None],
        logical: list[str | None],
        tokens: dict[str, str],
    ) -> tuple[list[int], dict[int, asyncio.Future[Any]], list[tuple[int, asyncio.Future[Any]]]]:
        """Sort the `missing` reads: those another request has in flight under the same
        tokens are to be awaited (`waiting`, with that flight's answer); the rest are this
        request's own to ask (`own`), each named one announced as a flight of its own
        (`mine`) for identical reads of other requests to await."""
        flights = self._shared.in_flight
        own: list[int] = []
        mine: dict[int, asyncio.Future[Any]] = {}
        waiting: list[tuple[int, asyncio.Future[Any]]] = []
        for index in missing:
            name, key = named[index], logical[index]
            if name is None or key is None:
                own.append(index)
                continue
            stamp = tuple(tokens[s] for s in name.subjects)
            flight = flights.get(key)
            if flight is not None and flight[0] == stamp:
                waiting.append((index, flight[1]))
                continue
            mine[index] = asyncio.get_running_loop().create_future()
            flights[key] = (stamp, mine[index])
            own.append(index)
        return own, mine, waiting


async def _await_flights(
    waiting: list[tuple[int, asyncio.Future[Any]]],
    keys: Sequence[K],
    dispatch: Dispatch[K],
    out: list[Any],
) -> None:
    """The answers of the reads other requests had in flight, into `out`; a read whose
    request was cancelled before its answer came is asked for alone."""
    for index, future in waiting:
        try:
            with upstream_wait():  # on another request's identical call
                out[index] = await asyncio.shield(future)
        except _Abandoned:
            out[index] = await _alone(dispatch, keys[index])
        except Exception as exc:
            out[index] = exc


async def _alone(dispatch: Dispatch[K], key: K) -> Any:
    try:
        [answer] = await dispatch([key])
    except Exception as exc:
        return exc
    return answer


class _Abandoned(Exception):
    """The request asking for a read was cancelled before the answer came."""


def _land(
    flights: dict[str, tuple[tuple[str, ...], asyncio.Future[Any]]],
    key: str | None,
    future: asyncio.Future[Any],
    answer: Any,
) -> None:
    """Tell the requests waiting on `future` the answer, and end the flight."""
    if key is not None and flights.get(key, (None, None))[1] is future:
        del flights[key]
    if future.done():
        return
    if isinstance(answer, BaseException):
        future.set_exception(answer)
        future.exception()  # nobody may be waiting: not an unretrieved error
    else:
        future.set_result(answer)


def _valid(raw: bytes | None, name: About, tokens: dict[str, str]) -> Any:
    """The stored answer when every subject's token is still the one it was read under."""
    if raw is None:
        return None
    stored = orjson.loads(raw)
    generations = stored["g"]
    if len(generations) != len(name.subjects) or any(
        generations.get(s) != tokens[s] for s in name.subjects
    ):
        return None
    return stored["v"]
