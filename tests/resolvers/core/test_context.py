"""The per-request context: whose data this request's writes changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from authz.policy import Action
from authz.principal import Principal
from resolvers.core.context import Context
from resolvers.core.ids import IdCodec
from resolvers.core.recorder import AccessRecorder
from sources.idempotency import IdempotencyStore

KARI, OLA = "nin-of-kari", "nin-of-ola"  # any text: only compared
UNUSED: Any = None  # an upstream client or store these tests never reach


def context(nin: str = KARI, idempotency: IdempotencyStore | None = None) -> Context:
    """A context for `nin`, with nothing behind its upstream clients and stores (but the
    idempotency store, a fresh one unless given)."""
    return Context(
        principal=Principal(nin, "idporten-loa-high", frozenset(), None, None),
        request_id="req-1",
        now=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC),
        language="nb",
        ids=IdCodec(b"test-secret"),
        ehr=UNUSED,
        national=UNUSED,
        municipal=UNUSED,
        access=UNUSED,
        audit=UNUSED,
        userdata=UNUSED,
        idempotency=idempotency or IdempotencyStore(),
        recorder=AccessRecorder(),
    )


def test_a_fresh_context_changed_nobody() -> None:
    assert context().changed_people == set()


def test_changed_names_each_person_once() -> None:
    ctx = context()
    ctx.changed(OLA)
    ctx.changed(KARI)
    ctx.changed(OLA)
    assert ctx.changed_people == {KARI, OLA}


def test_the_changed_set_is_not_the_audit_record() -> None:
    """Naming a change records nothing for the audit, and an audited write names nobody."""
    ctx = context()
    ctx.changed(KARI)
    assert not ctx.recorder
    other = context()
    other.recorder.served(OLA, "SELF", "messages", ("EHR/Communication/1",), Action.WRITE)
    assert other.changed_people == set()


def test_each_request_has_its_own_set() -> None:
    one, two = context(), context()
    one.changed(KARI)
    assert two.changed_people == set()
