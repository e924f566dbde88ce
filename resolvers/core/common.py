"""Shared GraphQL building blocks: sources, paging, error reporting helpers."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Sequence
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types import Info

from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput
from resolvers.core.i18n import text
from sources import models
from sources.errors import UpstreamError

T = TypeVar("T")
MAX_PAGE = 100


@strawberry.enum(description="The kind of upstream system a record came from.")
class SourceKind(Enum):
    EHR = strawberry.enum_value("EHR", description="The hospital and municipal health record.")
    NATIONAL = strawberry.enum_value(
        "NATIONAL", description="The national portal: registries and e-prescriptions."
    )
    MUNICIPAL = strawberry.enum_value(
        "MUNICIPAL", description="A municipality's own care-services system."
    )


@strawberry.type(description="One upstream system a record was read from.")
class Source:
    kind: SourceKind = strawberry.field(description="Which kind of system.")
    municipality: str | None = strawberry.field(
        description="The four-digit municipality number, for municipal sources."
    )
    name: str = strawberry.field(description="The system's name in the caller's language.")


def source(ref: models.SourceRef, info: Info[Context, None]) -> Source:
    """The GraphQL view of a source reference."""
    name = text(f"source.{ref.kind.value}", info.context.language)
    if ref.municipality is not None:
        name = info.context.municipal.name(ref.municipality) or f"{name} {ref.municipality}"
    return Source(kind=SourceKind(ref.kind.value), municipality=ref.municipality, name=name)


@strawberry.type(description="Where a page of a list ends, for fetching the next one.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow.")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` to get the next page; null on an empty page."
    )


def cursor_for(offset: int) -> str:
    """An opaque cursor pointing at a position in a list."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def offset_after(cursor: str | None) -> int:
    """The position after `cursor`; BadUserInput when it is not one of ours."""
    if cursor is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        offset = int(value)
    except ValueError:
        raise BadUserInput("`after` is not a cursor from this list.", argument="after") from None
    if kind != "o" or offset < 0 or len(cursor) > 64:
        raise BadUserInput("`after` is not a cursor from this list.", argument="after")
    return offset + 1


def page(items: Sequence[T], first: int, after: str | None) -> tuple[list[tuple[str, T]], PageInfo]:
    """A page of `items` as (cursor, item) pairs and its PageInfo."""
    if first < 0 or first > MAX_PAGE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE}.", argument="first")
    start = offset_after(after)
    chosen = [(cursor_for(start + n), item) for n, item in enumerate(items[start : start + first])]
    end = chosen[-1][0] if chosen else None
    return chosen, PageInfo(has_next_page=start + first < len(items), end_cursor=end)


def path_of(info: Info[Context, None]) -> tuple[str | int, ...]:
    """The response path of the field being resolved."""
    return tuple(info.path.as_list())


async def gather_sources(
    info: Info[Context, None], calls: Sequence[Awaitable[list[T]]]
) -> list[list[T]]:
    """Await each source's call; a failing source is reported and contributes nothing.

    When every source fails, the first failure is raised and the field becomes null.
    """
    results = await asyncio.gather(*calls, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        if not isinstance(failure, UpstreamError):
            raise failure
    if failures and len(failures) == len(results):
        raise failures[0]
    for failure in failures:
        assert isinstance(failure, UpstreamError)
        info.context.report(failure, path_of(info))
    return [r for r in results if not isinstance(r, BaseException)]


async def home_municipality(info: Info[Context, None], subject: Subject) -> str | None:
    """The subject's registered municipality, when the gateway has a service for it."""
    facts = await info.context.national.persons.load(subject.nin)
    if facts is None or not info.context.municipal.serves(facts.municipality):
        return None
    return facts.municipality
