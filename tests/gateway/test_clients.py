"""The client registry: which clients a token may name, and what a partner may use."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from authz.categories import Category
from authz.principal import Principal
from gateway.auth import AuthenticationError
from gateway.clients import ClientKind, ClientRegistry
from gateway.settings import Settings
from gateway.settings_sections import ClientSettings

CATEGORIES = frozenset({Category.IDENTITY, Category.RESULTS, Category.PRESCRIPTIONS})
OPERATIONS = frozenset({"home", "results"})


def registry(**clients: dict[str, Any]) -> ClientRegistry:
    configured = {k.replace("_", "-"): ClientSettings.model_validate(v) for k, v in clients.items()}
    return ClientRegistry.build(configured, categories=CATEGORIES, operations=OPERATIONS)


REGISTRY = registry(
    portal={"kind": "portal"},
    partner_a={"kind": "partner", "categories": ["results"], "operations": ["results"]},
    partner_b={"kind": "partner", "categories": "*", "operations": "*"},
)


def principal(client_id: str | None, actor: str | None = None) -> Principal:
    return Principal("01017012345", "idporten-loa-high", frozenset(), client_id, None, actor)


@pytest.mark.parametrize(
    ("client_id", "actor", "reason"),
    [
        pytest.param(None, None, "no-client", id="no-client"),
        pytest.param("stranger", None, "unknown-client", id="unknown-client"),
        pytest.param("portal", "stranger", "unknown-client", id="unknown-actor"),
        pytest.param("stranger", "partner-a", "unknown-client", id="unknown-client-with-actor"),
        pytest.param("portal", "portal", "actor-not-partner", id="portal-as-actor"),
    ],
)
def test_tokens_naming_unknown_clients_are_refused(
    client_id: str | None, actor: str | None, reason: str
) -> None:
    with pytest.raises(AuthenticationError) as refused:
        REGISTRY.admit(principal(client_id, actor))
    assert refused.value.reason == reason
    assert str(refused.value) == "Authentication is required"


def test_a_citizen_through_the_portal_is_admitted_as_is() -> None:
    admitted = REGISTRY.admit(principal("portal"))
    assert admitted.actor_client_id is None
    assert REGISTRY.partner(admitted) is None


def test_a_partner_is_the_actor_or_the_tokens_own_client() -> None:
    acting = REGISTRY.admit(principal("portal", "partner-a"))
    own = REGISTRY.admit(principal("partner-a"))
    for admitted in (acting, own):
        partner = REGISTRY.partner(admitted)
        assert partner is not None
        assert (partner.id, partner.kind) == ("partner-a", ClientKind.PARTNER)
        assert partner.categories == {"results"}
        assert partner.operations == {"results"}


def test_a_star_names_every_category_and_operation() -> None:
    partner = REGISTRY.partner(REGISTRY.admit(principal("portal", "partner-b")))
    assert partner is not None
    assert (partner.categories, partner.operations) == (CATEGORIES, OPERATIONS)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(
            {"kind": "partner", "categories": ["x-rays"], "operations": ["home"]},
            "HELSEGRAF_CLIENTS: p.categories names an unknown category: x-rays",
            id="unknown-category",
        ),
        pytest.param(
            {"kind": "partner", "categories": ["results"], "operations": ["delete-everything"]},
            "HELSEGRAF_CLIENTS: p.operations names an unknown persisted operation: "
            "delete-everything",
            id="unknown-operation",
        ),
    ],
)
def test_the_registry_is_checked_against_the_policy_and_the_safelist(
    spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        registry(p=spec)


@pytest.mark.parametrize(
    ("clients", "message"),
    [
        pytest.param(
            {"p": {"kind": "portal", "categories": ["results"]}},
            "HELSEGRAF_CLIENTS: 'p' is a portal",
            id="portal-with-categories",
        ),
        pytest.param(
            {"p": {"kind": "partner", "operations": ["home"]}},
            "HELSEGRAF_CLIENTS: 'p' is a partner: list the categories",
            id="partner-without-categories",
        ),
        pytest.param({"p": {"kind": "robot"}}, "kind", id="unknown-kind"),
        pytest.param({"p": {"kind": "portal", "scopes": []}}, "scopes", id="unknown-field"),
    ],
)
def test_the_registry_setting_is_validated(clients: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(clients=clients)


def test_production_refuses_to_start_without_a_registry() -> None:
    with pytest.raises(ValidationError, match=r"HELSEGRAF_CLIENTS \(the portal and partner"):
        Settings(env="production", id_secret="x" * 40)
    assert Settings(env="test").clients == {}  # no default registry outside the mocks'


def test_the_registry_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "HELSEGRAF_CLIENTS",
        '{"web": {"kind": "portal"}, '
        '"app": {"kind": "partner", "categories": ["results"], "operations": ["results"]}}',
    )
    clients = Settings().clients
    assert clients["web"].kind == "portal"
    assert clients["app"].categories == ["results"]
