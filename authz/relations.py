"""On what basis one person may act for another, decided from registry facts.

Pure and synchronous: the facts are fetched by `sources/`, the clock is an argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from authz.facts import PersonFacts, PowerOfAttorney
from authz.policy import Basis, Policy

OSLO = ZoneInfo("Europe/Oslo")  # every age rule counts days as Norway does


def oslo_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Europe/Oslo at `moment` (which must be timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware moment is needed to tell the date in Oslo")
    return moment.astimezone(OSLO).date()


@dataclass(frozen=True, slots=True)
class Relation:
    """The viewer may act for `subject` on `basis` until `valid_until` (inclusive)."""

    basis: Basis
    subject: str = field(repr=False)
    valid_until: dt.date | None
    proxy_kind: str | None = None
    proxy_areas: tuple[int, ...] = ()


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Completed years on `day` (a birthday counts from its first moment)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def _birthday(birth_date: dt.date, age: int) -> dt.date:
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:  # born 29 February: the birthday is 1 March in common years
        return dt.date(birth_date.year + age, 3, 1)


def _protected(facts: PersonFacts) -> bool:
    return facts.address_protection is not None


def parent_relation(
    policy: Policy,
    parent: PersonFacts,
    child: PersonFacts,
    other_parents: Sequence[PersonFacts],
    today: dt.date,
) -> Relation | None:
    """PARENT when `parent` may act for `child` today, else None.

    Needs registered parental responsibility, a child under the policy's age limit (16),
    counted from the birthday's first moment in Europe/Oslo, at least one parent with
    responsibility at the child's registered address, no confidential address on either
    side, a parent living in Norway, and a living child.
    """
    if child.nin not in parent.children or parent.nin not in child.parents:
        return None
    if age_on(child.birth_date, today) >= policy.parent_ends_at:
        return None
    if child.deceased_date is not None or parent.lives_abroad:
        return None
    if _protected(parent) or _protected(child):
        return None
    custodians = [parent, *(p for p in other_parents if p.nin in child.parents)]
    if child.address is None or not any(p.address == child.address for p in custodians):
        return None
    last_day = _birthday(child.birth_date, policy.parent_ends_at) - dt.timedelta(days=1)
    return Relation(Basis.PARENT, child.nin, last_day)


def proxy_relation(
    policy: Policy,
    holder: PersonFacts,
    grantor: PersonFacts,
    power: PowerOfAttorney,
    today: dt.date,
) -> Relation | None:
    """PROXY when the power of attorney is in force today between these two people."""
    if power.holder != holder.nin or power.grantor != grantor.nin:
        return None
    if power.valid_from > today or (power.valid_to is not None and power.valid_to < today):
        return None
    if grantor.deceased_date is not None:
        return None
    if age_on(grantor.birth_date, today) < policy.proxy_grantor_min_age:
        return None
    if age_on(holder.birth_date, today) < policy.proxy_holder_min_age:
        return None
    if _protected(holder) or _protected(grantor):
        return None
    kind = power.kind if power.kind in policy.proxy_kinds else None
    if kind is None and not any(a in policy.proxy_areas for a in power.service_areas):
        return None  # a power the policy grants nothing for
    return Relation(
        Basis.PROXY, grantor.nin, power.valid_to, proxy_kind=kind, proxy_areas=power.service_areas
    )


def relations(
    policy: Policy,
    viewer: PersonFacts,
    related: Mapping[str, PersonFacts],
    powers: Sequence[PowerOfAttorney],
    today: dt.date,
) -> list[Relation]:
    """Everyone the viewer may act for today, children first, in registry order.

    `related` holds the facts of the viewer's children, their other parents and the
    grantors of `powers`; anyone missing from it is left out.
    """
    out: list[Relation] = []
    seen: set[str] = {viewer.nin}
    for child_nin in viewer.children:
        child = related.get(child_nin)
        if child is None or child_nin in seen:
            continue
        others = [related[n] for n in child.parents if n != viewer.nin and n in related]
        relation = parent_relation(policy, viewer, child, others, today)
        if relation is not None:
            out.append(relation)
            seen.add(child_nin)
    for power in powers:
        grantor = related.get(power.grantor)
        if grantor is None or power.grantor in seen:
            continue
        relation = proxy_relation(policy, viewer, grantor, power, today)
        if relation is not None:
            out.append(relation)
            seen.add(power.grantor)
    return out
