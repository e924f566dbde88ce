"""The policy's message-recipient rule: a parent of a 12-15-year-old, and the young
person on the youth basis, write to GP and municipality only; every other basis to any
kind; the file is validated."""

from __future__ import annotations

import tomllib

import pytest

from authz.policy import Basis, Policy, PolicyError, View
from authz.policy_file import DEFAULT_POLICY


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load()


def test_the_12_15_band_limits_a_parents_recipients(policy: Policy) -> None:
    parent = View(Basis.PARENT, high_assurance=True, subject_age=14)
    assert policy.message_recipients(parent) == frozenset({"GP", "MUNICIPALITY"})
    assert policy.message_recipients(View(Basis.PARENT, True, subject_age=8)) is None
    assert policy.message_recipients(View(Basis.SELF, True)) is None
    youth = View(Basis.YOUTH, True)
    assert policy.message_recipients(youth) == frozenset({"GP", "MUNICIPALITY"})
    assert policy.message_recipients(View(Basis.PROXY, True, proxy_kind="full")) is None


def test_an_unknown_recipient_kind_is_refused_at_load() -> None:
    raw = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
    raw["parent"]["bands"][1]["message_recipients"] = ["GP", "PHARMACY"]
    with pytest.raises(PolicyError, match="message_recipients"):
        Policy(raw)
