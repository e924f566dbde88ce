"""`make bench-shed`: what a refusal costs once the gateway is full.

Past the knee the gateway refuses (503 `OVERLOADED`, `Retry-After`) before it parses or
authenticates anything, so refusing must cost next to nothing and leave the CPU to the
requests it admitted. Measured on a real gateway process whose only open-request place is
held by a request waiting on a hung EHR (`HELSEGRAF_MAX_OPEN_REQUESTS=1`): CPU of the
server per refusal under a closed load of home-screen requests, against the same load on
`/healthz` (the HTTP server's own floor), in one run.

    python -m benchmarks.shed --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from benchmarks.loadgen import Outcome, closed_run, percentile
from benchmarks.server import Server, serve, serve_mocks
from benchmarks.workload import Workload
from mocks.population import Population

POPULATION = 200
CONCURRENCY = 32


async def _floor(url: str, seconds: float) -> Outcome:
    """`GET /healthz` from `CONCURRENCY` kept-alive workers for `seconds`."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(url, connector=connector) as session:

        async def worker() -> None:
            while time.monotonic() < deadline:
                sent = time.monotonic()
                async with session.get("/healthz") as response:
                    await response.read()
                outcome.completed += 1
                outcome.latencies_ms.append((time.monotonic() - sent) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        outcome.wall_s = time.monotonic() - started
    return outcome


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _cpu_ms_per_request(server: Server, before: float | None, outcome: Outcome) -> float | None:
    after = server.cpu_s()
    if before is None or after is None or not outcome.completed:
        return None
    return round((after - before) * 1000 / outcome.completed, 3)


async def _run(server: Server, workload: Workload, seconds: float) -> dict[str, Any]:
    before = server.cpu_s()
    floor = await _floor(server.url, seconds)
    floor_cpu = _cpu_ms_per_request(server, before, floor)
    home = workload.warm_set("home")
    token, body = home[0]
    async with httpx.AsyncClient(base_url=server.url, timeout=300) as client:
        held = asyncio.ensure_future(
            client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
        )
        for _ in range(200):  # until the held request has the only place
            probe = await client.get("/graphql", headers={"accept": "application/json"})
            if probe.status_code == 503:
                break
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError("the held request never filled the gateway")
        before = server.cpu_s()
        shed = await closed_run(
            server.url, Workload.warm(home), concurrency=CONCURRENCY, seconds=seconds
        )
        shed_cpu = _cpu_ms_per_request(server, before, shed)
        held.cancel()
    refused = shed.errors.get("http:503", 0)
    return {
        "concurrency": CONCURRENCY,
        "seconds": seconds,
        "refusals": refused,
        "other_outcomes": {k: v for k, v in shed.errors.items() if k != "http:503"},
        "refusal_cpu_ms": shed_cpu,
        "refusal_p50_ms": _ms(percentile(shed.latencies_ms, 0.50)),
        "refusal_p99_ms": _ms(percentile(shed.latencies_ms, 0.99)),
        "refusals_per_s": round(shed.completed / shed.wall_s, 1) if shed.wall_s else None,
        "healthz_cpu_ms": floor_cpu,
        "healthz_p50_ms": _ms(percentile(floor.latencies_ms, 0.50)),
        "refusal_vs_healthz_cpu": (
            round(shed_cpu / floor_cpu, 2) if shed_cpu is not None and floor_cpu else None
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry (`make bench-shed`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/shed.json"))
    args = parser.parse_args(argv)
    faults = {"HELSEGRAF_MOCKS__FAULTS": json.dumps({"ehr": {"hang": True}})}
    with serve_mocks(population=POPULATION, latency_ms=0, extra_env=faults) as mocks:
        env = {
            "HELSEGRAF_MAX_IN_FLIGHT": "1",
            "HELSEGRAF_MAX_OPEN_REQUESTS": "1",
            "HELSEGRAF_RATE_LIMIT_PER_MINUTE_PRINCIPAL": "1000000",
            "HELSEGRAF_RATE_LIMIT_PER_MINUTE_CLIENT": "10000000",
            "HELSEGRAF_LOG_FORMAT": "json",
            "HELSEGRAF_EHR": json.dumps({"url": f"{mocks.url}/ehr/fhir/R4", "timeout_s": 60}),
        }
        with serve(
            population=POPULATION, latency_ms=0, mocks_url=mocks.url, extra_env=env
        ) as server:
            workload = Workload(Population(size=POPULATION))
            result = asyncio.run(_run(server, workload, args.seconds))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"shed: {result['refusals']} refusals at c={CONCURRENCY} "
        f"({result['refusals_per_s']}/s), CPU {result['refusal_cpu_ms']} ms each, "
        f"p50 {result['refusal_p50_ms']} ms, p99 {result['refusal_p99_ms']} ms; "
        f"/healthz CPU {result['healthz_cpu_ms']} ms each: "
        f"ratio {result['refusal_vs_healthz_cpu']}x; other outcomes {result['other_outcomes']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
