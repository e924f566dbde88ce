"""Log lines without personal data: JSON objects in production, text in development.

Callers log facts (codes, counts, types, durations) and the request id, never tokens,
national identity numbers, names, query text or variables. Structured values go in
`extra={"fields": {...}}`; only those reach the output, so a stray attribute never does.
As a last line of defence every 11-digit run in a message or field is redacted.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import traceback
from contextvars import ContextVar
from typing import Any, TextIO

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("helsegraf_request_id", default=None)
"""The id of the request being served, added to every line logged while it runs."""

NATIONAL_ID_RUN = re.compile(r"(?<!\d)\d{11}(?!\d)")
REDACTED = "<redacted>"
TEXT_FORMAT = "%(levelname)s %(name)s %(message)s"
HANDLER_NAME = "helsegraf"


def redact(text: str) -> str:
    """`text` with every run of exactly eleven digits (a national id's shape) redacted."""
    return NATIONAL_ID_RUN.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


class RedactNationalIds(logging.Filter):
    """Redacts 11-digit runs from the message and `fields`, and stamps the request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: _redact_value(v) for k, v in fields.items()}
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then `fields`.

    An exception is logged as its type and stack frames, never its message, which may
    quote upstream data.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = {
                "type": record.exc_info[0].__name__,
                "stack": [
                    f"{frame.filename}:{frame.lineno} in {frame.name}"
                    for frame in traceback.extract_tb(record.exc_info[2])
                ],
            }
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`LEVEL logger message key=value ...`, redacted as a whole (tracebacks included)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            text += f" request_id={request_id}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        return text

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (as `logging.lastResort` does)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def configure_logging(*, json: bool, stream: TextIO | None = None) -> logging.Handler:
    """Route every logger through one redacting handler on `stream` (stderr by default),
    replacing the one an earlier call installed and leaving other handlers alone."""
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    )
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    handler.addFilter(RedactNationalIds())
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs every URL at INFO
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return handler
