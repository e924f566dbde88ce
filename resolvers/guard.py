"""The one place resolvers ask the policy and tell the audit recorder."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TypeVar

from strawberry.types import Info

from authz import filters
from authz.facts import Security
from authz.policy import Action
from resolvers.access import Subject
from resolvers.context import Context
from resolvers.errors import CategoryUnavailable
from sources.errors import UpstreamError

T = TypeVar("T")


def may(
    info: Info[Context, None], subject: Subject, category: str, action: Action = Action.READ
) -> bool:
    """True when the policy allows it; says nothing to the client either way."""
    return info.context.access.decide(subject, category, action).allowed


def require(
    info: Info[Context, None], subject: Subject, category: str, action: Action = Action.READ
) -> None:
    """Raise CategoryUnavailable (and record the denial, with the policy's reason) unless
    the policy allows it."""
    decision = info.context.access.decide(subject, category, action)
    if not decision.allowed:
        assert decision.reason is not None
        info.context.recorder.denied(
            subject.nin, subject.basis.value, category, action, reason=decision.reason
        )
        raise CategoryUnavailable(category, decision.reason)


def served(
    info: Info[Context, None],
    subject: Subject,
    category: str,
    resources: Iterable[str] = (),
    action: Action = Action.READ,
) -> None:
    """Record that data of `category` reaches the client (or is changed)."""
    info.context.recorder.served(subject.nin, subject.basis.value, category, resources, action)


@contextlib.asynccontextmanager
async def watch(
    info: Info[Context, None], subject: Subject, category: str, action: Action = Action.READ
) -> AsyncIterator[None]:
    """Record an upstream failure while fetching `category` (the error still propagates)."""
    try:
        yield
    except UpstreamError:
        info.context.recorder.failed(subject.nin, subject.basis.value, category, action)
        raise


def visible(
    info: Info[Context, None],
    subject: Subject,
    items: Iterable[T],
    security: Callable[[T], Security],
    taken_at: Callable[[T], dt.datetime | None] | None = None,
) -> list[T]:
    """The items this subject's view may see; hidden ones are simply absent."""
    ctx = info.context
    return filters.keep(
        items, ctx.access.policy, subject.view, security, taken_at=taken_at, now=ctx.now
    )
