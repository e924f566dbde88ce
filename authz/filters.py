"""Item-level filters: which single items a view may see. Pure; hidden means absent.

Every function answers for one item; callers drop hidden items before counting or
paging, so nothing about a hidden item (not even its existence) reaches the response.

A partner is filtered as the citizen it acts for (a partner for a young person as the
young person), less what only the person themself may see: it is never the person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeVar

from authz.facts import Security
from authz.policy import OWN_BASES, Basis, Policy, View

T = TypeVar("T")


def visible(
    policy: Policy,
    view: View,
    security: Security,
    *,
    taken_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """True when the item with these labels may be shown to this view."""
    if security.not_shown_electronically:
        return False  # withheld from the portal for everyone, the person included
    if view.basis not in OWN_BASES and (
        security.confidentiality in policy.restricted_confidentiality
        or security.sensitivity & policy.sensitive
    ):
        return False  # restricted or sensitive: only the person themself
    if view.basis is Basis.PARTNER:
        # what the citizen's own view may see, and nothing if they have no basis
        citizen = view.citizen
        return citizen is not None and visible(
            policy, citizen, security, taken_at=taken_at, now=now
        )
    if view.basis is Basis.PARENT and (
        security.kept_from_guardians or security.reserved_from_guardians
    ):
        return False
    if (
        view.basis is Basis.YOUTH
        and security.written_by_guardian
        and (not policy.youth_sees_guardian_messages)
    ):
        return False
    return released(policy, security, taken_at=taken_at, now=now)


def released(
    policy: Policy, security: Security, *, taken_at: dt.datetime | None, now: dt.datetime | None
) -> bool:
    """The laboratory release rule: 1 at once; 2 after review or the delay; 3 when
    released by hand; 4 never. Items without a category are released."""
    category = security.release_category
    if category is None or category == 1:
        return True
    if category == 2:
        if security.reviewed_at is not None:
            return True
        if taken_at is None or now is None:
            return False
        return now - taken_at >= dt.timedelta(days=policy.release_delay_days)
    if category == 3:
        return security.released_at is not None
    return False


def keep(
    items: Iterable[T],
    policy: Policy,
    view: View,
    security: Callable[[T], Security],
    *,
    taken_at: Callable[[T], dt.datetime | None] | None = None,
    now: dt.datetime | None = None,
) -> list[T]:
    """The visible items, in order."""
    return [
        item
        for item in items
        if visible(
            policy, view, security(item), taken_at=taken_at(item) if taken_at else None, now=now
        )
    ]


def message_shown(policy: Policy, view: View, counterpart_kind: str) -> bool:
    """True when the view reads messages with this kind of care provider (HOSPITAL, GP,
    MUNICIPALITY): the youth basis, for one, reads GP and municipal ones only."""
    grant = policy.grant(view)
    if grant is None:
        return False
    return grant.messages_with is None or counterpart_kind in grant.messages_with


def prescription_sources(policy: Policy, view: View) -> frozenset[str] | None:
    """The kinds of source (EHR, NATIONAL) whose prescriptions the view lists; None: all
    of them (a view without a grant lists none)."""
    grant = policy.grant(view)
    return frozenset() if grant is None else grant.prescription_sources


def prescription_shown(
    policy: Policy,
    view: View,
    *,
    source: str,
    active: bool,
    ended_on: dt.date | None,
    today: dt.date,
) -> bool:
    """True when the view lists this medicine: from a source its grant reads, and active,
    or ended within the grant's `prescription_months` (an ended one without an end date
    is not listed)."""
    grant = policy.grant(view)
    if grant is None:
        return False
    if grant.prescription_sources is not None and source not in grant.prescription_sources:
        return False
    if active:
        return True
    if grant.prescription_months == 0 or ended_on is None:
        return False
    return ended_on >= months_before(today, grant.prescription_months)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` calendar months earlier (the month's last day
    when it is shorter: 31 May less 3 months is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (following - dt.timedelta(days=1)).day))
