"""The reads of one dependency level, sent to a FHIR server together: one alone, several
as one FHIR batch Bundle; every one of them safe to retry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sources.errors import UpstreamBadResponse, status_error
from sources.upstream import Upstream


def _reads_only(bundle: dict[str, Any]) -> bool:
    """True when every entry of a batch Bundle is a GET: the batch is safe to retry."""
    return all(e["request"]["method"] == "GET" for e in bundle["entry"])


class BatchReads:
    """Sends the relative FHIR urls of one dispatch (`sources.coalescer`) to `upstream`,
    naming `source` in the errors; a batch is retried only when every entry is a read."""

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
            idempotent=_reads_only(bundle),
        )
        entries = response.get("entry") if isinstance(response, dict) else None
        if (
            response.get("type") != "batch-response"
            or not isinstance(entries, list)
            or len(entries) != len(urls)
        ):
            raise UpstreamBadResponse(self._source, "batch", "malformed batch-response")
        out: list[Any] = []
        for url, entry in zip(urls, entries, strict=True):
            status_text = str((entry.get("response") or {}).get("status", "500"))
            status = int(status_text.split()[0]) if status_text.split()[0].isdigit() else 500
            error = status_error(self._source, url.split("?", 1)[0].split("/", 1)[0], status)
            out.append(error if error is not None else entry.get("resource"))
        return out

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
