"""Run `helsegraf serve` (gateway, embedded mocks unless told where they are) and
`helsegraf mocks` as child processes on loopback."""

from __future__ import annotations

import contextlib
import json
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

from mocks.app import MockUpstreams


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
        return self._status_mb("VmRSS:")

    def peak_rss_mb(self) -> float | None:
        """The process's peak resident memory so far (VmHWM)."""
        return self._status_mb("VmHWM:")

    def cpu_s(self) -> float | None:
        """User + system CPU seconds the process has used (None where /proc is missing)."""
        split = self.cpu_split_s()
        return None if split is None else sum(split)

    def cpu_split_s(self) -> tuple[float, float] | None:
        """(user, system) CPU seconds the process has used (None where /proc is missing)."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text(encoding="ascii")
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, field 3 onwards
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def _status_mb(self, key: str) -> float | None:
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
        return None


def host_cpu_ticks() -> tuple[int, int] | None:
    """(stolen, all) CPU ticks of this machine since boot, from /proc/stat's first line
    (None where there is none): time the hypervisor gave this virtual machine's CPUs to
    others is 'steal'."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if fields[:1] != ["cpu"] or len(fields) < 9:
        return None
    ticks = [int(value) for value in fields[1:]]
    return ticks[7], sum(ticks[:8])  # user .. steal; guest time is inside user already


def steal_pct(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of the machine's CPU time stolen between two `host_cpu_ticks` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return 100 * (after[0] - before[0]) / (after[1] - before[1])


def upstream_env(mocks_url: str) -> dict[str, str]:
    """`HELSEGRAF_*` variables pointing a gateway at `helsegraf mocks` served at `mocks_url`."""
    values = MockUpstreams(size=0).settings_env(mocks_url)
    return {
        f"HELSEGRAF_{key.upper()}": value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }


@contextlib.contextmanager
def serve_mocks(
    *,
    population: int,
    latency_ms: float,
    startup_s: float = 300.0,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """The mock upstreams alone (its own process, so the gateway's CPU and memory are
    measured without them): `helsegraf mocks`, stopped on exit; `extra_env` adds or
    overrides variables (`HELSEGRAF_MOCKS__FAULTS`)."""
    port = free_port()
    env = {
        **os.environ,
        "HELSEGRAF_PORT": str(port),
        "HELSEGRAF_ENV": "test",
        "HELSEGRAF_MOCKS__POPULATION": str(population),
        "HELSEGRAF_MOCKS__LATENCY_MS": str(latency_ms),
        **(extra_env or {}),
    }
    url = f"http://127.0.0.1:{port}"
    with _child("gateway.cli", ["mocks"], env, url, "/_mock/stats", startup_s) as mocks:
        yield mocks


@contextlib.contextmanager
def serve(
    *,
    population: int,
    latency_ms: float,
    extra_env: dict[str, str] | None = None,
    startup_s: float = 120.0,
    mocks_url: str | None = None,
    audit_dir: Path | None = None,
) -> Iterator[Server]:
    """A gateway, stopped (SIGINT, then SIGKILL) on exit: with embedded mocks, or using
    the mocks at `mocks_url` (see `serve_mocks`); its SQLite audit trail in a new
    directory under `audit_dir` (the system's temporary directory by default)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="helsegraf-bench-", dir=audit_dir) as tmp:
        env = {
            **os.environ,
            "HELSEGRAF_PORT": str(port),
            "HELSEGRAF_ENV": "test",
            "HELSEGRAF_MOCKS__POPULATION": str(population),
            "HELSEGRAF_MOCKS__LATENCY_MS": str(latency_ms),
            "HELSEGRAF_AUDIT_PATH": str(Path(tmp) / "audit.sqlite3"),
            **(upstream_env(mocks_url) if mocks_url else {}),
            **(extra_env or {}),
        }
        url = f"http://127.0.0.1:{port}"
        with _child("gateway.cli", ["serve"], env, url, "/healthz", startup_s) as server:
            yield server


@contextlib.contextmanager
def _child(
    module: str,
    command: list[str],
    env: dict[str, str],
    url: str,
    ready_path: str,
    startup_s: float,
) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="helsegraf-bench-") as tmp:
        log = (Path(tmp) / "child.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
            [sys.executable, "-m", module, *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        server = Server(process, url, Path(tmp) / "child.log")
        try:
            wait_ready(server, startup_s, ready_path)
            yield server
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def wait_ready(server: Server, startup_s: float, ready_path: str = "/healthz") -> None:
    """Until `server` answers 200 on `ready_path`; RuntimeError (with the end of its log)
    when it exits first or stays silent for `startup_s`."""
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            error = server.log.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"the child process exited during start-up:\n{error[-2000:]}")
        try:
            if httpx.get(f"{server.url}{ready_path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer on {ready_path} within {startup_s:.0f} s")
