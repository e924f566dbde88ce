"""Parent and proxy bases from registry facts, one readable row per rule."""

import datetime as dt
from dataclasses import replace

import pytest

from authz.facts import Address, PersonFacts, PowerOfAttorney
from authz.policy import Basis, Policy
from authz.relations import parent_relation, proxy_relation, relations

TODAY = dt.date(2026, 11, 23)
POLICY = Policy.load()
HOME = Address("Kirkegata 12", "7013", "Trondheim")
ELSEWHERE = Address("Fjordveien 3", "7600", "Levanger")


def facts(nin: str, born: dt.date, **changes: object) -> PersonFacts:
    base = PersonFacts(
        nin=nin,
        given_name="A",
        family_name="B",
        birth_date=born,
        address=HOME,
        municipality="5001",
        address_protection=None,
        lives_abroad=False,
        deceased_date=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


PARENT = facts("p1", dt.date(1981, 7, 26), children=("c1",))
CHILD = facts("c1", dt.date(2012, 5, 7), parents=("p1", "p2"))
OTHER_PARENT = facts("p2", dt.date(1980, 1, 1), children=("c1",), address=ELSEWHERE)


@pytest.mark.parametrize(
    ("parent", "child", "others", "today", "allowed"),
    [
        pytest.param(PARENT, CHILD, [], TODAY, True, id="custodian-at-same-address"),
        pytest.param(
            PARENT,
            replace(CHILD, address=ELSEWHERE),
            [OTHER_PARENT],
            TODAY,
            True,
            id="child-lives-with-the-other-custodian",
        ),
        pytest.param(
            PARENT,
            replace(CHILD, address=Address("Other 1", "1000", "Elsewhere")),
            [OTHER_PARENT],
            TODAY,
            False,
            id="no-custodian-at-childs-address",
        ),
        pytest.param(
            replace(PARENT, children=()), CHILD, [], TODAY, False, id="no-registered-responsibility"
        ),
        pytest.param(
            PARENT,
            replace(CHILD, birth_date=dt.date(2010, 11, 23)),
            [],
            TODAY,
            False,
            id="child-turns-16-today",
        ),
        pytest.param(
            PARENT,
            replace(CHILD, birth_date=dt.date(2010, 11, 24)),
            [],
            TODAY,
            True,
            id="child-turns-16-tomorrow",
        ),
        pytest.param(
            PARENT,
            replace(CHILD, address_protection="strictlyConfidential"),
            [],
            TODAY,
            False,
            id="child-at-confidential-address",
        ),
        pytest.param(
            replace(PARENT, address_protection="confidential"),
            CHILD,
            [],
            TODAY,
            False,
            id="parent-at-confidential-address",
        ),
        pytest.param(
            replace(PARENT, lives_abroad=True), CHILD, [], TODAY, False, id="parent-abroad"
        ),
        pytest.param(
            PARENT,
            replace(CHILD, deceased_date=dt.date(2026, 1, 1)),
            [],
            TODAY,
            False,
            id="child-deceased",
        ),
    ],
)
def test_parent_basis(
    parent: PersonFacts,
    child: PersonFacts,
    others: list[PersonFacts],
    today: dt.date,
    allowed: bool,
) -> None:
    relation = parent_relation(POLICY, parent, child, others, today)
    assert (relation is not None) == allowed
    if relation is not None:
        assert relation.basis is Basis.PARENT
        assert relation.valid_until == dt.date(
            child.birth_date.year + 16, child.birth_date.month, child.birth_date.day
        ) - dt.timedelta(days=1)


GRANTOR = facts("g1", dt.date(1944, 1, 28), address=ELSEWHERE)
HOLDER = facts("h1", dt.date(1981, 7, 26))
POWER = PowerOfAttorney(
    id="poa1",
    grantor="g1",
    holder="h1",
    kind="full",
    service_areas=(1, 3),
    valid_from=dt.date(2025, 1, 1),
    valid_to=dt.date(2027, 1, 1),
)


@pytest.mark.parametrize(
    ("holder", "grantor", "power", "allowed"),
    [
        pytest.param(HOLDER, GRANTOR, POWER, True, id="valid-power"),
        pytest.param(
            HOLDER,
            GRANTOR,
            replace(POWER, valid_to=dt.date(2026, 11, 22)),
            False,
            id="expired-yesterday",
        ),
        pytest.param(
            HOLDER,
            GRANTOR,
            replace(POWER, valid_from=dt.date(2026, 11, 24)),
            False,
            id="starts-tomorrow",
        ),
        pytest.param(HOLDER, GRANTOR, replace(POWER, valid_to=None), True, id="open-ended"),
        pytest.param(
            replace(HOLDER, birth_date=dt.date(2009, 1, 1)),
            GRANTOR,
            POWER,
            False,
            id="holder-under-18",
        ),
        pytest.param(
            HOLDER,
            replace(GRANTOR, birth_date=dt.date(2011, 1, 1)),
            POWER,
            False,
            id="grantor-under-16",
        ),
        pytest.param(
            HOLDER,
            replace(GRANTOR, deceased_date=dt.date(2026, 5, 1)),
            POWER,
            False,
            id="grantor-deceased",
        ),
        pytest.param(
            HOLDER,
            replace(GRANTOR, address_protection="confidential"),
            POWER,
            False,
            id="grantor-at-confidential-address",
        ),
    ],
)
def test_proxy_basis(
    holder: PersonFacts, grantor: PersonFacts, power: PowerOfAttorney, allowed: bool
) -> None:
    relation = proxy_relation(POLICY, holder, grantor, power, TODAY)
    assert (relation is not None) == allowed
    if relation is not None:
        assert relation.basis is Basis.PROXY
        assert relation.proxy_kind == "full"


def test_relations_lists_children_then_grantors_once_each() -> None:
    viewer = replace(HOLDER, nin="p1", children=("c1",))
    power = replace(POWER, holder="p1")
    related = {"c1": CHILD, "g1": GRANTOR}
    found = relations(POLICY, viewer, related, [power, power], TODAY)
    assert [(r.basis, r.subject) for r in found] == [(Basis.PARENT, "c1"), (Basis.PROXY, "g1")]


def test_relations_skip_people_whose_facts_are_missing() -> None:
    viewer = replace(HOLDER, nin="p1", children=("c1",))
    assert relations(POLICY, viewer, {}, [replace(POWER, holder="p1")], TODAY) == []
