"""Persisted operations: the checked-in example operations, addressable by SHA-256 hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPERATIONS_DIR = Path(__file__).resolve().parents[1] / "operations"


def document_hash(document: str) -> str:
    """The hex SHA-256 of an operation document, as clients send it."""
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class PersistedOperations:
    """Known operation documents by hash."""

    by_hash: dict[str, str]
    names: dict[str, str]  # hash -> file stem, for logs

    @classmethod
    def load(cls, directory: Path = OPERATIONS_DIR) -> PersistedOperations:
        """Every `*.graphql` file in `directory`."""
        by_hash: dict[str, str] = {}
        names: dict[str, str] = {}
        for path in sorted(directory.glob("*.graphql")):
            document = path.read_text(encoding="utf-8")
            digest = document_hash(document)
            by_hash[digest] = document
            names[digest] = path.stem
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
