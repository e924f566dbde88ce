"""Global object identification: the `Node` interface, entity ids, and `node(id:)`.

An entity's id encodes its type, its source, the person it was read through (as the
non-reversible person key) and the upstream id:

    base64url("{Type}:{source}:{person key}.{upstream id}")

so `node(id:)` first finds the person among those the viewer may act for (the same
check as `person(id:)`), then asks the type's fetcher, which reads through the same
guarded path as the list field and applies the same filters. An id of nothing, of
someone else, or of an item the viewer's basis hides all answer null with the same
FORBIDDEN error.

Each module that defines a Node type registers its fetcher with `@fetches("Type")`.

Every refused id goes on the audit record (`authz.refusals` names the reasons): a
person out of reach by `Access` (`person(id:)`, `node(id:)`, every mutation's
`personId`), an item id that is malformed, of another type or of another person by
`own_entity`, and an item its fetcher does not find (absent or hidden alike) by
`resolve_node`, or `refused_item` where a mutation looks an item up itself. The answer
to the caller is the same whatever the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from authz import refusals
from authz.audit import NO_BASIS, NO_SUBJECT
from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, Forbidden
from resolvers.core.guard import refused
from resolvers.core.ids import PERSON, decode, encode, entity_parts, key_subject_of

Fetcher = Callable[[Info[Context, None], Subject, str, str], Awaitable[Any]]
"""(info, subject, source, upstream id) -> the Node, or None when it is not there."""

FETCHERS: dict[str, Fetcher] = {}

T = TypeVar("T", bound=type)

PERSON_TYPE: list[Callable[..., Any]] = []
"""The Person type, registered by `resolvers.person` (`@person_type`): it sits above every
domain, so the floor is told of it rather than importing it."""


@strawberry.interface(description="Anything with a global id that `node(id:)` can fetch again.")
class Node:
    @strawberry.field(description="Opaque global id; never contains a national identity number.")
    def id(self, info: Info[Context, None]) -> strawberry.ID:
        raise NotImplementedError  # every implementing type resolves its own id


def fetches(type_name: str) -> Callable[[Fetcher], Fetcher]:
    """Register how `node(id:)` fetches a `type_name` for a subject."""

    def register(fn: Fetcher) -> Fetcher:
        FETCHERS[type_name] = fn
        return fn

    return register


def person_type(cls: T) -> T:
    """Register `cls` as what `node(id:)` returns for a person's id."""
    PERSON_TYPE[:] = [cls]
    return cls


def node_id(
    info: Info[Context, None], subject: Subject, type_name: str, source: str, upstream_id: str
) -> strawberry.ID:
    """The global id of an entity of `subject` (see the module text)."""
    key = info.context.ids.person_key(subject.nin)
    return strawberry.ID(encode(type_name, source, f"{key}.{upstream_id}"))


def entity_of(global_id: str, type_name: str, source: str | None = None) -> str | None:
    """The upstream id of a `type_name` id (from `source`, when named); None otherwise.
    Whose it is is not checked, and nothing is recorded: for filters, which only narrow
    the subject's own list, and to check an argument's form before the person is known
    (a mutation then takes the item through `own_entity`)."""
    parts = entity_parts(global_id)
    if parts is None or parts[0] != type_name or source not in (None, parts[1]):
        return None
    return parts[3]


def refused_item(
    info: Info[Context, None],
    subject: Subject,
    global_id: str,
    reason: str = refusals.ITEM_UNAVAILABLE,
    action: Action = Action.WRITE,
) -> None:
    """Record that `global_id`, sent for `subject`, reached no item it may have (by
    default: a well-formed id of theirs whose item is absent or hidden); as
    `guard.refused`, with the mutations' action by default."""
    refused(info.context, subject, global_id, reason, action)


def own_entity(
    info: Info[Context, None],
    subject: Subject,
    global_id: str,
    type_name: str,
    source: str | None = None,
    *,
    action: Action = Action.WRITE,
) -> tuple[str, str] | None:
    """(source, upstream id) of a `type_name` id (from `source`, when named) that was read
    through `subject`; None for any other id, and that refusal recorded (as `action`:
    mutations take their item ids through here)."""
    parts = entity_parts(global_id)
    if parts is None:
        reason = refusals.MALFORMED_ID
    elif parts[0] != type_name or source not in (None, parts[1]):
        reason = refusals.WRONG_ID_TYPE
    elif parts[2] != info.context.ids.person_key(subject.nin):
        reason = refusals.ID_OF_ANOTHER_PERSON
    else:
        return parts[1], parts[3]
    refused_item(info, subject, global_id, reason, action)
    return None


async def resolve_node(info: Info[Context, None], global_id: str, *, asked: bool = True) -> Any:
    """The node behind `global_id`; Forbidden for anything absent or out of reach, and the
    refusal recorded. `asked=False` for an id the gateway kept (a note's link), not one
    the caller sent: an item gone since is then no refused attempt."""
    ctx = info.context
    try:
        type_name, _, _ = decode(global_id)
    except BadUserInput:
        ctx.recorder.refused(NO_SUBJECT, NO_BASIS, refusals.MALFORMED_ID)
        raise
    if type_name == PERSON:
        return PERSON_TYPE[0](subject=await ctx.access.subject(global_id))
    parts = entity_parts(global_id)
    fetch = FETCHERS.get(type_name)
    if fetch is None or parts is None:
        whose = NO_SUBJECT if parts is None else key_subject_of(parts[2])
        ctx.recorder.refused(whose, NO_BASIS, refusals.MALFORMED_ID)
        raise BadUserInput("The id is not a valid helsegraf id.", argument="id")
    _, source, person_key, upstream_id = parts
    subject = await ctx.access.subject_by_key(person_key)
    found = await fetch(info, subject, source, upstream_id)
    if found is None:
        if asked:
            refused_item(info, subject, global_id, action=Action.READ)
        raise Forbidden()
    return found
