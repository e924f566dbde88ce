"""The nested sections of the gateway's settings (`gateway.settings.Settings`): one
upstream, the embedded mocks and their faults, one registered client."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class UpstreamSettings(BaseModel):
    """Where one upstream lives, how long the gateway waits for it and how hard it leans.

    `timeout_s` is the total deadline of one call: queueing, every attempt and the pauses
    between retries included.
    """

    url: str
    name: str | None = None  # display name, for municipalities
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    max_connections: int = Field(default=50, ge=1, le=1000)
    max_concurrency: int = Field(default=32, ge=1, le=1000)  # calls in flight; others queue
    max_queue: int = Field(default=32, ge=0, le=10_000)  # calls waiting; more fail at once
    max_response_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=1024**3)
    retries: int = Field(default=2, ge=0, le=5)  # extra attempts, idempotent reads only
    retry_budget_ratio: float = Field(default=0.2, ge=0, le=1)  # retries per call, rolling
    breaker_failure_ratio: float = Field(default=0.5, gt=0, le=1)
    breaker_min_requests: int = Field(default=20, ge=1, le=100_000)
    breaker_window_s: float = Field(default=10.0, gt=0, le=3600)
    breaker_cooldown_s: float = Field(default=5.0, gt=0, le=3600)


class MockFaultSettings(BaseModel):
    """Faults one embedded mock upstream injects (see `mocks.control.Faults`)."""

    model_config = {"extra": "forbid"}

    latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    jitter_ms: float = Field(default=0.0, ge=0, le=60_000)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_status: int = Field(default=503, ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0, le=3600)
    hang: bool = False  # never answer: the gateway's deadline ends each call
    reset: bool = False  # drop every connection without a response
    oversized_bytes: int = Field(default=0, ge=0, le=1024**3)  # answer a JSON body this large
    content_type: str | None = Field(default=None, max_length=100)  # relabel the real answer


class MockSettings(BaseModel):
    """The embedded mock upstreams, used when no real upstream URL is configured.

    `faults` is keyed by upstream: `ehr`, `national`, `oidc` or a municipality code,
    e.g. `HELSEGRAF_MOCKS__FAULTS='{"ehr": {"latency_ms": 20}, "5001": {"error_rate": 0.1}}'`
    or `'{"5037": {"hang": true}, "0301": {"reset": true}}'`. `latency_ms` applies to
    every upstream without its own entry (an entry sets its own `latency_ms`).
    """

    population: int = Field(default=1000, ge=0, le=1_000_000)
    latency_ms: float = Field(default=0.0, ge=0, le=60_000)
    seed: int = 20261123
    faults: dict[str, MockFaultSettings] = Field(default_factory=dict)


class ClientSettings(BaseModel):
    """One known client (`HELSEGRAF_CLIENTS`): a portal citizens log in through, or a
    partner service acting for citizens with the categories and persisted operations
    (file stems in `operations/`) it may use; `"*"` names every one."""

    model_config = {"extra": "forbid"}

    kind: Literal["portal", "partner"]
    categories: list[str] | Literal["*"] = Field(default_factory=list)
    operations: list[str] | Literal["*"] = Field(default_factory=list)
