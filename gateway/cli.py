"""`helsegraf serve | mocks | schema | token | audit verify | audit head`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import socket
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import uvicorn
from pydantic import ValidationError

from gateway.logs import configure_logging
from gateway.settings import Settings

log = logging.getLogger("helsegraf")
T = TypeVar("T")


class StartRefused(Exception):
    """The gateway will not start as configured; the message is one sentence naming the
    setting to fix."""


def _settings_problem(exc: ValueError) -> str:
    """`exc` as one line naming each offending variable, without pydantic's banner, the
    values it was given (a DSN may hold a password) or its documentation links."""
    if not isinstance(exc, ValidationError):
        return " ".join(str(exc).split())
    problems = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            path = "__".join(str(part) for part in error["loc"]).upper()
            message = f"HELSEGRAF_{path}: {message}"
        problems.append(message)
    return "; ".join(problems)


def _bound_socket(host: str, port: int) -> socket.socket:
    # Named as TCP so asyncio sets TCP_NODELAY on every accepted connection: without it an
    # answer on a kept-alive connection waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _server(app: Any, sock: socket.socket) -> tuple[uvicorn.Server, socket.socket]:
    # log_config=None: uvicorn's loggers reach the root handler, JSON in production.
    # httptools parses HTTP/1.1 in C: h11's pure-Python parser cost a warm request about
    # a third of its CPU (docs/performance.md).
    config = uvicorn.Config(
        app,
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="on",
        log_config=None,
    )
    return uvicorn.Server(config), sock


def _run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop: the event loop every request's callbacks and sockets go
    through, measured cheaper per request than asyncio's own (docs/performance.md)."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def _settle_heap() -> None:
    """Move everything built at start-up (schema, types, policy, mocks) out of the garbage
    collector's sight: it lives as long as the process, and a full collection would
    otherwise walk all of it, tens of milliseconds in the middle of some request."""
    gc.collect()
    gc.freeze()


def _mocks(settings: Settings) -> Any:
    """The embedded mocks the settings describe, with their injected faults; refuses an
    upstream the mocks do not have."""
    from mocks.app import MockUpstreams
    from mocks.control import Faults

    faults = {key: Faults(**f.model_dump()) for key, f in settings.mocks.faults.items()}
    try:
        return MockUpstreams(
            size=settings.mocks.population,
            seed=settings.mocks.seed,
            latency_ms=settings.mocks.latency_ms,
            faults=faults,
        )
    except ValueError as exc:
        raise StartRefused(f"HELSEGRAF_MOCKS__FAULTS: {exc}") from exc


def with_embedded_upstreams(settings: Settings, embedded: dict[str, Any]) -> Settings:
    """`settings` with every upstream it leaves unset pointed at the embedded mocks."""
    values = settings.model_dump()
    for key in ("ehr", "national"):
        if values[key] is None:
            values[key] = embedded[key]
    if not values["municipalities"]:
        values["municipalities"] = embedded["municipalities"]
    if values["oidc_jwks_url"] is None:  # the mock issuer signs the tokens
        values["oidc_jwks_url"] = embedded["oidc_jwks_url"]
        values["oidc_issuer"] = embedded["oidc_issuer"]
        if not values["clients"]:  # and names the mocks' clients
            values["clients"] = embedded["clients"]
    return Settings.model_validate(values)


async def _serve(settings: Settings) -> None:
    """Serve the gateway (with embedded mocks outside production when upstreams are
    unset); raises `StartRefused` before serving anything when it must not start."""
    from gateway.app import create_app

    # Defence in depth beside the settings' validator: production never falls back to
    # the mocks, whose issuer signs with a key anyone can derive from the source.
    if (refusal := settings.production_refusal()) is not None:
        raise StartRefused(refusal)
    servers: list[tuple[uvicorn.Server, socket.socket]] = []
    origin = None
    if settings.embedded_mocks:
        mocks = _mocks(settings)
        mock_sock = _bound_socket("127.0.0.1", 0)
        origin = f"http://127.0.0.1:{mock_sock.getsockname()[1]}"
        settings = with_embedded_upstreams(settings, mocks.settings_env(origin))
        servers.append(_server(mocks.asgi(), mock_sock))
    try:
        app = create_app(settings)
    except ValueError as exc:  # what the settings name cannot be used (safelist, policy)
        for _, sock in servers:
            sock.close()
        raise StartRefused(_settings_problem(exc)) from exc
    if origin is not None:
        log.info("embedded mock upstreams at %s", origin)
    gateway_sock = _bound_socket(settings.host, settings.port)
    servers.append(_server(app, gateway_sock))
    _settle_heap()
    log.info("gateway at http://%s:%s/graphql", settings.host, gateway_sock.getsockname()[1])
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))


async def _serve_mocks(settings: Settings) -> None:
    mocks = _mocks(settings)
    sock = _bound_socket(settings.host, settings.port)
    log.info("mock upstreams at http://%s:%s", settings.host, sock.getsockname()[1])
    server, _ = _server(mocks.asgi(), sock)
    _settle_heap()
    await server.serve(sockets=[sock])


def _token(persona: str, claims: Sequence[str]) -> str:
    from mocks.oidc import MockIssuer, parse_claim
    from mocks.population import Population

    overrides = dict(parse_claim(c) for c in claims)
    person = Population(size=0).persona(persona)
    return MockIssuer().token_for(person, overrides=overrides)


def _checkpoint(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise argparse.ArgumentTypeError("expected SEQ:HASH, as printed by `helsegraf audit head`")
    return int(seq), digest.lower()


async def _audit(settings: Settings, command: str, checkpoint: tuple[int, str] | None) -> int:
    from authz.audit import ChainVerifier
    from gateway.stores import open_audit_store
    from sources.audit import AuditUnavailable

    # Read-only: a missing trail is an error, not empty, and checking a trail never
    # changes it (no DDL, no re-created trigger; SQLite `mode=ro`, PostgreSQL sessions
    # that refuse writes).
    store = open_audit_store(settings, read_only=True)
    try:
        if command == "head":
            seq, digest = await store.head()
            print(f"{seq}:{digest}")
            return 0
        verifier = ChainVerifier(checkpoint)
        async for record in store.records():
            verdict = verifier.add(record)
            if verdict is not None:
                break
        else:
            verdict = verifier.finish()
    except AuditUnavailable as exc:
        where = "HELSEGRAF_AUDIT_DSN" if settings.audit_dsn else settings.audit_path
        print(f"helsegraf audit {command}: {exc} ({where})", file=sys.stderr)
        return 2
    finally:
        await store.aclose()
    if verdict.ok:
        print(f"audit trail intact: {verdict.checked} records")
        return 0
    print(f"audit trail broken at record {verdict.first_broken_seq}: {verdict.reason}")
    return 1


def _parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per job, `audit` with its own two."""
    parser = argparse.ArgumentParser(prog="helsegraf", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the gateway (embedded mocks unless upstreams are set)")
    commands.add_parser("mocks", help="run the mock upstreams alone (HELSEGRAF_PORT sets the port)")
    commands.add_parser("schema", help="print the GraphQL SDL")
    token = commands.add_parser("token", help="print a bearer token for a mock persona")
    token.add_argument("persona", help="kari, ola, emil, ida, jonas, per, ...")
    token.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a claim, e.g. aud=other or exp=1700000000 (repeatable)",
    )
    audit = commands.add_parser("audit", help="check the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit.add_parser("verify", help="verify the hash chain; exit 1 naming the first break")
    verify.add_argument(
        "--checkpoint",
        type=_checkpoint,
        metavar="SEQ:HASH",
        help="an earlier `audit head`: also catches records removed from the end",
    )
    audit.add_parser("head", help="print the last record as SEQ:HASH, to keep as a checkpoint")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `helsegraf` console script."""
    args = _parser().parse_args(argv)

    if args.command == "schema":
        from gateway.schema import print_sdl

        sys.stdout.write(print_sdl())
        return 0
    if args.command == "token":
        try:
            print(_token(args.persona, args.claim))
        except (KeyError, ValueError) as exc:
            print(f"helsegraf token: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            return 2
        return 0
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"helsegraf: invalid settings: {_settings_problem(exc)}", file=sys.stderr)
        return 2
    configure_logging(json=settings.json_logs)
    if args.command == "audit":
        checkpoint = getattr(args, "checkpoint", None)
        return asyncio.run(_audit(settings, args.audit_command, checkpoint))
    if args.command == "mocks" and "HELSEGRAF_PORT" not in os.environ:
        settings = settings.model_copy(update={"port": 8001})  # beside the gateway's 8000
    try:
        _run(_serve_mocks(settings) if args.command == "mocks" else _serve(settings))
    except StartRefused as exc:
        print(f"helsegraf: invalid settings: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
