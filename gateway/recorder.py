"""Collects, during one request, whose data was served to whom: the audit entries to write."""

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
    denied: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    resources: list[str] = field(default_factory=list)


class AccessRecorder:
    """One accumulating record per (subject, action); turned into audit entries at the end."""

    def __init__(self) -> None:
        self._accesses: dict[tuple[str, str, Action], _Access] = {}

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

    def denied(self, subject: str, basis: str, category: str, action: Action = Action.READ) -> None:
        """The basis may not see or change `category`."""
        self._get(subject, basis, action).denied.add(category)

    def failed(self, subject: str, basis: str, category: str, action: Action = Action.READ) -> None:
        """An upstream failed while fetching `category`."""
        self._get(subject, basis, action).failed.add(category)

    def __bool__(self) -> bool:
        return bool(self._accesses)

    def entries(
        self,
        *,
        at: dt.datetime,
        request_id: str,
        actor: str,
        actor_kind: str,
        client_id: str | None,
    ) -> list[AuditEntry]:
        """One entry per subject and action and outcome."""
        out: list[AuditEntry] = []
        for (subject, basis, action), access in self._accesses.items():
            for outcome, categories in (
                ("success", access.categories),
                ("denied", access.denied),
                ("failed", access.failed - access.categories),
            ):
                if not categories:
                    continue
                out.append(
                    AuditEntry(
                        at=at,
                        request_id=request_id,
                        actor=actor,
                        actor_kind=actor_kind,
                        basis=basis,
                        subject=subject,
                        categories=tuple(sorted(categories)),
                        resources=tuple(dict.fromkeys(access.resources))
                        if outcome == "success"
                        else (),
                        action=action.value,
                        outcome=outcome,
                        client_id=client_id,
                    )
                )
        return out
