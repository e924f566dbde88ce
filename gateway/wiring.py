"""How `Services.build` makes each long-lived part from the settings: upstream pools,
cache tiers, the policy, the persisted-operation safelist, registered clients, the
token validator and the operation limits."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import httpx

from authz.policy import Policy
from gateway.auth import TokenValidator
from gateway.cache import Cache, LocalTier, RedisTier, Sealer
from gateway.clients import ClientRegistry
from gateway.jwks import JwksCache
from gateway.limits import BUDGETS, Budget
from gateway.persisted import PersistedOperations, SafelistError
from gateway.settings import Settings
from gateway.settings_sections import UpstreamSettings
from sources.buffers import BufferBudget
from sources.reference_cache import ReferenceCache
from sources.resilience import CircuitBreaker, RetryBudget, RetryPolicy
from sources.upstream import Upstream

Clock = Callable[[], dt.datetime]
log = logging.getLogger("gateway.services")  # the name it logged under before the split


def upstream_for(
    name: str,
    config: UpstreamSettings,
    transport: httpx.AsyncBaseTransport | None,
    network: Literal["aiohttp", "httpx"],
    buffers: BufferBudget,
) -> Upstream:
    """The connection pool, retries and circuit breaker of the upstream `name`."""
    return Upstream(
        name,
        config.url,
        timeout_s=config.timeout_s,
        max_connections=config.max_connections,
        max_concurrency=config.max_concurrency,
        max_queue=config.max_queue,
        max_response_bytes=config.max_response_bytes,
        retry=RetryPolicy(attempts=config.retries + 1),
        breaker=CircuitBreaker(
            name,
            failure_ratio=config.breaker_failure_ratio,
            min_requests=config.breaker_min_requests,
            window_s=config.breaker_window_s,
            cooldown_s=config.breaker_cooldown_s,
        ),
        budget=RetryBudget(ratio=config.retry_budget_ratio),
        buffers=buffers,
        transport=transport,
        network=network,
    )


def required_urls(settings: Settings) -> tuple[UpstreamSettings, UpstreamSettings, str]:
    """The EHR's and the national registries' settings and the issuer's key-set URL, which
    a gateway cannot run without (`helsegraf serve` without any uses the embedded mocks)."""
    if settings.ehr is None or settings.national is None or settings.oidc_jwks_url is None:
        raise ValueError(
            "the EHR, national and OIDC JWKS URLs must be set (HELSEGRAF_EHR__URL, "
            "HELSEGRAF_NATIONAL__URL, HELSEGRAF_OIDC_JWKS_URL), or run `helsegraf serve` "
            "with none of them to use the embedded mocks"
        )
    return settings.ehr, settings.national, settings.oidc_jwks_url


@dataclass(frozen=True, slots=True)
class Pools:
    """The connection pools of every upstream, sharing one byte budget for their answers."""

    ehr: Upstream
    national: Upstream
    municipalities: dict[str, Upstream]

    @classmethod
    def build(
        cls,
        settings: Settings,
        ehr: UpstreamSettings,
        national: UpstreamSettings,
        transport: httpx.AsyncBaseTransport | None,
    ) -> Pools:
        """The pools `settings` describe; `transport` replaces the network."""
        # one byte budget for the answers of every upstream together
        buffers = BufferBudget(settings.upstream_buffer_bytes)
        network = settings.upstream_network
        return cls(
            ehr=upstream_for("EHR", ehr, transport, network, buffers),
            national=upstream_for("NATIONAL", national, transport, network, buffers),
            municipalities={
                code: upstream_for(f"MUNICIPAL {code}", config, transport, network, buffers)
                for code, config in settings.municipalities.items()
            },
        )


def response_tiers(settings: Settings) -> Cache | None:
    """The cache tiers `settings` ask for (Redis-shared when `redis_url` is set)."""
    if not settings.cache:
        return None
    redis = None
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        redis = RedisTier.connect(url, f"{settings.redis_key_prefix}:cache")
    local = LocalTier(settings.cache_local_mb * 1024 * 1024, settings.cache_ttl_s)
    sealer = Sealer(settings.id_secret.get_secret_value().encode())
    return Cache(sealer, local, redis)


def reference_cache(settings: Settings, clock: Clock) -> ReferenceCache:
    """The reference-data cache (`sources.reference_cache`); keeping nothing when caching
    is off."""
    return ReferenceCache(
        fresh_s=settings.reference_fresh_s,
        stale_s=settings.reference_stale_s,
        max_entries=settings.reference_max_entries if settings.cache else 0,
        max_bytes=settings.reference_max_mb * 1024 * 1024,
        clock=clock,
    )


def load_policy(path: str | None = None) -> Policy:
    """The access policy (which lists every `Category`, the graph's `DataCategory` too)."""
    return Policy.load(Path(path)) if path else Policy.load()


def load_safelist(settings: Settings) -> PersistedOperations:
    """The persisted operations `settings` name. Partners run safelisted operations only,
    and so does every caller under `HELSEGRAF_REQUIRE_PERSISTED`: while either needs it, an
    empty safelist (a wheel built without its operations, a wrong path) is refused at start
    rather than answered request by request."""
    operations = PersistedOperations.load(settings.operations_path)
    partners = any(client.kind == "partner" for client in settings.clients.values())
    if not operations.by_hash and (partners or settings.require_persisted):
        who = [
            *(["the registered partners"] if partners else []),
            *(["HELSEGRAF_REQUIRE_PERSISTED"] if settings.require_persisted else []),
        ]
        empty = f"the persisted-operation safelist {' and '.join(who)} need"
        if settings.operations_path is None:
            raise SafelistError(
                f"the shipped operations hold no *.graphql file, so {empty} would be empty "
                "(set HELSEGRAF_OPERATIONS_PATH)"
            )
        raise SafelistError(
            f"HELSEGRAF_OPERATIONS_PATH {settings.operations_path!r} holds no *.graphql file, "
            f"so {empty} would be empty"
        )
    return operations


def client_registry(
    settings: Settings, policy: Policy, operations: PersistedOperations
) -> ClientRegistry:
    """The registered clients, checked against the policy's categories and the safelist."""
    clients = ClientRegistry.build(
        settings.clients,
        categories=policy.categories,
        operations=frozenset(operations.names.values()),
    )
    if not clients:
        log.warning("HELSEGRAF_CLIENTS is empty: every token will be refused")
    return clients


def token_validator(
    settings: Settings, jwks_url: str, transport: httpx.AsyncBaseTransport | None
) -> tuple[httpx.AsyncClient, TokenValidator]:
    """The issuer's key-set client and the validator of bearer tokens that uses it."""
    jwks_client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.oidc_timeout_s),
        transport=transport,
        follow_redirects=False,
    )
    validator = TokenValidator(
        JwksCache(jwks_client, jwks_url),
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
    )
    return jwks_client, validator


def budgets(settings: Settings) -> dict[str, Budget]:
    """Each caller kind's operation limits, with the overrides `settings` give."""
    return {
        kind: replace(budget, **settings.operation_limits.get(kind, {}))
        for kind, budget in BUDGETS.items()
    }
