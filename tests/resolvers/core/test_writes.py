"""The idempotent write every mutation runs through: it names whom it changes."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import get_named_type, is_non_null_type

from authz.categories import Category
from resolvers.core.writes import KEY_FIELD, once
from resolvers.mutations import Mutation
from resolvers.person import Query
from sources.errors import UpstreamUnavailable
from sources.idempotency import IdempotencyStore
from tests.resolvers.core.test_context import KARI, OLA, context

NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def info(viewer: str = KARI, idempotency: IdempotencyStore | None = None) -> Any:
    """A resolver's `info` as far as `once` needs it: a context."""
    return SimpleNamespace(context=context(viewer, idempotency))


def subject(nin: str) -> Any:
    return SimpleNamespace(nin=nin, basis=SimpleNamespace(value="SELF"))


async def test_a_write_names_its_subject_as_changed_and_nobody_else() -> None:
    asked = info(KARI)

    async def write(scoped: str) -> str:
        return "sent"

    assert (
        await once(asked, subject(OLA), "key-00001", ("text",), write, category=Category.MESSAGES)
        == "sent"
    )
    assert asked.context.changed_people == {OLA}  # whom it changed, not who asked
    assert not asked.context.recorder  # the audit record is the resolver's own step


async def test_a_write_that_fails_midway_still_names_its_subject() -> None:
    """The upstream may have stored it before the answer was lost."""
    asked = info()

    async def write(scoped: str) -> str:
        raise UpstreamUnavailable("ehr", "timed out")

    with pytest.raises(UpstreamUnavailable):
        await once(asked, subject(KARI), "key-00001", ("text",), write, category=Category.MESSAGES)
    assert asked.context.changed_people == {KARI}


async def test_a_retry_answered_by_the_first_attempt_names_its_subject_too() -> None:
    """A retry (another request, the same key) finds no stale cache either."""
    store = IdempotencyStore()
    calls = 0

    async def write(scoped: str) -> str:
        nonlocal calls
        calls += 1
        return "sent"

    await once(
        info(KARI, store), subject(KARI), "key-00001", ("text",), write, category=Category.MESSAGES
    )
    retry = info(KARI, store)
    assert (
        await once(retry, subject(KARI), "key-00001", ("text",), write, category=Category.MESSAGES)
        == "sent"
    )
    assert calls == 1
    assert retry.context.changed_people == {KARI}


async def test_a_write_the_upstream_fails_is_on_the_record_as_a_failed_write() -> None:
    """Every mutation runs its write through `once`: the failure is recorded there, so
    no mutation can leave a failed write off the audit trail."""
    asked = info()

    async def write(scoped: str) -> str:
        raise UpstreamUnavailable("ehr", "timed out")

    with pytest.raises(UpstreamUnavailable):
        await once(asked, subject(KARI), "key-00001", ("text",), write, category=Category.MESSAGES)
    stamp = {
        "at": NOON,
        "request_id": "r" * 16,
        "actor": KARI,
        "actor_kind": "citizen",
        "client_id": None,
        "acr": None,
        "operation": None,
    }
    entries = asked.context.recorder.entries(**stamp)
    assert [(e.action, e.outcome, e.categories) for e in entries] == [
        ("write", "failed", ("messages",))
    ]


def test_every_mutation_takes_an_idempotency_key() -> None:
    """So every write runs through `once`, the one place that names whom it changed."""
    schema = strawberry.Schema(query=Query, mutation=Mutation)._schema
    assert schema.mutation_type is not None
    without = []
    for name, field in schema.mutation_type.fields.items():
        argument = field.args.get("input")
        given = None if argument is None else get_named_type(argument.type)
        fields = getattr(given, "fields", {})
        if KEY_FIELD not in fields or not is_non_null_type(fields[KEY_FIELD].type):
            without.append(name)
    assert without == []
