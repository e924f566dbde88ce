"""What every mutation shares: user errors, the acting basis, idempotency (and with it
naming whose data changed), the audit record.

A mutation resolver reads like this (`CATEGORY` is its module's `Category`, e.g.
`Category.QUESTIONNAIRES`):

    errors = [*check_key(info, data.idempotency_key), *own input checks]
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if denied or errors:
        return Payload(thing=None, user_errors=[*denied, *errors])
    result = await once(info, subject, data.idempotency_key, (fields...), create)
    if isinstance(result, UserError):
        return Payload(thing=None, user_errors=[result])
    served(info.context, subject, CATEGORY, (reference,), Action.WRITE)   # the audit record

Every write runs through `once`, which also names the subject as changed
(`Context.changed`): the endpoint invalidates their cached answers from that, not from
the audit record, so a write cannot leave stale caches by forgetting (or failing) to audit.

Expected failures are `UserError`s naming the input field, in the caller's language;
only faults (an upstream down) are GraphQL errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import strawberry
from strawberry.types import Info

from authz.categories import Category
from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.errors import BadUserInput, CategoryUnavailable, Forbidden
from resolvers.core.guard import require, watch
from resolvers.core.i18n import text
from sources.idempotency import KeyReused

T = TypeVar("T")

KEY_FIELD = "idempotencyKey"


@strawberry.type(description="An expected failure of a mutation, naming the input field.")
class UserError:
    field: list[str] = strawberry.field(description='Path to the input field, e.g. ["text"].')
    code: str = strawberry.field(description="Stable code for programs.")
    message: str = strawberry.field(description="The problem in the caller's language.")


def user_error(info: Info[Context, None], field: str | Sequence[str], code: str) -> UserError:
    """A user error on `field` (a name, or a path such as ["answers", "2", "value"]).

    The message is the translation of `error.{code}` in `resolvers.core.i18n`.
    """
    path = [field] if isinstance(field, str) else [str(part) for part in field]
    return UserError(field=path, code=code, message=text(f"error.{code}", info.context.language))


def check_key(info: Info[Context, None], key: str) -> list[UserError]:
    """The idempotency key is 8-128 printable characters."""
    if 8 <= len(key) <= 128 and key.isprintable():
        return []
    return [user_error(info, KEY_FIELD, "INVALID")]


def check_text(
    info: Info[Context, None], field: str, value: str | None, *, limit: int, required: bool = True
) -> list[UserError]:
    """REQUIRED when blank (and required), TOO_LONG past `limit` characters."""
    if value is None or not value.strip():
        return [user_error(info, field, "REQUIRED")] if required else []
    if len(value) > limit:
        return [user_error(info, field, "TOO_LONG")]
    return []


async def acting(
    info: Info[Context, None],
    person_id: str,
    category: Category,
    action: Action = Action.WRITE,
    *,
    field: str = "personId",
) -> tuple[Subject | None, list[UserError]]:
    """The person the viewer acts for, when their basis allows `action` on `category`.

    An unknown id, someone out of reach and a basis without the permission are user
    errors on `field` (INVALID, FORBIDDEN, CATEGORY_UNAVAILABLE); each refusal is recorded
    (the first two by `Access`, for `action`).
    """
    try:
        subject = await info.context.access.subject(person_id, action=action)
    except BadUserInput:
        return None, [user_error(info, field, "INVALID")]
    except Forbidden:
        return None, [user_error(info, field, "FORBIDDEN")]
    try:
        require(info.context, subject, category, action)
    except CategoryUnavailable:
        return None, [user_error(info, field, "CATEGORY_UNAVAILABLE")]
    return subject, []


async def once(
    info: Info[Context, None],
    subject: Subject,
    key: str,
    parts: Sequence[object],
    action: Callable[[str], Awaitable[T]],
    *,
    category: Category,
) -> T | UserError:
    """The result of `action`, a write of `category`, run at most once per (caller, key).

    `parts` is the input that defines the write (the subject is added); a retry with the
    same key and parts gets the first result, with other parts a KEY_REUSED error.
    `action` receives the scoped key to hand upstream (e.g. `EhrClient.create`), so a
    retry that reaches another replica still writes once.

    The subject is named as changed before anything runs: the write may land even when
    it then fails (a timeout after the upstream stored it), and a retry answered from an
    attempt still in flight must not find a stale cache either. An upstream failing the
    write goes on the audit record as a failed write of `category`, here for every mutation.
    """
    ctx = info.context
    ctx.changed(subject.nin)
    caller = f"{ctx.principal.nin}:{ctx.principal.actor_client_id or ''}"
    digest = hashlib.sha256(subject.nin.encode())
    for part in parts:
        digest.update(b"\x00" + repr(part).encode())
    scoped = ctx.idempotency.scoped_key(caller, key)
    try:
        async with watch(ctx, subject, category, Action.WRITE):
            return await ctx.idempotency.run(
                caller, key, digest.hexdigest(), lambda: action(scoped)
            )
    except KeyReused:
        return user_error(info, KEY_FIELD, "KEY_REUSED")
