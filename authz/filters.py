"""Item-level filters: which single items a view may see. Pure; hidden means absent.

Every function answers for one item; callers drop hidden items before counting or
paging, so nothing about a hidden item (not even its existence) reaches the response.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeVar

from authz.policy import Basis, Policy, View
from sources.models import Security

T = TypeVar("T")

_OWN = frozenset({Basis.SELF, Basis.YOUTH})


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
    if view.basis not in _OWN and (
        security.confidentiality in policy.restricted_confidentiality
        or security.sensitivity & policy.sensitive
    ):
        return False  # restricted or sensitive: only the person themself
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
