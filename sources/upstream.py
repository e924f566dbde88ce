"""One long-lived HTTP connection pool per upstream, with a total deadline per call.

Every upstream call goes through `Upstream.call`, which owns the upstream's resilience:
a deadline from connect to last byte (retries and queueing included), a bulkhead (a
concurrency limit and a bounded queue), a circuit breaker, budgeted retries of
idempotent reads, a response size cap, a byte budget shared with the gateway's other
upstreams (`sources.buffers`), JSON content only, and no redirects.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any, Literal

import httpx
import orjson

from sources.bodies import check_answer, read_body
from sources.buffers import BufferBudget, Reservation
from sources.bulkhead import Bulkhead, BulkheadFull
from sources.errors import (
    UpstreamBadResponse,
    UpstreamError,
    UpstreamSaturated,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sources.network import answers, pooled_client, unreached
from sources.resilience import CircuitBreaker, RetryBudget, RetryPolicy
from sources.waiting import waiting

MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class Upstream:
    """An upstream's base URL, pool, deadline and resilience; every call returns JSON or raises.

    Example:
        ehr = Upstream("EHR", "https://ehr.example/fhir/R4", timeout_s=2.0, max_concurrency=20)
        bundle = await ehr.call("GET", "Patient/1", operation="read Patient", idempotent=True)
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout_s: float,
        max_connections: int = 50,
        max_concurrency: int = 32,
        max_queue: int | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        budget: RetryBudget | None = None,
        buffers: BufferBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        network: Literal["aiohttp", "httpx"] = "aiohttp",
    ) -> None:
        """`transport` replaces the network (tests, embedded mocks); otherwise `network`
        picks how httpx reaches it: aiohttp's connection handling (measured 4x the calls
        per second at 1/7 of the CPU per call under concurrency, `benchmarks/transport.py`)
        or httpx's own. `max_queue` calls may wait for one of the `max_concurrency` slots
        (as many as there are slots unless said); more are refused at once. `buffers` is
        the byte budget every upstream of the gateway shares (a budget of its own, at the
        default size, when not given)."""
        self.name = name
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(name)
        self.budget = budget or RetryBudget()
        self.buffers = buffers or BufferBudget()
        # the bulkhead: a slot is held while a request is open (until its answer, or for a
        # streamed download its status and headers, have arrived)
        self.bulkhead = Bulkhead(
            max_concurrency, max_concurrency if max_queue is None else max_queue
        )
        self._rng = random.Random()  # noqa: S311 (backoff jitter, not a secret)
        self.client, self._transport = pooled_client(
            base_url,
            timeout_s=timeout_s,
            max_connections=max_connections,
            transport=transport,
            network=network,
        )
        # `call` hands its requests to the transport itself: the client's per-request work
        # (auth and redirect flows, cookie jar, url merging) measured a fifth of a cold
        # call's CPU, and an upstream's cookies must never be kept between citizens anyway.
        self._headers = dict(self.client.headers)
        self._timeout = httpx.Timeout(self.timeout_s).as_dict()
        self._urls: dict[str, httpx.URL] = {}

    def _url(self, path: str) -> httpx.URL:
        """The absolute url of `path` (few distinct paths per upstream: remembered)."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) > 1024:  # reads by id have paths of their own
                self._urls.clear()
            url = self._urls[path] = self.client.base_url.join(path.lstrip("/"))
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        """A request to `path` with the upstream's default headers and `headers` over them,
        and nothing kept from any earlier exchange (no cookies)."""
        return httpx.Request(
            method,
            self._url(path),
            content=content,
            headers={**self._headers, **(headers or {})},
            extensions={"timeout": self._timeout},
        )

    async def open(self, request: httpx.Request) -> httpx.Response:
        """Send a `request` (from `request`) and return the response with its body unread;
        the caller maps failures and closes it. Only for callers that own the resilience
        around it, as `call` and a streamed download do."""
        return await self._transport.handle_async_request(request)

    async def ping(self, path: str) -> bool:
        """True when the upstream answers `GET path` with anything but a server error."""
        return await answers(self.client, path, self.timeout_s)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: Any = None,
        form: str | None = None,
        content_type: str = "application/json",
        not_found_ok: bool = False,
        idempotent: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON body.

        The whole call (waiting for a slot, every attempt and every pause between them)
        must finish within the upstream's deadline. Only `idempotent` calls (reads, even
        when sent as POST) are retried, and only after the upstream was unavailable.
        Maps every failure onto the `UpstreamError` family; `headers` are sent as given
        (`If-Match`, `If-None-Exist`, ...).
        """
        content: bytes | None = None
        sent: dict[str, str] = dict(headers or {})
        if form is not None:
            content = form.encode()
            sent["content-type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            content = orjson.dumps(json_body)
            sent["content-type"] = content_type
        request = self.request(method, path, content=content, headers=sent)
        with waiting():  # the request waits on this upstream, not on the gateway's CPU
            return await self._attempts(request, operation, not_found_ok, idempotent)

    async def _attempts(
        self, request: httpx.Request, operation: str, not_found_ok: bool, idempotent: bool
    ) -> Any:
        """Send `request` until it is answered, retried as `_retry_wait` allows, all within
        the deadline; the breaker hears the verdict on each attempt that went out, and an
        admission whose attempt never did is given back without one."""
        ticket: int | None = None  # the breaker's ticket while an attempt is admitted
        queued = False
        try:
            async with asyncio.timeout(self.timeout_s) as deadline:
                for retry in range(self.retry.attempts):
                    ticket = self.breaker.admit(operation)
                    queued = True
                    async with self.bulkhead:
                        queued = False
                        if retry == 0:  # a first attempt that goes out earns retries
                            self.budget.record_call()
                        try:
                            result = await self._exchange(request, operation, not_found_ok)
                        except UpstreamUnavailable as exc:
                            self.breaker.failure(ticket)
                            ticket = None
                            failure = exc
                        except UpstreamError as exc:
                            self._verdict(ticket, exc)
                            ticket = None
                            raise
                        else:
                            self.breaker.success(ticket)
                            ticket = None
                            return result
                    wait = self._retry_wait(retry, failure, deadline, idempotent)
                    if wait is None:
                        raise failure
                    await asyncio.sleep(wait)
                raise AssertionError("unreachable: the last attempt raises or returns")
        except BulkheadFull as exc:
            assert ticket is not None
            self.breaker.release(ticket)  # never sent: no verdict on the upstream
            raise UpstreamSaturated(self.name, operation, "every slot busy, queue full") from exc
        except TimeoutError as exc:
            raise self._late(ticket, queued, operation) from exc
        except BaseException:
            if ticket is not None:
                self.breaker.release(ticket)
            raise

    def _verdict(self, ticket: int, exc: UpstreamError) -> None:
        """Tell the breaker how an attempt that raised `exc` (other than the upstream being
        unavailable) went: full buffers are the gateway's, no verdict on the upstream; a
        timeout is a failure; any other error came with an answer, so the upstream is up."""
        if isinstance(exc, UpstreamSaturated):
            self.breaker.release(ticket)
        elif isinstance(exc, UpstreamTimeout):
            self.breaker.failure(ticket)
        else:
            self.breaker.success(ticket)

    def _retry_wait(
        self, retry: int, failure: UpstreamUnavailable, deadline: asyncio.Timeout, idempotent: bool
    ) -> float | None:
        """The pause before trying again after `failure`, or None when there is no retry:
        the attempts are used up, the call is not idempotent, no pause ends before the
        deadline, or the retry budget is spent."""
        when = deadline.when()
        remaining = (
            (when - asyncio.get_running_loop().time()) if when is not None else self.timeout_s
        )
        wait = self.retry.delay(
            retry, retry_after_s=failure.retry_after_s, remaining_s=remaining, rng=self._rng
        )
        if not idempotent or wait is None or not self.budget.try_retry():
            return None
        return wait

    def _late(self, ticket: int | None, queued: bool, operation: str) -> UpstreamError:
        """The error for a call whose deadline passed, the breaker told: still queued for a
        slot, the gateway was saturated (no verdict); sent, the upstream timed out."""
        if ticket is not None and queued:
            self.breaker.release(ticket)
            return UpstreamSaturated(self.name, operation, "no free connection slot")
        if ticket is not None:
            self.breaker.failure(ticket)
        return UpstreamTimeout(self.name, operation)

    async def _exchange(self, request: httpx.Request, operation: str, not_found_ok: bool) -> Any:
        """One attempt: send `request`, check the answer (`sources.bodies.check_answer`) and
        decode its JSON body, read within the size cap and the shared byte budget."""
        try:
            response = await self.open(request)
        except (httpx.HTTPError, OSError) as exc:
            raise unreached(exc, self.name, operation) from exc
        try:
            check_answer(response, self.name, operation, not_found_ok)
            with self.buffers.hold() as held:  # given back however the call ends
                body = await self._read(response, operation, held)
                await response.aclose()
                try:
                    return orjson.loads(body)
                except orjson.JSONDecodeError:
                    pass  # not chained: the decode error keeps the whole document (`doc`)
                body = b""
                raise UpstreamBadResponse(self.name, operation, "invalid JSON")
        finally:
            await response.aclose()

    async def _read(
        self, response: httpx.Response, operation: str, held: Reservation
    ) -> bytes | bytearray:
        """The body, within the size cap and the shared byte budget (`sources.bodies`)."""
        limit = min(self.max_response_bytes, self.buffers.capacity)
        return await read_body(response, held, limit=limit, source=self.name, operation=operation)
