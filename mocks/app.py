"""All mock upstreams in one ASGI app, as `helsegraf serve`, tests and benchmarks use them.

Mounted paths (each its own base URL):
  /ehr/fhir/R4                       the EHR (FHIR R4)
  /national/api/v1                   the national portal
  /municipalities/{code}/api/v1      one care-services API per municipality
  /oidc                              the OIDC issuer (discovery, JWKS)
  /_mock/stats                       per-upstream request counters (GET; DELETE resets)
  /_mock/calls                       per-upstream (start, end) of each call on the system's
                                     monotonic clock (PUT starts recording afresh, GET
                                     reads, DELETE stops; for the benchmark's critical path)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from mocks.control import Faults, UpstreamControl, expose_connection
from mocks.fhir.app import create_fhir_app
from mocks.municipal import create_municipal_app
from mocks.national import create_national_app
from mocks.oidc import DEFAULT_CLIENT_ID, MockIssuer, create_oidc_app
from mocks.population import MUNICIPALITIES, Population, oslo_today
from mocks.records import RecordStore

# The clients the mock issuer's tokens name: the portal (every citizen token) and the
# partner services the tests act as, registered for everything (the registry's own
# tests narrow them).
MOCK_CLIENTS: dict[str, dict[str, Any]] = {
    DEFAULT_CLIENT_ID: {"kind": "portal"},
    **{
        partner: {"kind": "partner", "categories": "*", "operations": "*"}
        for partner in ("partner-x", "partner-portal-x")
    },
}


class MockUpstreams:
    """The synthetic population and every mock upstream serving it."""

    def __init__(
        self,
        *,
        size: int = 1000,
        seed: int = 20261123,
        today: dt.date | None = None,
        latency_ms: float = 0.0,
        faults: Mapping[str, Faults] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """`faults` is keyed by `ehr`, `national`, `oidc` or a municipality code;
        `latency_ms` applies to every upstream without an entry there (OIDC excepted);
        `clock` is the mocks' now (see `RecordStore.now`)."""
        known = {"ehr", "national", "oidc", *(m.code for m in MUNICIPALITIES)}
        unknown = set(faults or {}) - known
        if unknown:
            raise ValueError(f"no mock upstream named {sorted(unknown)}; known: {sorted(known)}")
        chosen = dict(faults or {})

        def control(key: str, name: str) -> UpstreamControl:
            default = Faults() if key == "oidc" else Faults(latency_ms=latency_ms)
            return UpstreamControl(name, chosen.get(key, default))

        self.population = Population(size=size, seed=seed, today=today or oslo_today())
        self.store = RecordStore(self.population, clock)
        self.issuer = MockIssuer()
        self.ehr = control("ehr", "EHR")
        self.national = control("national", "NATIONAL")
        self.municipal = {m.code: control(m.code, f"MUNICIPAL {m.code}") for m in MUNICIPALITIES}
        self.oidc = control("oidc", "OIDC")

    @property
    def controls(self) -> list[UpstreamControl]:
        """Every upstream's control, OIDC included."""
        return [self.ehr, self.national, *self.municipal.values(), self.oidc]

    def reset_counters(self) -> None:
        """Forget every counted request (faults stay)."""
        for control in self.controls:
            control.requests.clear()

    def counts(self) -> dict[str, int]:
        """Requests served per upstream since the last reset."""
        return {control.name: control.total for control in self.controls}

    def asgi(self) -> ASGIApp:
        """One ASGI app serving every mock under its own path."""

        async def stats(request: Request) -> JSONResponse:
            if request.method == "DELETE":
                self.reset_counters()
            return JSONResponse({c.name: dict(c.requests) for c in self.controls})

        async def calls(request: Request) -> JSONResponse:
            for control in self.controls:
                if request.method == "PUT":
                    control.calls = []
                elif request.method == "DELETE":
                    control.calls = None
            return JSONResponse({c.name: c.calls or [] for c in self.controls})

        routes: list[Any] = [
            Route("/_mock/stats", stats, methods=["GET", "DELETE"]),
            Route("/_mock/calls", calls, methods=["GET", "PUT", "DELETE"]),
            Mount("/ehr/fhir/R4", app=self.ehr.wrap(create_fhir_app(self.store))),
            Mount("/national/api/v1", app=self.national.wrap(create_national_app(self.store))),
            Mount("/oidc", app=self.oidc.wrap(create_oidc_app(self.issuer))),
        ]
        for code, control in self.municipal.items():
            routes.append(
                Mount(
                    f"/municipalities/{code}/api/v1",
                    app=control.wrap(create_municipal_app(self.store, code)),
                )
            )
        return expose_connection(Starlette(routes=routes))

    def settings_env(self, origin: str) -> dict[str, Any]:
        """Settings values pointing the gateway at these mocks served at `origin`."""
        origin = origin.rstrip("/")
        names = {m.code: m.name for m in MUNICIPALITIES}
        return {
            "ehr": {"url": f"{origin}/ehr/fhir/R4"},
            "national": {"url": f"{origin}/national/api/v1"},
            "municipalities": {
                code: {"url": f"{origin}/municipalities/{code}/api/v1", "name": names[code]}
                for code in self.municipal
            },
            "shared_ehr_municipalities": [m.code for m in MUNICIPALITIES if m.on_shared_ehr],
            "oidc_issuer": self.issuer.issuer,
            "oidc_jwks_url": f"{origin}/oidc/jwks",
            "clients": MOCK_CLIENTS,
        }
