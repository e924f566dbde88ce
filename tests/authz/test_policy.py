"""The policy file: validation at start-up, and the decisions it encodes."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authz.categories import Category
from authz.policy import (
    Action,
    Basis,
    Policy,
    PolicyError,
    View,
    partner_view,
)
from authz.policy_file import DEFAULT_POLICY

POLICY = Policy.load()
RAW = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))


def variant(**changes: Any) -> dict[str, Any]:
    """The default policy with top-level tables replaced or edited by `changes`."""
    raw = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        table = raw
        for key in path:
            table = table[int(key)] if key.isdigit() and isinstance(table, list) else table[key]
        table[last] = value
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"version": 2}, "version must be 1", id="wrong-version"),
        pytest.param(
            {"youth.read": ["identity", "x-rays"]},
            "youth.read names unknown",
            id="unknown-category",
        ),
        pytest.param({"parent.bands.1.from_age": 13}, "gap or overlaps", id="band-gap"),
        pytest.param({"parent.ends_at_age": 18}, "cover every age", id="bands-short-of-limit"),
        pytest.param(
            {"proxy.kinds.standard.reason": ""}, "proxy.kinds.standard.reason", id="missing-reason"
        ),
        pytest.param(
            {"categories.results": {"health": "yes"}},
            "categories.results.health",
            id="health-not-boolean",
        ),
        pytest.param({"release.delay_days": -1}, "release.delay_days", id="negative-delay"),
        pytest.param({"youth.reason": "youth services only"}, "youth.reason", id="reason-in-prose"),
        pytest.param({"partner.reason": "not in scope!"}, "partner.reason", id="partner-reason"),
    ],
)
def test_invalid_policies_are_refused_naming_the_key(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy(variant(**changes))


def test_unreadable_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "policy.toml"
    broken.write_text("version = [", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"cannot read policy file policy\.toml"):
        Policy.load(broken)


def test_changing_the_age_split_is_data_only() -> None:
    shifted = variant(**{"parent.bands.0.to_age": 12, "parent.bands.1.from_age": 13})
    policy = Policy(shifted)
    view = View(Basis.PARENT, True, subject_age=12)
    assert policy.decide(view, Category.RESULTS, Action.READ).allowed
    assert not POLICY.decide(view, Category.RESULTS, Action.READ).allowed


HIGH = True
PARENT_8 = View(Basis.PARENT, HIGH, subject_age=8)
PARENT_14 = View(Basis.PARENT, HIGH, subject_age=14)
EVERY_CATEGORY = POLICY.categories


def partner_for(
    basis: Basis, scopes: str, registered: frozenset[Category] = EVERY_CATEGORY, high: bool = HIGH
) -> View:
    """A partner acting for a citizen whose own view is `basis`."""
    return partner_view(View(basis, high), scopes=frozenset(scopes.split()), registered=registered)


@pytest.mark.parametrize(
    ("view", "category", "action", "allowed", "reason"),
    [
        pytest.param(
            View(Basis.SELF, HIGH), "results", Action.READ, True, None, id="self-reads-results"
        ),
        pytest.param(
            View(Basis.SELF, False),
            "results",
            Action.READ,
            False,
            "LOGIN_LEVEL_TOO_LOW",
            id="self-low-assurance-no-health",
        ),
        pytest.param(
            View(Basis.SELF, False),
            "identity",
            Action.READ,
            True,
            None,
            id="self-low-assurance-identity",
        ),
        pytest.param(PARENT_8, "results", Action.READ, True, None, id="parent-of-8-results"),
        pytest.param(
            PARENT_14, "results", Action.READ, False, "CHILD_12_15", id="parent-of-14-no-results"
        ),
        pytest.param(
            PARENT_14, "prescriptions", Action.READ, True, None, id="parent-of-14-prescriptions"
        ),
        pytest.param(
            View(Basis.PARENT, HIGH, subject_age=16),
            "identity",
            Action.READ,
            False,
            "NO_ACCESS_BASIS",
            id="parent-of-16-nothing",
        ),
        pytest.param(
            View(Basis.YOUTH, HIGH),
            "results",
            Action.READ,
            False,
            "YOUTH_SERVICES_ONLY",
            id="youth-no-results",
        ),
        pytest.param(
            View(Basis.YOUTH, HIGH),
            "vaccinations",
            Action.READ,
            True,
            None,
            id="youth-vaccinations",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_kind="communicate-only"),
            "messages",
            Action.WRITE,
            True,
            None,
            id="communicate-only-sends",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_kind="communicate-only"),
            "results",
            Action.READ,
            False,
            "PROXY_COMMUNICATE_ONLY",
            id="communicate-only-no-results",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_kind="read-only"),
            "messages",
            Action.WRITE,
            False,
            "PROXY_READ_ONLY",
            id="read-only-cannot-send",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_kind="standard"),
            "private_notes",
            Action.READ,
            False,
            "PROXY_STANDARD",
            id="standard-no-private-notes",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_kind="full"),
            "access_log",
            Action.READ,
            False,
            "PROXY_FULL",
            id="proxy-never-sees-access-log",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_areas=(1,)),
            "results",
            Action.READ,
            True,
            None,
            id="area-1-reads-results",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_areas=(1,)),
            "messages",
            Action.WRITE,
            False,
            "PROXY_AREA_1",
            id="area-1-cannot-send",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_areas=(1, 3)),
            "messages",
            Action.WRITE,
            True,
            None,
            id="areas-1-and-3-union",
        ),
        pytest.param(
            View(Basis.PROXY, HIGH, proxy_kind="no-such-kind"),
            "identity",
            Action.READ,
            False,
            "NO_ACCESS_BASIS",
            id="unknown-proxy-kind",
        ),
        pytest.param(
            partner_for(Basis.SELF, "helsegraf:results.read"),
            "results",
            Action.READ,
            True,
            None,
            id="partner-in-scope",
        ),
        pytest.param(
            partner_for(Basis.SELF, "helsegraf:results.read"),
            "messages",
            Action.READ,
            False,
            "PARTNER_SCOPE",
            id="partner-out-of-scope",
        ),
        pytest.param(
            partner_for(Basis.YOUTH, "helsegraf:results.read"),
            "results",
            Action.READ,
            False,
            "YOUTH_SERVICES_ONLY",
            id="partner-for-youth-never-reads-results",
        ),
        pytest.param(
            partner_for(Basis.YOUTH, "helsegraf:critical_info.read helsegraf:documents.read"),
            "documents",
            Action.READ,
            False,
            "YOUTH_SERVICES_ONLY",
            id="partner-for-youth-never-reads-documents",
        ),
        pytest.param(
            partner_for(Basis.YOUTH, "helsegraf:prescriptions.read"),
            "prescriptions",
            Action.READ,
            True,
            None,
            id="partner-for-youth-reads-her-prescriptions-in-scope",
        ),
        pytest.param(
            partner_for(Basis.YOUTH, "helsegraf:private_notes.write"),
            "private_notes",
            Action.WRITE,
            False,
            "YOUTH_SERVICES_ONLY",
            id="partner-for-youth-cannot-write-what-she-cannot",
        ),
        pytest.param(
            partner_for(Basis.SELF, "helsegraf:results.read", frozenset({Category.IDENTITY})),
            "results",
            Action.READ,
            False,
            "PARTNER_SCOPE",
            id="partner-in-scope-but-not-registered",
        ),
        pytest.param(
            View(Basis.PARTNER, HIGH, scopes=frozenset({"helsegraf:identity.read"})),
            "identity",
            Action.READ,
            False,
            "NO_ACCESS_BASIS",
            id="partner-for-no-one-of-their-own-gets-nothing",
        ),
        pytest.param(
            View(Basis.YOUTH, HIGH),
            "prescriptions",
            Action.READ,
            True,
            None,
            id="youth-reads-her-prescriptions",
        ),
        pytest.param(
            View(Basis.ANALYST, HIGH),
            "identity",
            Action.READ,
            False,
            "NO_ACCESS_BASIS",
            id="analyst-no-person-data",
        ),
    ],
)
def test_decisions(
    view: View, category: Category, action: Action, allowed: bool, reason: str | None
) -> None:
    decision = POLICY.decide(view, category, action)
    assert decision.allowed is allowed
    assert decision.reason == reason


def test_restrictions_list_each_denied_category_once() -> None:
    restricted = POLICY.restrictions(PARENT_14)
    categories = [c for c, _ in restricted]
    assert len(categories) == len(set(categories))
    assert "results" in categories
    assert "prescriptions" not in categories
    assert {r for _, r in restricted} == {"CHILD_12_15"}


def test_unknown_category_is_a_programming_error() -> None:
    with pytest.raises(PolicyError, match="unknown category"):
        POLICY.decide(View(Basis.SELF, HIGH), "x-rays", Action.READ)  # type: ignore[arg-type]


def test_past_appointments_follow_the_proxy_kind() -> None:
    assert not POLICY.past_appointments(View(Basis.PROXY, HIGH, proxy_kind="standard"))
    assert POLICY.past_appointments(View(Basis.PROXY, HIGH, proxy_kind="full"))
    assert POLICY.past_appointments(View(Basis.SELF, HIGH))


def test_own_basis_is_self_from_16_youth_with_consent_else_none() -> None:
    assert POLICY.own_basis(16, consent=False) is Basis.SELF
    assert POLICY.own_basis(14, consent=True) is Basis.YOUTH
    assert POLICY.own_basis(14, consent=False) is None
    assert POLICY.own_basis(12, consent=True) is None


def test_a_partner_view_carries_only_an_own_view() -> None:
    with pytest.raises(ValueError, match="SELF or YOUTH"):
        View(Basis.PARTNER, HIGH, citizen=View(Basis.PARENT, HIGH, subject_age=8))
    with pytest.raises(ValueError, match="only a partner view"):
        View(Basis.PROXY, HIGH, proxy_kind="full", citizen=View(Basis.SELF, HIGH))


OWN_VIEWS = st.sampled_from([Basis.SELF, Basis.YOUTH])
SCOPE_NAMES = sorted(
    f"helsegraf:{category}.{action.value}" for category in EVERY_CATEGORY for action in Action
)


@given(
    basis=OWN_VIEWS,
    high=st.booleans(),
    scopes=st.frozensets(st.sampled_from(SCOPE_NAMES)),
    registered=st.frozensets(st.sampled_from(sorted(EVERY_CATEGORY))),
)
def test_a_partner_never_gets_more_than_the_citizen_or_its_scopes(
    basis: Basis, high: bool, scopes: frozenset[str], registered: frozenset[Category]
) -> None:
    citizen = View(basis, high)
    partner = partner_view(citizen, scopes=scopes, registered=registered)
    for category in EVERY_CATEGORY:
        for action in Action:
            if POLICY.decide(partner, category, action).allowed:
                assert POLICY.decide(citizen, category, action).allowed
                assert f"helsegraf:{category}.{action.value}" in scopes
                assert category in registered
    assert POLICY.message_recipients(partner) == POLICY.message_recipients(citizen)
    assert POLICY.past_appointments(partner) == POLICY.past_appointments(citizen)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"youth.prescription_months": -1},
            "youth.prescription_months",
            id="negative-prescription-window",
        ),
        pytest.param(
            {"youth.prescription_sources": ["NATIONAL", "PHARMACY"]},
            "youth.prescription_sources",
            id="unknown-prescription-source",
        ),
        pytest.param(
            {"youth.messages_with": ["GP", "DENTIST"]},
            "youth.messages_with",
            id="unknown-message-counterpart",
        ),
        pytest.param({"analyst.min_cell": 0}, "analyst.min_cell", id="no-small-cell-threshold"),
    ],
)
def test_item_rule_keys_are_validated(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy(variant(**changes))


def test_the_youth_window_and_cell_threshold_are_data() -> None:
    assert POLICY.youth.prescription_months == 12
    assert POLICY.youth.prescription_sources == frozenset({"NATIONAL"})
    assert POLICY.youth.messages_with == frozenset({"GP", "MUNICIPALITY"})
    assert POLICY.analyst_min_cell == 5
    changed = Policy(variant(**{"youth.prescription_months": 6, "analyst.min_cell": 10}))
    assert changed.youth.prescription_months == 6
    assert changed.analyst_min_cell == 10


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("requires_consent", None),  # missing: a youth basis without consent would open
        ("requires_consent", "true"),  # a string is not a yes
        ("from_age", None),  # missing: the band would start at birth
        ("to_age", None),
    ],
)
def test_the_youth_rules_fail_closed_when_unreadable(key: str, value: Any) -> None:
    raw = variant()
    if value is None:
        del raw["youth"][key]
    else:
        raw["youth"][key] = value
    with pytest.raises(PolicyError, match=f"youth.{key}"):
        Policy(raw)
