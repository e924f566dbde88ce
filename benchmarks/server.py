"""Run `helsegraf serve` (gateway + embedded mocks) as a child process on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running gateway process."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path  # the process's stderr

    def rss_mb(self) -> float | None:
        """Resident memory of the process, from /proc (None where /proc is missing)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return None


@contextlib.contextmanager
def serve(
    *,
    population: int,
    latency_ms: float,
    extra_env: dict[str, str] | None = None,
    startup_s: float = 120.0,
) -> Iterator[Server]:
    """A gateway with embedded mocks, stopped (SIGINT, then SIGKILL) on exit."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="helsegraf-bench-") as tmp:
        env = {
            **os.environ,
            "HELSEGRAF_PORT": str(port),
            "HELSEGRAF_ENV": "test",
            "HELSEGRAF_MOCKS__POPULATION": str(population),
            "HELSEGRAF_MOCKS__LATENCY_MS": str(latency_ms),
            "HELSEGRAF_AUDIT_PATH": str(Path(tmp) / "audit.sqlite3"),
            **(extra_env or {}),
        }
        log = (Path(tmp) / "serve.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        server = Server(process, f"http://127.0.0.1:{port}", Path(tmp) / "serve.log")
        try:
            _wait_ready(server, startup_s)
            yield server
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def _wait_ready(server: Server, startup_s: float) -> None:
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            error = server.log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"the gateway exited during start-up:\n{error[-2000:]}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the gateway did not answer /healthz within {startup_s:.0f} s")
