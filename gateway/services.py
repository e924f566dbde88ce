"""Long-lived services of one gateway process: pools, key cache, schema, id codec."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import httpx
from graphql import GraphQLSchema

from authz.categories import Category
from authz.policy import Policy
from authz.principal import Principal
from authz.relations import OSLO, oslo_date
from gateway.auth import JwksCache, TokenValidator
from gateway.cache import Cache, LocalTier, RedisTier, Sealer
from gateway.clients import ClientRegistry
from gateway.limits import BUDGETS, Budget
from gateway.overload import InFlightLimit
from gateway.persisted import PersistedOperations, SafelistError
from gateway.production import schema_for
from gateway.ratelimit import RateLimiter
from gateway.response_cache import ResponseCache
from gateway.schema import GatewaySchema
from gateway.settings import Settings, UpstreamSettings
from gateway.stores import open_audit_store, open_userdata_store
from resolvers.access import Access
from resolvers.context import Context
from resolvers.i18n import Language
from resolvers.ids import IdCodec
from resolvers.recorder import AccessRecorder
from sources.audit import AuditStore
from sources.buffers import BufferBudget
from sources.coalescer import batching
from sources.ehr import EhrClient
from sources.idempotency import IdempotencyStore
from sources.municipal import MunicipalClient
from sources.national import NationalClient
from sources.reference_cache import ReferenceCache
from sources.resilience import CircuitBreaker, RetryBudget, RetryPolicy
from sources.subject_cache import RequestCache, SubjectCache
from sources.upstream import Upstream
from sources.userdata import UserdataStore

Clock = Callable[[], dt.datetime]
log = logging.getLogger(__name__)


def oslo_now() -> dt.datetime:
    """The current time in Europe/Oslo."""
    return dt.datetime.now(OSLO)


def _upstream(
    name: str,
    config: UpstreamSettings,
    transport: httpx.AsyncBaseTransport | None,
    network: Literal["aiohttp", "httpx"],
    buffers: BufferBudget,
) -> Upstream:
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


def _cache(settings: Settings) -> Cache | None:
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


def _reference(settings: Settings, clock: Clock) -> ReferenceCache:
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


def _registered(clients: ClientRegistry, principal: Principal) -> frozenset[Category]:
    partner = clients.partner(principal)
    return frozenset() if partner is None else partner.categories


@dataclass
class Services:
    """Everything built once per process and shared by requests."""

    settings: Settings
    schema: GatewaySchema
    ids: IdCodec
    validator: TokenValidator
    ehr: Upstream
    national: Upstream
    municipalities: dict[str, Upstream]
    municipality_names: dict[str, str]
    jwks_client: httpx.AsyncClient
    clock: Clock
    policy: Policy
    audit: AuditStore
    userdata: UserdataStore
    idempotency: IdempotencyStore
    operations: PersistedOperations
    limiter: RateLimiter
    in_flight: InFlightLimit
    budgets: dict[str, Budget]
    clients: ClientRegistry
    responses: ResponseCache | None = None  # None when caching is off
    subjects: SubjectCache | None = None  # raw upstream answers; None when caching is off
    reference: ReferenceCache | None = None  # practitioners and locations, stale-if-error

    @property
    def graphql_schema(self) -> GraphQLSchema:
        """The graphql-core schema behind the Strawberry one (for the operation limits)."""
        return self.schema._schema

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = oslo_now,
    ) -> Services:
        """Services for `settings`; `transport` replaces the network (tests, embedded mocks)."""
        if settings.ehr is None or settings.national is None or settings.oidc_jwks_url is None:
            raise ValueError(
                "the EHR, national and OIDC JWKS URLs must be set (HELSEGRAF_EHR__URL, "
                "HELSEGRAF_NATIONAL__URL, HELSEGRAF_OIDC_JWKS_URL), or run `helsegraf serve` "
                "with none of them to use the embedded mocks"
            )
        operations = load_safelist(settings)  # before any pool or store exists to close
        cache = _cache(settings)
        policy = load_policy(settings.policy_path)
        clients = ClientRegistry.build(
            settings.clients,
            categories=policy.categories,
            operations=frozenset(operations.names.values()),
        )
        if not clients:
            log.warning("HELSEGRAF_CLIENTS is empty: every token will be refused")
        jwks_client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.oidc_timeout_s),
            transport=transport,
            follow_redirects=False,
        )
        validator = TokenValidator(
            JwksCache(jwks_client, settings.oidc_jwks_url),
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
        )
        # one byte budget for the answers of every upstream together
        buffers = BufferBudget(settings.upstream_buffer_bytes)
        network = settings.upstream_network
        return cls(
            settings=settings,
            schema=schema_for(settings),
            ids=IdCodec(settings.id_secret.get_secret_value().encode()),
            validator=validator,
            ehr=_upstream("EHR", settings.ehr, transport, network, buffers),
            national=_upstream("NATIONAL", settings.national, transport, network, buffers),
            municipalities={
                code: _upstream(f"MUNICIPAL {code}", config, transport, network, buffers)
                for code, config in settings.municipalities.items()
            },
            municipality_names={
                code: config.name for code, config in settings.municipalities.items() if config.name
            },
            jwks_client=jwks_client,
            clock=clock,
            policy=policy,
            audit=open_audit_store(settings),
            userdata=open_userdata_store(settings),
            idempotency=IdempotencyStore(),
            operations=operations,
            limiter=RateLimiter.from_settings(settings),
            budgets={
                kind: replace(budget, **settings.operation_limits.get(kind, {}))
                for kind, budget in BUDGETS.items()
            },
            in_flight=InFlightLimit(settings.max_in_flight, settings.max_open_requests),
            clients=clients,
            responses=None if cache is None else ResponseCache(cache, settings.cache_ttl_s),
            subjects=None if cache is None else SubjectCache(cache, settings.cache_ttl_s),
            reference=_reference(settings, clock),
        )

    def context(
        self,
        principal: Principal,
        request_id: str,
        language: Language,
        *,
        now: dt.datetime | None = None,
        cached: bool = False,
    ) -> Context:
        """A fresh context, with fresh loaders, for one request (at `now`, default the
        clock's now). `cached`: its reads may be answered from the raw upstream cache
        (queries only: what a write checks is read fresh)."""
        cache = self.subjects.for_request() if cached and self.subjects is not None else None
        with batching(self.settings.batching):
            return self._context(principal, request_id, language, now or self.clock(), cache)

    def _context(
        self,
        principal: Principal,
        request_id: str,
        language: Language,
        now: dt.datetime,
        cache: RequestCache | None,
    ) -> Context:
        national = NationalClient(self.national, cache)
        recorder = AccessRecorder()  # one per request: what resolvers and `Access` record
        return Context(
            principal=principal,
            request_id=request_id,
            now=now,
            language=language,
            ids=self.ids,
            ehr=EhrClient(self.ehr, cache, self.reference),
            national=national,
            municipal=MunicipalClient(
                self.municipalities,
                self.municipality_names,
                shared_ehr=frozenset(self.settings.shared_ehr_municipalities),
                cache=cache,
            ),
            access=Access(
                policy=self.policy,
                national=national,
                ids=self.ids,
                principal=principal,
                today=oslo_date(now),
                registered=_registered(self.clients, principal),
                recorder=recorder,
            ),
            audit=self.audit,
            userdata=self.userdata,
            idempotency=self.idempotency,
            raw=cache,
            recorder=recorder,
        )

    async def jwks_reachable(self) -> bool:
        """True when the issuer's key set can be fetched now."""
        assert self.settings.oidc_jwks_url is not None
        try:
            response = await self.jwks_client.get(self.settings.oidc_jwks_url)
        except (httpx.HTTPError, OSError):
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        """Close every connection pool."""
        for upstream in (self.ehr, self.national, *self.municipalities.values()):
            await upstream.aclose()
        await self.jwks_client.aclose()
        await self.audit.aclose()
        await self.userdata.aclose()
        await self.limiter.aclose()
        if self.responses is not None:
            await self.responses.aclose()
