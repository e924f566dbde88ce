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

from benchmarks.server import free_port, serve_mocks, upstream_env
from benchmarks.workload import Workload
from mocks.population import Population

POPULATION = 200
CONCURRENT = 9
BODY_BYTES = 100_000_000


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


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
        with (Path(tmp) / "gateway.log").open("wb") as log:
            gateway = subprocess.Popen(  # noqa: S603 - a checkout's own interpreter and CLI
                [str(python), "-m", "gateway.cli", "serve"],
                cwd=args.checkout,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                for _ in range(600):
                    try:
                        if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.2)
                print(f"start: {_rss_mb(gateway.pid)} MB", flush=True)
                for n in range(1, args.rounds + 1):
                    codes = asyncio.run(_round(url, requests))
                    time.sleep(2)
                    print(f"round {n}: {_rss_mb(gateway.pid)} MB  ({', '.join(codes)})", flush=True)
            finally:
                gateway.terminate()
                gateway.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
