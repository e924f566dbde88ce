"""Batched JSON calls to the REST upstreams (national portal, municipalities).

Both speak JSON batching (`POST /$batch`, at most 20 sub-requests): the calls of one
dependency level go out as one HTTP request.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import orjson

from sources.coalescer import Coalescer
from sources.errors import UpstreamBadResponse, status_error
from sources.subject_cache import About, RequestCache
from sources.upstream import Upstream

MAX_BATCH = 20
PageKey = tuple[str, bytes]  # (path, canonical JSON body)


def _about(key: PageKey) -> About | None:
    """A search (`.../_search`) is about the person its body names (`nin`, or `holderNin`
    for powers of attorney); writes and searches of no one person are not cached."""
    path, body = key
    if not path.endswith("/_search"):
        return None
    asked = orjson.loads(body)
    subject = asked.get("nin") or asked.get("holderNin")
    return About(f"{path}|{body.decode()}", (subject,)) if isinstance(subject, str) else None


class RestBatcher:
    """Coalesces `POST path {body}` calls into `$batch` requests for one GraphQL request.

    Only for reads (`_search` endpoints): every call is sent as idempotent, so retried.
    """

    def __init__(
        self,
        upstream: Upstream,
        cache: RequestCache | None = None,
        *,
        fresh: Collection[str] = (),
    ) -> None:
        """`cache` keeps searches about one person across requests (`sources.subject_cache`);
        reads of the `fresh` paths never come from it, and their answers are kept in
        `fresh_reads` (what this request's access decisions rested on)."""
        self._upstream = upstream
        self._fresh = frozenset(fresh)
        self.fresh_reads: dict[PageKey, Any] = {}

        def about(key: PageKey) -> About | None:
            return None if key[0] in self._fresh else _about(key)

        dispatch = (
            self._dispatch if cache is None else cache.through(upstream.name, about, self._dispatch)
        )
        self._calls: Coalescer[PageKey, Any] = Coalescer(dispatch)

    @property
    def source(self) -> str:
        """The upstream's name."""
        return self._upstream.name

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to `path`, batched with every sibling call; returns the JSON object."""
        key = (path, orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
        result = await self._calls.load(key)
        if not isinstance(result, dict):
            raise UpstreamBadResponse(self.source, path, "not a JSON object")
        if path in self._fresh:
            self.fresh_reads[key] = result
        return result

    async def read_many(self, keys: Sequence[PageKey]) -> list[Any]:
        """The answers to these reads, asked together (one `$batch` per twenty), never from
        any cache; a failed read is an `UpstreamError` in its place, or raised."""
        return await self._dispatch(keys)

    async def post_all(self, path: str, body: dict[str, Any], items: str) -> list[Any]:
        """Every item of a paged list endpoint, following `nextPageToken`."""
        out: list[Any] = []
        page: dict[str, Any] = dict(body)
        for _ in range(100):  # a hard stop, should an upstream page forever
            result = await self.post(path, page)
            values = result.get(items)
            if not isinstance(values, list):
                raise UpstreamBadResponse(self.source, path, f"no {items} list")
            out.extend(values)
            token = result.get("nextPageToken")
            if not token:
                return out
            page = {**body, "pageToken": token}
        raise UpstreamBadResponse(self.source, path, "too many pages")

    async def _dispatch(self, keys: Sequence[PageKey]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(keys), MAX_BATCH):
            chunk = keys[start : start + MAX_BATCH]
            if len(chunk) == 1:
                path, body = chunk[0]
                out.append(
                    await self._upstream.call(
                        "POST", path, operation=path, json_body=orjson.loads(body), idempotent=True
                    )
                )
                continue
            out.extend(await self._batch(chunk))
        return out

    async def _batch(self, keys: Sequence[PageKey]) -> list[Any]:
        requests = [
            {"id": str(n), "method": "POST", "url": path, "body": orjson.loads(body)}
            for n, (path, body) in enumerate(keys)
        ]
        response = await self._upstream.call(
            "POST", "$batch", operation="batch", json_body={"requests": requests}, idempotent=True
        )
        responses = response.get("responses") if isinstance(response, dict) else None
        if not isinstance(responses, list):
            raise UpstreamBadResponse(self.source, "batch", "no responses list")
        by_id = {str(r.get("id")): r for r in responses if isinstance(r, dict)}
        out: list[Any] = []
        for n, (path, _) in enumerate(keys):
            item = by_id.get(str(n))
            if item is None:
                out.append(UpstreamBadResponse(self.source, path, "missing batch response"))
                continue
            status = item.get("status")
            error = status_error(self.source, path, status if isinstance(status, int) else 500)
            out.append(error if error is not None else item.get("body"))
        return out
