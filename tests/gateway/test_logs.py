"""Log lines: JSON objects with a request id, and no personal data, tokens or query text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.logs import HANDLER_NAME, REQUEST_ID, configure_logging, redact
from mocks.app import MockUpstreams
from tests.conftest import REFERENCE_DAY
from tests.e2e.conftest import NOON, gateway_settings

MOCKS = MockUpstreams(size=0, today=REFERENCE_DAY)
KARI = MOCKS.population.persona("kari")
QUERY = (
    "query HomeScreen($first: Int) "
    "{ viewer { person { name appointments(first: $first) { totalCount } } } }"
)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every log line, as the JSON handler writes it, for the length of one test."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging(json=True, stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= line.keys()
    return lines


async def _run(*requests: dict[str, Any], **settings: Any) -> list[httpx.Response]:
    app = create_app(
        gateway_settings(MOCKS, **settings),
        transport=httpx.ASGITransport(app=MOCKS.asgi()),
        clock=lambda: NOON,
    )
    responses = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        for request in requests:
            responses.append(await client.post("/graphql", **request))
    await app.state.services.aclose()
    return responses


async def test_a_full_request_logs_facts_not_personal_data(captured: io.StringIO) -> None:
    token = MOCKS.issuer.token_for(KARI)
    secret_variable = f"note about {KARI.nin}"
    ok, refused, unauthenticated = await _run(
        {
            "json": {"query": QUERY, "variables": {"first": 2}, "operationName": "HomeScreen"},
            "headers": {"authorization": f"Bearer {token}", "x-request-id": "req-0000001"},
        },
        {
            "json": {"query": QUERY, "variables": {"note": secret_variable}},
            "headers": {"authorization": f"Bearer {token}", "x-request-id": KARI.nin},
        },
        {"json": {"query": QUERY}, "headers": {"authorization": f"Bearer {token}x"}},
        rate_limit_per_minute_principal=1,
    )
    assert (ok.status_code, refused.status_code, unauthenticated.status_code) == (200, 429, 401)
    text = captured.getvalue()
    lines = _lines(captured)
    for secret in (
        KARI.nin,
        token,
        token[-40:],
        KARI.name,
        "Kari",
        "viewer",
        "appointments",
        secret_variable,
        "note about",
    ):
        assert secret not in text, secret
    access = [line for line in lines if line["logger"] == "helsegraf.access"]
    assert [line["status"] for line in access] == [200, 429, 401]
    first = access[0]
    assert first["request_id"] == "req-0000001"
    assert first["method"] == "POST"
    assert first["path"] == "/graphql"
    assert first["operation"] == "HomeScreen"
    assert first["principal"] == "citizen"
    assert first["client"] == "helsegraf-portal"
    assert isinstance(first["duration_ms"], float)
    assert access[1]["codes"] == ["RATE_LIMITED"]
    assert access[1]["request_id"] != KARI.nin  # a request id shaped like a nin is replaced
    assert access[2]["principal"] is None
    assert any(line["message"].startswith("refused a token") for line in lines)


async def test_unexpected_errors_log_type_and_stack_not_message(
    captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"row for {KARI.nin} ({KARI.name}) not written")

    app = create_app(
        gateway_settings(MOCKS), transport=httpx.ASGITransport(app=MOCKS.asgi()), clock=lambda: NOON
    )
    monkeypatch.setattr(app.state.services.audit, "append", broken)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        response = await client.post(
            "/graphql",
            json={"query": QUERY},
            headers={"authorization": f"Bearer {MOCKS.issuer.token_for(KARI)}"},
        )
    await app.state.services.aclose()
    assert response.status_code == 500
    failure = next(line for line in _lines(captured) if line["level"] == "error")
    assert failure["error"]["type"] == "RuntimeError"
    assert any("in broken" in frame for frame in failure["error"]["stack"])
    assert failure["request_id"] == response.headers["x-request-id"]
    assert KARI.nin not in captured.getvalue()
    assert KARI.name not in captured.getvalue()


def test_the_filter_redacts_eleven_digit_runs(captured: io.StringIO) -> None:
    log = logging.getLogger("helsegraf.test")
    reset = REQUEST_ID.set("abcdef12345678")
    try:
        log.warning("lookup of %s failed", "01017012345", extra={"fields": {"who": "01017012345"}})
    finally:
        REQUEST_ID.reset(reset)
    (line,) = _lines(captured)
    assert line["message"] == "lookup of <redacted> failed"
    assert line["who"] == "<redacted>"
    assert line["request_id"] == "abcdef12345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nin 01017012345.", "nin <redacted>."),
        ("a01017012345b", "a<redacted>b"),
        ("0101701234", "0101701234"),  # ten digits: not a national id's shape
        ("123456789012", "123456789012"),  # twelve
        ("took 12.5 ms", "took 12.5 ms"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_text_format_is_redacted_too() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(json=False, stream=stream)
    try:
        try:
            raise ValueError("bad 01017012345")
        except ValueError:
            logging.getLogger("helsegraf.test").exception("failed for 01017012345")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert "01017012345" not in stream.getvalue()
    assert stream.getvalue().startswith("ERROR helsegraf.test failed for <redacted>")
    assert [h for h in root.handlers if h.get_name() == HANDLER_NAME] == []
