"""The one place a request path asks the policy and tells the audit recorder.

Every function takes the request's `Context`: field resolvers pass `info.context`, the
document download (`gateway.download`) the context it built. So `/graphql` and downloads
decide, filter and record alike.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TypeVar

from authz import filters
from authz.audit import NO_BASIS, NO_SUBJECT
from authz.categories import Category
from authz.facts import Security
from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import CategoryUnavailable
from resolvers.core.ids import asked_for, entity_parts, key_subject_of
from sources.errors import UpstreamError

T = TypeVar("T")


def may(ctx: Context, subject: Subject, category: Category, action: Action = Action.READ) -> bool:
    """True when the policy allows it; says nothing to the client either way."""
    return ctx.access.decide(subject, category, action).allowed


def require(
    ctx: Context, subject: Subject, category: Category, action: Action = Action.READ
) -> None:
    """Raise CategoryUnavailable (and record the denial, with the policy's reason) unless
    the policy allows it."""
    decision = ctx.access.decide(subject, category, action)
    if not decision.allowed:
        assert decision.reason is not None
        ctx.recorder.denied(
            subject.nin, subject.basis.value, category, action, reason=decision.reason
        )
        raise CategoryUnavailable(category, decision.reason)


def served(
    ctx: Context,
    subject: Subject,
    category: Category,
    resources: Iterable[str] = (),
    action: Action = Action.READ,
) -> None:
    """Record that data of `category` reaches the client (or is changed)."""
    ctx.recorder.served(subject.nin, subject.basis.value, category, resources, action)


def refused(
    ctx: Context,
    subject: Subject | None,
    global_id: str,
    reason: str,
    action: Action = Action.READ,
) -> None:
    """Record that `global_id` reached nothing the viewer may have, for `reason`
    (`authz.refusals`): about `subject` on their basis when the viewer may act for the
    person the id named, else about the key the id carried (or no one) on no basis. The
    item the id asked for is named when the id named one."""
    parts = entity_parts(global_id)
    asked = None if parts is None else asked_for(parts)
    if subject is not None:
        ctx.recorder.refused(subject.nin, subject.basis.value, reason, action, asked)
    else:
        whose = NO_SUBJECT if parts is None else key_subject_of(parts[2])
        ctx.recorder.refused(whose, NO_BASIS, reason, action, asked)


@contextlib.asynccontextmanager
async def watch(
    ctx: Context, subject: Subject, category: Category, action: Action = Action.READ
) -> AsyncIterator[None]:
    """Record an upstream failure while fetching `category` (the error still propagates)."""
    try:
        yield
    except UpstreamError:
        ctx.recorder.failed(subject.nin, subject.basis.value, category, action)
        raise


def shown(
    ctx: Context,
    subject: Subject,
    security: Security,
    taken_at: dt.datetime | None = None,
) -> bool:
    """True when one item with these labels may be shown to this subject's view."""
    return filters.visible(
        ctx.access.policy, subject.view, security, taken_at=taken_at, now=ctx.now
    )


def visible(
    ctx: Context,
    subject: Subject,
    items: Iterable[T],
    security: Callable[[T], Security],
    taken_at: Callable[[T], dt.datetime | None] | None = None,
) -> list[T]:
    """The items this subject's view may see; hidden ones are simply absent."""
    return filters.keep(
        items, ctx.access.policy, subject.view, security, taken_at=taken_at, now=ctx.now
    )
