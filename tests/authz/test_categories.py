"""The categories: one typed list, and the policy file checked against it at load."""

from __future__ import annotations

import tomllib

import pytest

from authz.categories import Category
from authz.policy import Basis, Policy, PolicyError, View
from authz.policy_file import DEFAULT_POLICY

RAW = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))


def test_every_category_is_in_the_policy_file_and_nothing_else() -> None:
    assert list(RAW["categories"]) == [c.value for c in Category]
    assert Policy.load().categories == frozenset(Category)


def test_a_category_is_its_name_in_the_file_the_scopes_and_the_audit() -> None:
    assert Category("gp") is Category.GP
    assert str(Category.CRITICAL_INFO) == "critical_info"
    assert f"helsegraf:{Category.RESULTS}.read" == "helsegraf:results.read"


def test_an_unknown_category_in_the_file_is_refused_naming_it() -> None:
    raw = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
    raw["categories"]["x_rays"] = {"health": True}
    with pytest.raises(PolicyError, match="categories names unknown categories: x_rays"):
        Policy(raw)


def test_a_category_missing_from_the_file_is_refused_naming_it() -> None:
    raw = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
    del raw["categories"]["pregnancy"]
    with pytest.raises(PolicyError, match="categories lacks pregnancy"):
        Policy(raw)


def test_the_grants_and_restrictions_speak_category() -> None:
    policy = Policy.load()
    assert all(isinstance(c, Category) for c in policy.own.read | policy.youth.write)
    assert all(isinstance(c, Category) for c in policy.non_health)
    restricted = policy.restrictions(View(Basis.PARENT, True, subject_age=14))
    assert restricted
    assert all(isinstance(c, Category) for c, _ in restricted)
