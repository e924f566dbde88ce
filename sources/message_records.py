"""Typed records for messaging: whom a person may write to."""

from __future__ import annotations

from dataclasses import dataclass

from sources.models import SourceRef


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone a person may write to: a hospital department, a GP office or a municipality.

    `key` is stable and free of personal data (`gp:<HPR number>`, `hospital:<Location id>`,
    `municipality:<code>`); `route` is where messages to it are kept.
    """

    key: str
    name: str
    kind: str  # HOSPITAL | GP | MUNICIPALITY
    route: SourceRef
