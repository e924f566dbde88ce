"""The gateway's one settings class, read from `HELSEGRAF_*` environment variables."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, PositiveInt, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.settings_sections import ClientSettings, MockSettings, UpstreamSettings

DEVELOPMENT_ID_SECRET = "development-only-id-secret-not-for-production"  # noqa: S105
DEFAULT_ISSUER = "https://idporten.mock.helsegraf.dev"
DEFAULT_AUDIENCE = "helsegraf"


class Settings(BaseSettings):
    """Everything configurable; built by the app factory or CLI, never at import.

    Nested values use a double underscore: `HELSEGRAF_EHR__URL`,
    `HELSEGRAF_EHR__TIMEOUT_S`, `HELSEGRAF_MUNICIPALITIES='{"5001": {"url": "..."}}'`.
    """

    model_config = SettingsConfigDict(
        env_prefix="HELSEGRAF_", env_nested_delimiter="__", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    ehr: UpstreamSettings | None = None
    national: UpstreamSettings | None = None
    municipalities: dict[str, UpstreamSettings] = Field(default_factory=dict)
    # Municipalities whose health services run on the shared EHR: their residents'
    # municipal appointments are read there, not from the municipal API (default: the mocks').
    shared_ehr_municipalities: list[str] = Field(default_factory=lambda: ["5001"])

    oidc_issuer: str = DEFAULT_ISSUER
    oidc_audience: str = DEFAULT_AUDIENCE
    oidc_jwks_url: str | None = None
    oidc_timeout_s: float = Field(default=2.0, gt=0, le=60)

    # Every client a token may name (its `client_id`, and a delegated token's `act`): id ->
    # kind, and for partners their categories and operations. Empty: every token is refused.
    clients: dict[str, ClientSettings] = Field(default_factory=dict)

    id_secret: SecretStr = SecretStr(DEVELOPMENT_ID_SECRET)
    policy_path: str | None = None  # the access policy file; the built-in one when unset
    # The persisted-operation safelist: a directory of `*.graphql` files; the operations
    # shipped with the gateway (package `operations`) when unset.
    operations_path: str | None = None

    # The audit trail: PostgreSQL when a DSN is set, else an SQLite file.
    audit_dsn: SecretStr | None = None
    audit_path: str = ".helsegraf/audit.sqlite3"
    # How long one request waits for its audit record to be written (or the trail to be
    # read) before it is refused with 503 AUDIT_UNAVAILABLE; also bounds /readyz's check.
    audit_timeout_s: float = Field(default=3.0, gt=0, le=60)
    # Gateway-owned user data (private notes, notification settings): PostgreSQL when a DSN
    # is set, else SQLite (default: `userdata.sqlite3` beside the audit file). Notes are
    # encrypted with a key derived from `userdata_key`, or from `id_secret` when unset.
    userdata_dsn: SecretStr | None = None
    userdata_path: str | None = None
    userdata_key: SecretStr | None = Field(default=None, min_length=32)
    mocks: MockSettings = Field(default_factory=MockSettings)

    # Production hardening (see README "Production").
    cors_origins: list[str] = Field(default_factory=list)  # empty: no CORS headers at all
    require_persisted: bool = False  # True: every caller may run safelisted operations only
    log_format: Literal["auto", "text", "json"] = "auto"  # auto: JSON in production
    redis_url: SecretStr | None = None  # shares rate limits between processes when set
    redis_key_prefix: str = Field(default="helsegraf", pattern=r"^[A-Za-z0-9:_-]{1,64}$")
    # Caches: per process (bounded) and in Redis when `redis_url` is set. False turns every
    # cache off (the benchmark's baseline).
    cache: bool = True
    # How the gateway reaches its upstreams: httpx over aiohttp's connection handling, or
    # httpx's own transport (benchmarks/transport.py measures both).
    upstream_network: Literal["aiohttp", "httpx"] = "aiohttp"
    # Bytes of upstream answers held in memory at once, every upstream together
    # (sources/buffers.py): a call that cannot reserve the bytes it reads fails at once with
    # UPSTREAM_SATURATED. At least twice every upstream's `max_response_bytes`: a body of
    # unknown length is held twice for a moment, while its chunks are joined.
    upstream_buffer_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024, le=64 * 1024**3)
    # Shared with the upstreams that post change notifications (`POST /notifications`);
    # unset: the route answers 404.
    notification_secret: SecretStr | None = Field(default=None, min_length=32)
    cache_ttl_s: float = Field(default=30.0, gt=0, le=3600)
    cache_local_mb: int = Field(default=64, ge=1, le=65_536)
    # Reference data (the EHR's practitioners and locations; never a person's data), per
    # process: a copy younger than `reference_fresh_s` is used without asking again; one
    # younger than `reference_stale_s` is served, marked stale, while its upstream fails.
    reference_fresh_s: float = Field(default=300.0, gt=0, le=86_400)
    reference_stale_s: float = Field(default=86_400.0, gt=0, le=7 * 86_400)
    reference_max_entries: int = Field(default=50_000, ge=1, le=10_000_000)
    reference_max_mb: int = Field(default=16, ge=1, le=4096)
    # False: every upstream read goes out on its own (no batch Bundles, no `$batch`, no
    # loaders or per-request de-duplication; see sources/coalescer.py) - the baseline too.
    batching: bool = True
    rate_limit_per_minute_principal: int = Field(default=600, ge=1, le=1_000_000)
    rate_limit_per_minute_client: int = Field(default=30_000, ge=1, le=10_000_000)
    rate_limits_by_client: dict[str, PositiveInt] = Field(default_factory=dict)  # id -> /min
    # Per process, requests using the CPU (waiting on an upstream does not count: see
    # gateway/overload.py). Measured: at 256 an overload queued for seconds until upstream
    # deadlines fired; at 16-32 the excess is refused at once (make soak).
    max_in_flight: int = Field(default=32, ge=1, le=100_000)
    # Per process, every admitted request, those waiting on upstreams included: a bound on
    # their memory. Each upstream's own bulkhead (`max_concurrency` + `max_queue`) bounds
    # how many wait on it.
    max_open_requests: int = Field(default=1024, ge=1, le=1_000_000)
    # Per process: refused at the door while the event loop has run this late throughout
    # its last ticks (a CPU backlog the counts above cannot see: gateway/overload.py);
    # 0 turns it off.
    max_loop_lag_ms: int = Field(default=500, ge=0, le=60_000)
    # Per kind of caller, overrides of gateway.limits.Budget fields, e.g.
    # HELSEGRAF_OPERATION_LIMITS='{"partner": {"max_depth": 8, "max_cost": 2000}}'
    operation_limits: dict[str, dict[str, int]] = Field(default_factory=dict)

    @property
    def embedded_mocks(self) -> bool:
        """True when the gateway must start its own mock upstreams; never in production,
        whatever is missing (the mock issuer's key is derived from a constant in the source,
        so anyone could mint a token it accepts)."""
        if self.production:
            return False
        return self.ehr is None or self.national is None or self.oidc_jwks_url is None

    def unset_in_production(self) -> list[str]:
        """The settings production needs that were not given, as the variables to set.

        A default never counts: the issuer's and audience's are the mock issuer's, and the
        default audit and user-data files are per-process SQLite files nobody chose. An
        environment variable counts as given (pydantic's `model_fields_set`); a blank value
        does not.
        """
        given = self.model_fields_set

        def blank(value: str | SecretStr | None) -> bool:
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            return value is None or not value.strip()

        wanted = {
            "HELSEGRAF_EHR__URL": self.ehr is None or blank(self.ehr.url),
            "HELSEGRAF_NATIONAL__URL": self.national is None or blank(self.national.url),
            "HELSEGRAF_MUNICIPALITIES (at least one)": not self.municipalities
            or any(blank(m.url) for m in self.municipalities.values()),
            "HELSEGRAF_OIDC_ISSUER": "oidc_issuer" not in given or blank(self.oidc_issuer),
            "HELSEGRAF_OIDC_AUDIENCE": "oidc_audience" not in given or blank(self.oidc_audience),
            "HELSEGRAF_OIDC_JWKS_URL": blank(self.oidc_jwks_url),
            "either HELSEGRAF_AUDIT_DSN or HELSEGRAF_AUDIT_PATH": blank(self.audit_dsn)
            and ("audit_path" not in given or blank(self.audit_path)),
            "either HELSEGRAF_USERDATA_DSN or HELSEGRAF_USERDATA_PATH": blank(self.userdata_dsn)
            and blank(self.userdata_path),
            # every token naming a client outside the registry is refused
            "HELSEGRAF_CLIENTS (the portal and partner clients)": not self.clients,
        }
        return [name for name, missing in wanted.items() if missing]

    def production_refusal(self) -> str | None:
        """The one sentence refusing these settings in production, naming every variable
        still to set; None when production has all it needs (or this is not production)."""
        unset = self.unset_in_production() if self.production else []
        if not unset:
            return None
        names = unset[0] if len(unset) == 1 else f"{', '.join(unset[:-1])} and {unset[-1]}"
        return f"{names} must be set in production"

    @property
    def production(self) -> bool:
        """True in production: no introspection, no suggestions, masked errors."""
        return self.env == "production"

    @property
    def json_logs(self) -> bool:
        """True when log lines are JSON objects (by default in production)."""
        return self.log_format == "json" or (self.log_format == "auto" and self.production)

    @property
    def graphiql(self) -> bool:
        """GraphiQL is served in development only."""
        return self.env == "development"

    @model_validator(mode="after")
    def _open_requests_hold_the_in_flight(self) -> Settings:
        if self.max_open_requests < self.max_in_flight:
            raise ValueError(
                "HELSEGRAF_MAX_OPEN_REQUESTS must be at least HELSEGRAF_MAX_IN_FLIGHT "
                "(every request using the CPU is an open request)"
            )
        return self

    @model_validator(mode="after")
    def _known_operation_limits(self) -> Settings:
        from gateway.limits import BUDGETS, Budget

        fields = set(Budget.__dataclass_fields__)
        for kind, values in self.operation_limits.items():
            if kind not in BUDGETS:
                raise ValueError(
                    f"HELSEGRAF_OPERATION_LIMITS: {kind!r} is not a caller kind "
                    f"({', '.join(sorted(BUDGETS))})"
                )
            for name, value in values.items():
                if name not in fields:
                    raise ValueError(f"HELSEGRAF_OPERATION_LIMITS: {kind}.{name} is not a limit")
                if value < 1:
                    raise ValueError(f"HELSEGRAF_OPERATION_LIMITS: {kind}.{name} must be >= 1")
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> Settings:
        if self.env == "production" and (
            self.id_secret.get_secret_value() == DEVELOPMENT_ID_SECRET
            or len(self.id_secret.get_secret_value()) < 32
        ):
            raise ValueError(
                "HELSEGRAF_ID_SECRET must be set to a random value of at least 32 characters "
                "in production"
            )
        if (refusal := self.production_refusal()) is not None:
            raise ValueError(refusal)
        for origin in self.cors_origins:
            if not re.fullmatch(r"https?://[^/\s?#*]+", origin):
                raise ValueError(
                    f"HELSEGRAF_CORS_ORIGINS: {origin!r} is not an origin like https://example.no"
                )
        for code in [*self.municipalities, *self.shared_ehr_municipalities]:
            if not (len(code) == 4 and code.isdigit()):
                raise ValueError(
                    f"HELSEGRAF_MUNICIPALITIES: {code!r} is not a four-digit municipality code"
                )
        return self

    @model_validator(mode="after")
    def _reference_stale_bound(self) -> Settings:
        if self.reference_stale_s < self.reference_fresh_s:
            raise ValueError(
                "HELSEGRAF_REFERENCE_STALE_S must be at least HELSEGRAF_REFERENCE_FRESH_S "
                "(an older copy may stand in only once it is no longer fresh)"
            )
        return self

    @model_validator(mode="after")
    def _buffers_hold_every_answer(self) -> Settings:
        upstreams = {
            "HELSEGRAF_EHR": self.ehr,
            "HELSEGRAF_NATIONAL": self.national,
            **{f"HELSEGRAF_MUNICIPALITIES {code}": m for code, m in self.municipalities.items()},
        }
        for name, upstream in upstreams.items():
            if upstream is None:
                continue
            if 2 * upstream.max_response_bytes > self.upstream_buffer_bytes:
                raise ValueError(
                    f"HELSEGRAF_UPSTREAM_BUFFER_BYTES ({self.upstream_buffer_bytes}) must be at "
                    f"least twice {name} max_response_bytes ({upstream.max_response_bytes})"
                )
        return self

    @model_validator(mode="after")
    def _known_clients(self) -> Settings:
        for client_id, client in self.clients.items():
            key = f"HELSEGRAF_CLIENTS: {client_id!r}"
            if not client_id.strip() or len(client_id) > 255:
                raise ValueError(f"HELSEGRAF_CLIENTS: {client_id!r} is not a client id")
            if client.kind == "portal" and (client.categories or client.operations):
                raise ValueError(f"{key} is a portal: it takes no categories or operations")
            if client.kind == "partner" and not (client.categories and client.operations):
                raise ValueError(f"{key} is a partner: list the categories and operations it uses")
        return self
