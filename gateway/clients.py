"""The clients a token may name (`HELSEGRAF_CLIENTS`): the portal citizens log in through,
and partner services with the categories and persisted operations each may use.

A token is admitted only when every client it names is known: its `client_id` (RFC 9068
access tokens carry one; `azp` stands in for it) and, in a delegated token, the acting
client (`act.client_id`, RFC 8693), which must be a partner. A partner token is a
partner's whether the partner is the actor or the token's own client.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from authz.categories import Category
from authz.principal import Principal
from gateway.auth import AuthenticationError
from gateway.settings_sections import ClientSettings


class ClientKind(StrEnum):
    """What a registered client is."""

    PORTAL = "portal"
    PARTNER = "partner"


@dataclass(frozen=True, slots=True)
class Client:
    """One registered client; a partner's categories and operations (file stems)."""

    id: str
    kind: ClientKind
    categories: frozenset[Category] = frozenset()
    operations: frozenset[str] = frozenset()


class ClientRegistry:
    """The known clients. Build with `ClientRegistry.build` at start-up."""

    def __init__(self, clients: Mapping[str, Client]) -> None:
        self._clients = dict(clients)

    def __len__(self) -> int:
        return len(self._clients)

    @classmethod
    def build(
        cls,
        configured: Mapping[str, ClientSettings],
        *,
        categories: frozenset[Category],
        operations: frozenset[str],
    ) -> ClientRegistry:
        """The registry `configured` describes, every category checked against the policy's
        and every operation against the safelist's names; ValueError names the key."""
        clients = {}
        for client_id, spec in configured.items():
            key = f"HELSEGRAF_CLIENTS: {client_id}"
            clients[client_id] = Client(
                client_id,
                ClientKind(spec.kind),
                _categories(spec.categories, categories, f"{key}.categories"),
                _known(spec.operations, operations, f"{key}.operations", "persisted operation"),
            )
        return cls(clients)

    def admit(self, principal: Principal) -> Principal:
        """The principal when every client its token names is registered, with the acting
        partner set when the token's own client is one; AuthenticationError otherwise
        (the reason is a code for logs, never a claim value)."""
        if principal.client_id is None:
            raise AuthenticationError("no-client")
        client = self._clients.get(principal.client_id)
        if client is None:
            raise AuthenticationError("unknown-client")
        if principal.actor_client_id is not None:
            actor = self._clients.get(principal.actor_client_id)
            if actor is None:
                raise AuthenticationError("unknown-client")
            if actor.kind is not ClientKind.PARTNER:
                raise AuthenticationError("actor-not-partner")
            return principal
        if client.kind is ClientKind.PARTNER:
            return dataclasses.replace(principal, actor_client_id=client.id)
        return principal

    def partner(self, principal: Principal) -> Client | None:
        """The registered partner acting in this (admitted) principal's token, if any."""
        if principal.actor_client_id is None:
            return None
        client = self._clients.get(principal.actor_client_id)
        return client if client is not None and client.kind is ClientKind.PARTNER else None


def _known(names: list[str] | str, known: frozenset[str], key: str, what: str) -> frozenset[str]:
    if names == "*":
        return known
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"{key} names an unknown {what}: {', '.join(unknown)}")
    return frozenset(names)


def _categories(
    names: list[str] | str, known: frozenset[Category], key: str
) -> frozenset[Category]:
    return frozenset(Category(name) for name in _known(names, known, key, "category"))
