"""Long-lived services of one gateway process: pools, key cache, schema, id codec."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import httpx
from graphql import GraphQLSchema

from authz.categories import Category
from authz.policy import Policy
from authz.principal import Principal
from authz.relations import OSLO, oslo_date
from gateway.auth import TokenValidator
from gateway.clients import ClientRegistry
from gateway.limits import Budget
from gateway.overload import InFlightLimit
from gateway.persisted import PersistedOperations
from gateway.production import schema_for
from gateway.ratelimit import RateLimiter
from gateway.response_cache import ResponseCache
from gateway.schema import GatewaySchema
from gateway.settings import Settings
from gateway.stores import open_audit_store, open_userdata_store
from gateway.wiring import (
    Clock,
    Pools,
    budgets,
    client_registry,
    load_policy,
    load_safelist,
    reference_cache,
    required_urls,
    response_tiers,
    token_validator,
)
from resolvers.core.access import Access
from resolvers.core.context import Context
from resolvers.core.i18n import Language
from resolvers.core.ids import IdCodec
from resolvers.core.recorder import AccessRecorder
from sources.audit import AuditStore
from sources.coalescer import batching
from sources.ehr import EhrClient
from sources.idempotency import IdempotencyStore
from sources.municipal import MunicipalClient
from sources.national import NationalClient
from sources.reference_cache import ReferenceCache
from sources.subject_cache import RequestCache, SubjectCache
from sources.upstream import Upstream
from sources.userdata import UserdataStore

log = logging.getLogger(__name__)


def oslo_now() -> dt.datetime:
    """The current time in Europe/Oslo."""
    return dt.datetime.now(OSLO)


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
        ehr, national, jwks_url = required_urls(settings)
        operations = load_safelist(settings)  # before any pool or store exists to close
        cache = response_tiers(settings)
        policy = load_policy(settings.policy_path)
        clients = client_registry(settings, policy, operations)
        jwks_client, validator = token_validator(settings, jwks_url, transport)
        pools = Pools.build(settings, ehr, national, transport)
        return cls(
            settings=settings,
            schema=schema_for(settings),
            ids=IdCodec(settings.id_secret.get_secret_value().encode()),
            validator=validator,
            ehr=pools.ehr,
            national=pools.national,
            municipalities=pools.municipalities,
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
            budgets=budgets(settings),
            in_flight=InFlightLimit(
                settings.max_in_flight,
                settings.max_open_requests,
                max_lag_s=settings.max_loop_lag_ms / 1000 or None,
            ),
            clients=clients,
            responses=None if cache is None else ResponseCache(cache, settings.cache_ttl_s),
            subjects=None if cache is None else SubjectCache(cache, settings.cache_ttl_s),
            reference=reference_cache(settings, clock),
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
