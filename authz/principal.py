"""The authenticated caller: the identity a validated token carries, a fact the rules read.

Pure data; token validation (which builds it) stays in `gateway.auth`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, repr=False)
class Principal:
    """An authenticated caller; `repr` never shows the national identity number."""

    nin: str
    acr: str
    scopes: frozenset[str]
    client_id: str | None
    token_id: str | None
    actor_client_id: str | None = None  # a partner acting for the citizen (delegated token)

    def __repr__(self) -> str:
        return (
            f"Principal(nin=<redacted>, acr={self.acr!r}, scopes={sorted(self.scopes)!r}, "
            f"client_id={self.client_id!r}, token_id={self.token_id!r}, "
            f"actor_client_id={self.actor_client_id!r})"
        )
