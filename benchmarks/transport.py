"""httpx's default transport against an aiohttp-backed one, on the gateway's upstream path.

The gateway talks to every upstream through `httpx.AsyncClient` (`sources/upstream.py`).
This measures that path alone, as the gateway uses it - one client, kept-alive
connections, JSON bodies decoded with orjson - against the mock EHR in its own process
(`helsegraf mocks`), once with httpx's own transport and once with
`httpx_aiohttp.AiohttpTransport`, at each concurrency: throughput, latency and this
process's CPU per call. Writes `benchmarks/transport.json` and prints a table.

    python -m benchmarks.transport --seconds 5 --concurrency 1 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.server import serve_mocks
from benchmarks.soak import percentile

TRANSPORTS = ("httpx", "aiohttp")
PATH = "/ehr/fhir/R4/Practitioner?_count=50"  # a searchset of 50 resources, about 20 kB


def _client(kind: str, base_url: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    if kind == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return httpx.AsyncClient(base_url=base_url, transport=AiohttpTransport(limits=limits))
    return httpx.AsyncClient(base_url=base_url, limits=limits)


async def _run(kind: str, base_url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    async with _client(kind, base_url) as client:
        for _ in range(concurrency):  # open the connections before measuring
            (await client.get(PATH)).raise_for_status()
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = await client.get(PATH)
                orjson.loads(response.content)
                response.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return {
        "transport": kind,
        "concurrency": concurrency,
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "cpu_ms_per_call": round(cpu / len(latencies) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/transport.json"))
    args = parser.parse_args(argv)
    runs = []
    with serve_mocks(population=100, latency_ms=args.latency_ms) as mocks:
        for concurrency in args.concurrency:
            for kind in TRANSPORTS:
                runs.append(asyncio.run(_run(kind, mocks.url, concurrency, args.seconds)))
                row = runs[-1]
                print(
                    f"{row['transport']:8} c={row['concurrency']:<3} {row['rps']:8.1f} rps "
                    f"p50 {row['p50_ms']:7.2f} ms  p99 {row['p99_ms']:7.2f} ms  "
                    f"cpu {row['cpu_ms_per_call']:.3f} ms/call",
                    flush=True,
                )
    args.out.write_text(
        json.dumps({"latency_ms": args.latency_ms, "path": PATH, "runs": runs}, indent=2) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
