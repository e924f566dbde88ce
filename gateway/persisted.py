"""Persisted operations: the safelist of operation documents, addressable by SHA-256 hash.

By default the operations shipped beside the gateway, in the folder `operations/` (a
package only so that a wheel carries its files as package data, as a checkout does);
`HELSEGRAF_OPERATIONS_PATH` names a directory of `*.graphql` files instead. The folder is
found beside the `gateway` package, never imported by name: a directory named
`operations` earlier on `sys.path` must not become the safelist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The shipped operations on disk (beside the `gateway` package, in a checkout and in a
# wheel alike); tests and benchmarks read one by name.
OPERATIONS_DIR = Path(__file__).resolve().parents[1] / "operations"


class SafelistError(ValueError):
    """The safelist cannot be read, or is empty; the message names the setting to fix."""


def document_hash(document: str) -> str:
    """The hex SHA-256 of an operation document, as clients send it."""
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class PersistedOperations:
    """Known operation documents by hash."""

    by_hash: dict[str, str]
    names: dict[str, str]  # hash -> file stem, for logs

    @classmethod
    def load(cls, path: str | None = None) -> PersistedOperations:
        """Every `*.graphql` file in the directory at `path` (`HELSEGRAF_OPERATIONS_PATH`),
        or in the shipped operations when None. Raises `SafelistError` when the directory
        or any file in it cannot be read, or a file is not UTF-8: a safelist missing some
        operations would refuse them at some later request instead of at start."""
        where = "the shipped operations" if path is None else f"HELSEGRAF_OPERATIONS_PATH {path!r}"
        directory = OPERATIONS_DIR if path is None else Path(path)
        try:
            entries = sorted(
                (entry for entry in directory.iterdir() if entry.name.endswith(".graphql")),
                key=lambda entry: entry.name,
            )
        except OSError as exc:
            raise SafelistError(f"{where} is not a readable directory") from exc
        by_hash: dict[str, str] = {}
        names: dict[str, str] = {}
        for entry in entries:
            try:
                document = entry.read_text(encoding="utf-8")
            except OSError as exc:
                raise SafelistError(f"{where}: {entry.name} cannot be read") from exc
            except UnicodeDecodeError as exc:
                raise SafelistError(f"{where}: {entry.name} is not UTF-8 text") from exc
            digest = document_hash(document)
            by_hash[digest] = document
            names[digest] = entry.name.removesuffix(".graphql")
        return cls(by_hash, names)

    def requested_hash(self, params: dict[str, Any]) -> str | None:
        """The hash a request names: `documentId` ("sha256:<hex>") or Apollo's
        `extensions.persistedQuery.sha256Hash`; None when it names none."""
        document_id = params.get("documentId")
        if isinstance(document_id, str):
            return document_id.removeprefix("sha256:")
        extensions = params.get("extensions")
        if isinstance(extensions, dict):
            persisted = extensions.get("persistedQuery")
            if isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str):
                return str(persisted["sha256Hash"])
        return None
