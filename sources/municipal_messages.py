"""Messages kept by a municipality's own messaging API (municipalities not on the shared
EHR): list, send, mark read, as typed records."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from authz.facts import NO_LABELS, Security
from sources.errors import UpstreamBadResponse, UpstreamNotFound
from sources.models import Message, SourceKind, SourceRef
from sources.ownership import own_items

if TYPE_CHECKING:
    from sources.municipal import MunicipalClient


def _security(item: dict[str, Any]) -> Security:
    by_guardian = item.get("sentBy") == "PARENT"
    if not by_guardian and not item.get("keptFromGuardians"):
        return NO_LABELS
    return Security(
        kept_from_guardians=bool(item.get("keptFromGuardians")), written_by_guardian=by_guardian
    )


def _message(item: dict[str, Any], municipality: str) -> Message:
    identifier, thread, text = item["id"], item["threadId"], item["text"]
    if not all(isinstance(v, str) and v for v in (identifier, thread, text)):
        raise ValueError("id, threadId and text must be texts")
    sent = item.get("sentAt")
    return Message(
        id=identifier,
        source=SourceRef(SourceKind.MUNICIPAL, municipality),
        thread_id=thread,
        sent_at=dt.datetime.fromisoformat(sent) if sent else None,
        from_patient=item.get("fromResident") is True,
        subject=item.get("subject"),
        text=text,
        read=item.get("read") is not False,
        counterpart=item.get("office"),
        security=_security(item),
        counterpart_kind="MUNICIPALITY",
        counterpart_key=f"municipality:{municipality}",
    )


def _parsed(item: Any, municipality: str, operation: str) -> Message:
    try:
        return _message(item, municipality)
    except (KeyError, TypeError, ValueError) as exc:
        raise UpstreamBadResponse(
            f"MUNICIPAL {municipality}", operation, "malformed message"
        ) from exc


class MunicipalMessages:
    """The resident's messages with their municipality, where it keeps them itself."""

    def __init__(self, client: MunicipalClient) -> None:
        self._client = client

    async def of(self, municipality: str, nin: str) -> list[Message]:
        """The resident's messages with their municipality, newest first."""
        batcher = self._client.batcher(municipality)
        try:
            found = await batcher.post_all("/messages/_search", {"nin": nin}, "messages")
        except UpstreamNotFound:
            return []  # not (or no longer) a resident there: nothing to show
        items = own_items(found, {nin}, source=batcher.source, kind="message")
        return [_parsed(i, municipality, "messages") for i in items]

    async def send(
        self,
        municipality: str,
        nin: str,
        *,
        subject: str | None,
        text: str,
        thread_id: str | None,
        sent_by: str,
        idempotency: str,
    ) -> Message:
        """Send a message to the municipality; the key makes a retry return the first one."""
        body: dict[str, Any] = {"nin": nin, "text": text, "sentBy": sent_by}
        body["idempotencyKey"] = idempotency
        if subject:
            body["subject"] = subject
        if thread_id:
            body["threadId"] = thread_id
        answer = await self._client.batcher(municipality).post("/messages", body)
        return _parsed(answer.get("message"), municipality, "send message")

    async def mark_read(self, municipality: str, nin: str, message_id: str) -> Message | None:
        """Mark one message to the resident read; None when the municipality has no such one."""
        try:
            answer = await self._client.batcher(municipality).post(
                f"/messages/{message_id}/read", {"nin": nin}
            )
        except UpstreamNotFound:
            return None
        return _parsed(answer.get("message"), municipality, "mark message read")
