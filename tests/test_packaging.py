"""The gateway as a container build installs it: a wheel built from the checkout, installed
into a fresh virtualenv, run from a directory outside the checkout.

The wheel is built without an isolated build environment and installed without its
dependencies, which the fresh virtualenv borrows from this one through a `.pth` file (a path
line there adds a directory without running the `.pth` files inside it, so this checkout's
editable install stays out): fast, and no network needed.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from benchmarks.server import free_port
from gateway.persisted import OPERATIONS_DIR, document_hash
from mocks.population import Population

ROOT = Path(__file__).resolve().parents[1]
# Generated or local state a container build would not copy either.
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis",
    ".helsegraf", "*.sqlite3*",
)  # fmt: skip
HOME = (OPERATIONS_DIR / "home.graphql").read_text(encoding="utf-8")


@dataclass
class Install:
    """A virtualenv holding the installed wheel, and a directory outside the checkout."""

    bin: Path
    outside: Path

    def environment(self, **settings: str) -> dict[str, str]:
        """This process's environment without any `HELSEGRAF_*` or `PYTHONPATH` (nothing
        may lead the install back to the checkout), plus `settings`."""
        kept = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("HELSEGRAF_") and name != "PYTHONPATH"
        }
        return kept | settings

    def run(self, *argv: str, **settings: str) -> subprocess.CompletedProcess[str]:
        """`helsegraf *argv` from the install, to completion (60 s at most)."""
        return subprocess.run(  # noqa: S603 - the installed CLI
            [str(self.bin / "helsegraf"), *argv],
            cwd=self.outside,
            env=self.environment(**settings),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _cannot_run(reason: str) -> None:
    """Skip with `reason` on a machine that lacks a build tool; in CI, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"the wheel test must run in CI: {reason}")
    pytest.skip(reason)


def _check(command: list[str], cwd: Path) -> str:
    finished = subprocess.run(  # noqa: S603 - pip, venv and the new interpreter
        command, cwd=cwd, capture_output=True, text=True, check=False
    )
    assert finished.returncode == 0, f"{command[:4]} failed:\n{finished.stderr[-3000:]}"
    return finished.stdout


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """The checkout built as a wheel and installed into a new virtualenv."""
    if importlib.util.find_spec("pip") is None:
        _cannot_run("pip is not installed in this virtualenv")
    if importlib.util.find_spec("venv") is None:
        _cannot_run("the venv module is missing (Debian: apt-get install python3-venv)")
    try:
        setuptools = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        setuptools = 0
    if setuptools < 75:
        _cannot_run("setuptools>=75 is not installed (pip install -e '.[dev]')")
    work = tmp_path_factory.mktemp("wheel")
    source, dist, venv, outside = (work / n for n in ("source", "dist", "venv", "outside"))
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)  # the build writes beside its source
    outside.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    _check([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(source)], work)
    (wheel,) = dist.glob("helsegraf-*.whl")
    _check([sys.executable, "-m", "venv", "--without-pip", str(venv)], work)
    python = venv / "bin" / "python"
    _check([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], work)
    site = _check(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], work
    )
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(site.strip()) / "dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    imported = _check([str(python), "-c", "import gateway; print(gateway.__file__)"], outside)
    assert Path(imported.strip()).is_relative_to(venv), f"{imported} is not the install"
    return Install(venv / "bin", outside)


@contextlib.contextmanager
def _running(
    install: Install, command: str, port: int, ready: str, **settings: str
) -> Iterator[str]:
    """`helsegraf command` from the install, serving on `port` until the block ends."""
    log = install.outside / f"{command}-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 - the installed CLI
            [str(install.bin / "helsegraf"), command],
            cwd=install.outside,
            env=install.environment(HELSEGRAF_PORT=str(port), **settings),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, f"`helsegraf {command}` exited:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"`helsegraf {command}` never became ready"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}{ready}", timeout=1).status_code == 200:
                        break
                time.sleep(0.2)
            yield url
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _production(mocks: str, data: Path) -> dict[str, str]:
    """Production settings pointing at `helsegraf mocks` served at `mocks`, as the README's
    "Trying production mode locally" gives them."""
    return {
        "HELSEGRAF_ENV": "production",
        "HELSEGRAF_EHR__URL": f"{mocks}/ehr/fhir/R4",
        "HELSEGRAF_NATIONAL__URL": f"{mocks}/national/api/v1",
        "HELSEGRAF_MUNICIPALITIES": (
            f'{{"5001": {{"url": "{mocks}/municipalities/5001/api/v1", "name": "Trondheim"}}, '
            f'"5037": {{"url": "{mocks}/municipalities/5037/api/v1", "name": "Levanger"}}, '
            f'"0301": {{"url": "{mocks}/municipalities/0301/api/v1", "name": "Oslo"}}, '
            f'"4601": {{"url": "{mocks}/municipalities/4601/api/v1", "name": "Bergen"}}}}'
        ),
        "HELSEGRAF_OIDC_ISSUER": "https://idporten.mock.helsegraf.dev",
        "HELSEGRAF_OIDC_AUDIENCE": "helsegraf",
        "HELSEGRAF_OIDC_JWKS_URL": f"{mocks}/oidc/jwks",
        "HELSEGRAF_ID_SECRET": "w" * 43,
        "HELSEGRAF_AUDIT_PATH": str(data / "audit.sqlite3"),
        "HELSEGRAF_USERDATA_PATH": str(data / "userdata.sqlite3"),
        "HELSEGRAF_REQUIRE_PERSISTED": "true",
        "HELSEGRAF_CLIENTS": '{"helsegraf-portal": {"kind": "portal"}}',
    }


def test_the_installed_gateway_answers_a_persisted_operation_in_production(
    install: Install, tmp_path: Path
) -> None:
    with _running(
        install, "mocks", free_port(), "/_mock/stats", HELSEGRAF_MOCKS__POPULATION="0"
    ) as mocks:
        settings = _production(mocks, tmp_path)
        with _running(install, "serve", free_port(), "/healthz", **settings) as gateway:
            token = install.run("token", "kari")
            assert token.returncode == 0, token.stderr
            headers = {"authorization": f"Bearer {token.stdout.strip()}"}
            by_hash = httpx.post(
                f"{gateway}/graphql",
                json={"documentId": f"sha256:{document_hash(HOME)}"},
                headers=headers,
                timeout=30,
            )
            ad_hoc = httpx.post(
                f"{gateway}/graphql",
                json={"query": "{ viewer { person { name } } }"},
                headers=headers,
                timeout=30,
            )
    assert by_hash.status_code == 200, by_hash.text
    body = by_hash.json()
    assert "errors" not in body
    kari = Population(size=0).persona("kari")
    assert kari.given_name in body["data"]["viewer"]["person"]["name"]
    assert ad_hoc.status_code == 400  # the safelist is required, and it is the shipped one
    assert (tmp_path / "audit.sqlite3").exists()  # where production was told to write


def test_the_installed_gateway_refuses_an_empty_safelist_it_needs(
    install: Install, tmp_path: Path
) -> None:
    (tmp_path / "operations").mkdir()
    settings = _production("http://127.0.0.1:9", tmp_path / "data") | {
        "HELSEGRAF_PORT": "0",
        "HELSEGRAF_OPERATIONS_PATH": str(tmp_path / "operations"),
    }
    refused = install.run("serve", **settings)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("helsegraf: invalid settings: HELSEGRAF_OPERATIONS_PATH ")
    assert "holds no *.graphql file" in refused.stderr
    assert refused.stderr.count("\n") == 1
