"""The graph's `DataCategory` is `authz.categories.Category`: they cannot drift apart."""

from __future__ import annotations

from enum import Enum

from authz.categories import Category
from authz.policy import Basis, Policy, View
from authz.policy_file import DEFAULT_POLICY
from resolvers.core.categories import DataCategory


def value(member: Enum) -> object:
    """A member's value (Strawberry types `enum_value(...)` members loosely)."""
    found: object = member.value
    return found


def test_the_graph_enum_has_every_category_in_order_valued_by_it() -> None:
    assert [m.name for m in DataCategory] == [c.name for c in Category]
    assert [value(m) for m in DataCategory] == list(Category)
    assert all(isinstance(value(m), Category) for m in DataCategory)


def test_every_category_the_policy_file_lists_is_a_graph_value() -> None:
    policy = Policy.load(DEFAULT_POLICY)
    assert {value(DataCategory(c)) for c in policy.categories} == set(Category)
    assert DataCategory("results") is DataCategory.RESULTS  # a plain name finds it too


def test_a_restriction_maps_onto_the_graph_enum() -> None:
    policy = Policy.load()
    for category, _ in policy.restrictions(View(Basis.PARENT, True, subject_age=14)):
        assert value(DataCategory(category)) is category
