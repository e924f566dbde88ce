"""Collects, during one request, whose data was served to whom and every attempt that was
refused: the audit entries to write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from authz.audit import AuditEntry
from authz.policy import Action


@dataclass
class _Access:
    basis: str
    categories: set[str] = field(default_factory=set)
    denied: dict[str, set[str]] = field(default_factory=dict)  # reason -> categories
    failed: set[str] = field(default_factory=set)
    resources: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Refusal:
    subject: str
    basis: str
    action: Action
    reason: str
    resource: str | None


@dataclass(frozen=True, slots=True)
class _Stamp:
    """What every audit entry of one request carries: when, for whom, and what was asked."""

    at: dt.datetime
    request_id: str
    actor: str
    actor_kind: str
    client_id: str | None
    acr: str | None
    operation: str | None

    def entry(
        self,
        subject: str,
        basis: str,
        action: Action,
        outcome: str,
        categories: Iterable[str] = (),
        resources: Iterable[str] = (),
        reason: str | None = None,
    ) -> AuditEntry:
        """One entry, stamped."""
        return AuditEntry(
            at=self.at,
            request_id=self.request_id,
            actor=self.actor,
            actor_kind=self.actor_kind,
            basis=basis,
            subject=subject,
            categories=tuple(sorted(categories)),
            resources=tuple(resources),
            action=action.value,
            outcome=outcome,
            client_id=self.client_id,
            reason=reason,
            acr=self.acr,
            operation=self.operation,
        )


class AccessRecorder:
    """One accumulating record per (subject, action), and one per refused attempt; turned
    into audit entries at the end."""

    def __init__(self) -> None:
        self._accesses: dict[tuple[str, str, Action], _Access] = {}
        self._refusals: dict[_Refusal, None] = {}  # ordered, each attempt once

    def _get(self, subject: str, basis: str, action: Action) -> _Access:
        key = (subject, basis, action)
        access = self._accesses.get(key)
        if access is None:
            access = self._accesses[key] = _Access(basis)
        return access

    def served(
        self,
        subject: str,
        basis: str,
        category: str,
        resources: Iterable[str] = (),
        action: Action = Action.READ,
    ) -> None:
        """Data of `category` was (or is about to be) served or changed."""
        access = self._get(subject, basis, action)
        access.categories.add(category)
        access.resources.extend(resources)

    def denied(
        self, subject: str, basis: str, category: str, action: Action = Action.READ, *, reason: str
    ) -> None:
        """The basis may not see or change `category`, for the policy's `reason`."""
        self._get(subject, basis, action).denied.setdefault(reason, set()).add(category)

    def refused(
        self,
        subject: str,
        basis: str,
        reason: str,
        action: Action = Action.READ,
        resource: str | None = None,
    ) -> None:
        """An attempt to reach a person or an item was refused, for `reason`: one entry per
        attempt (the same attempt twice in one request, e.g. aliased, is one).

        `subject` follows `authz.audit`: a national id, `key_subject(...)` when the id
        named someone known only by its key, or `NO_SUBJECT`. `resource` names the item
        asked for, when the id named one."""
        self._refusals[_Refusal(subject, basis, action, reason, resource)] = None

    def failed(self, subject: str, basis: str, category: str, action: Action = Action.READ) -> None:
        """An upstream failed while fetching `category`."""
        self._get(subject, basis, action).failed.add(category)

    def __bool__(self) -> bool:
        return bool(self._accesses) or bool(self._refusals)

    def entries(
        self,
        *,
        at: dt.datetime,
        request_id: str,
        actor: str,
        actor_kind: str,
        client_id: str | None,
        acr: str | None,
        operation: str | None,
    ) -> list[AuditEntry]:
        """One entry per subject, action and outcome (denials: per reason), then one per
        refused attempt; each stamped with the caller's login level and the operation."""
        entry = _Stamp(at, request_id, actor, actor_kind, client_id, acr, operation).entry
        out: list[AuditEntry] = []
        for (subject, basis, action), access in self._accesses.items():
            if access.categories:
                used = dict.fromkeys(access.resources)
                out.append(entry(subject, basis, action, "success", access.categories, used))
            for reason, categories in sorted(access.denied.items()):
                out.append(entry(subject, basis, action, "denied", categories, reason=reason))
            if access.failed - access.categories:
                out.append(
                    entry(subject, basis, action, "failed", access.failed - access.categories)
                )
        for r in self._refusals:
            asked = () if r.resource is None else (r.resource,)
            out.append(entry(r.subject, r.basis, r.action, "denied", (), asked, r.reason))
        return out
