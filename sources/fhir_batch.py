"""The reads of one dependency level, sent to a FHIR server together: one alone, several
as one FHIR batch Bundle; every one of them safe to retry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sources.errors import UpstreamBadResponse, status_error
from sources.upstream import Upstream


class BatchReads:
    """Sends the relative FHIR urls of one dispatch (`sources.coalescer`) to `upstream`,
    naming `source` in the errors; every entry is a read (GET), so a batch is safe to retry."""

    __slots__ = ("_source", "_upstream")

    def __init__(self, upstream: Upstream, source: str) -> None:
        self._upstream = upstream
        self._source = source

    async def __call__(self, urls: Sequence[str]) -> list[Any]:
        """The answer to each of `urls` (a resource, a searchset Bundle, or the error its
        batch entry carries), in order."""
        if len(urls) == 1:
            return [await self._single(urls[0])]
        bundle = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"request": {"method": "GET", "url": url}} for url in urls],
        }
        response = await self._upstream.call(
            "POST",
            "",
            operation="batch",
            json_body=bundle,
            content_type="application/fhir+json",
            idempotent=True,  # only GETs
        )
        entries = response.get("entry") if isinstance(response, dict) else None
        if (
            not isinstance(response, dict)
            or response.get("type") != "batch-response"
            or not isinstance(entries, list)
            or len(entries) != len(urls)
        ):
            raise UpstreamBadResponse(self._source, "batch", "malformed batch-response")
        return [self._entry(url, entry) for url, entry in zip(urls, entries, strict=True)]

    def _entry(self, url: str, entry: Any) -> Any:
        """One batch entry's resource, or the error it carries; a malformed entry is a
        bad answer to its read alone."""
        operation = url.split("?", 1)[0].split("/", 1)[0]
        response = entry.get("response") if isinstance(entry, dict) else None
        status = response.get("status") if isinstance(response, dict) else None
        code = str(status).split(maxsplit=1)[0] if status else ""
        if not code.isdigit():
            return UpstreamBadResponse(self._source, operation, "malformed batch entry")
        error = status_error(self._source, operation, int(code))
        return error if error is not None else entry.get("resource")

    async def _single(self, url: str) -> Any:
        """One read alone: `Type/id` as GET, a search as POST `_search`."""
        path, _, query = url.partition("?")
        if not query:  # a read: Type/id
            return await self._upstream.call(
                "GET", path, operation=f"read {path.split('/')[0]}", idempotent=True
            )
        # POST _search keeps search values (identifiers) out of URLs and access logs; it
        # is a read, so as safe to retry as a GET.
        return await self._upstream.call(
            "POST", f"{path}/_search", operation=f"search {path}", form=query, idempotent=True
        )
