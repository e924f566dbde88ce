"""`make bench-bodies`: a gateway's resident memory while upstream answers are huge.

Nine concurrent home-screen requests whose EHR answers are 100 MB each (more than the
per-call cap), several rounds, the gateway's resident memory after each: the byte budget
every upstream shares (`HELSEGRAF_UPSTREAM_BUFFER_BYTES`) bounds what a round may hold,
and nothing a round read may stay behind. `--checkout DIR` runs the gateway of another
checkout (with its own `.venv`) against the same mocks, for a before/after.

    python -m benchmarks.bodies --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.server import Server, free_port, serve_mocks, upstream_env, wait_ready
from benchmarks.workload import Workload
from mocks.population import Population

POPULATION = 200
CONCURRENT = 9
BODY_BYTES = 100_000_000


def _mb(server: Server) -> str:
    rss = server.rss_mb()
    return "?" if rss is None else f"{rss:.1f}"


async def _round(url: str, requests: list[tuple[str, dict[str, object]]]) -> list[str]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        answers = await asyncio.gather(
            *(
                client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
                for token, body in requests
            )
        )
    return sorted(
        {
            f"{a.status_code} {e['extensions'].get('code')}"
            for a in answers
            for e in a.json().get("errors", [])
        }
    )


def main(argv: list[str] | None = None) -> int:
    """Command line entry (`make bench-bodies`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checkout", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    python = args.checkout / ".venv" / "bin" / "python"
    faults = {"HELSEGRAF_MOCKS__FAULTS": json.dumps({"ehr": {"oversized_bytes": BODY_BYTES}})}
    requests = Workload(Population(size=POPULATION)).warm_set("home")[:CONCURRENT]
    with (
        serve_mocks(population=POPULATION, latency_ms=0, extra_env=faults) as mocks,
        tempfile.TemporaryDirectory(prefix="helsegraf-bodies-") as tmp,
    ):
        port = free_port()
        env = {
            **os.environ,
            **upstream_env(mocks.url),
            "HELSEGRAF_PORT": str(port),
            "HELSEGRAF_ENV": "test",
            "HELSEGRAF_CACHE": "false",
            "HELSEGRAF_AUDIT_PATH": str(Path(tmp) / "audit.sqlite3"),
            "HELSEGRAF_EHR": json.dumps({"url": f"{mocks.url}/ehr/fhir/R4", "timeout_s": 30}),
        }
        url = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "gateway.log"
        with log_path.open("wb") as log:
            gateway = subprocess.Popen(  # noqa: S603 - a checkout's own interpreter and CLI
                [str(python), "-m", "gateway.cli", "serve"],
                cwd=args.checkout,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            server = Server(gateway, url, log_path)
            try:
                wait_ready(server, 120)
                print(f"start: {_mb(server)} MB", flush=True)
                for n in range(1, args.rounds + 1):
                    codes = asyncio.run(_round(url, requests))
                    time.sleep(2)
                    print(f"round {n}: {_mb(server)} MB  ({', '.join(codes)})", flush=True)
            finally:
                gateway.terminate()
                gateway.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
