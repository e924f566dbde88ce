"""GraphQL documents parsed, validated and measured once, remembered within a byte bound.

Screens send the same few operations over and over, so each distinct text is parsed once
(for the operation limits and for execution alike), validated once per schema and rule
set, and measured once per budget and variables. What is remembered is bounded by bytes,
not by entries (one document's syntax tree can be a thousand times another's), in one
least-recently-used cache whose every entry is charged what it holds:

- a parsed document: `TEXT_COPIES` times its text (the source, and the copies tokens and
  nodes keep of names, strings and comments) and `BYTES_PER_TOKEN` for each token, since
  graphql-core keeps every token, comments included, linked from the tree. tracemalloc
  measured 220 (comments) to 600 (long names) bytes per token beyond that text, tree and
  tokens together (`tests/gateway/test_documents.py` holds the estimate to it);
- a validation pass or a limits verdict: `ENTRY_BYTES` (measured: 350-480 with the
  cache's own bookkeeping). They are kept under a digest of the text (and of the
  variables), never the text or the variables themselves.

A failed validation is not kept: its errors hold on to the whole tree, and a client that
sends invalid documents is not one to save work for.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

BYTES_PER_TOKEN = 640
TEXT_COPIES = 3
ENTRY_BYTES = 768
DEFAULT_MAX_BYTES = 16 * 2**20


def digest(*parts: str | bytes | None) -> bytes:
    """A short fixed-size key standing for `parts` (texts, variables) without holding them."""
    hashed = hashlib.blake2b(digest_size=16)
    for part in parts:
        if part is None:
            hashed.update(b"\xff" * 8)  # a length no part has
            continue
        data = part.encode() if isinstance(part, str) else part
        hashed.update(len(data).to_bytes(8, "big"))  # so ("ab", "c") is not ("a", "bc")
        hashed.update(data)
    return hashed.digest()


@dataclass(frozen=True, slots=True)
class _Kept:
    value: Any
    size: int


def _size_of(kept: _Kept) -> int:
    return kept.size


def _tokens(document: DocumentNode) -> int:
    """How many tokens the parsed tree keeps alive (its linked list, end to end)."""
    count = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        count += 1
        token = token.next
    return count


MISSING = object()  # what `DocumentCache.verdict` answers for a key it does not hold


class DocumentCache:
    """Parsed documents, validation passes and limits verdicts within `max_bytes`."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: LRUCache[Hashable, _Kept] = LRUCache(maxsize=max_bytes, getsizeof=_size_of)
        self._rule_sets: dict[tuple[type[ASTValidationRule], ...], Any] = {}

    @property
    def bytes(self) -> int:
        """What the entries held now are charged, at most `max_bytes`."""
        return int(self._entries.currsize)

    def _get(self, key: Hashable) -> Any:
        kept = self._entries.get(key)
        return MISSING if kept is None else kept.value

    def _put(self, key: Hashable, value: Any, size: int) -> None:
        if size <= self.max_bytes:  # else cachetools refuses it with ValueError
            self._entries[key] = _Kept(value, size)

    def parse(self, query: str) -> DocumentNode:
        """`query` parsed (the same tree for the same text; it is never mutated); raises
        graphql's GraphQLSyntaxError, which is not remembered."""
        key = ("parsed", digest(query))
        document = self._get(key)
        if document is MISSING:
            document = parse(query)
            text = TEXT_COPIES * sys.getsizeof(query)
            size = text + BYTES_PER_TOKEN * _tokens(document) + ENTRY_BYTES
            self._put(key, document, size)
        assert isinstance(document, DocumentNode)
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        rules: Sequence[type[ASTValidationRule]],
    ) -> list[GraphQLError]:
        """Strawberry's validation of `document` (parsed from `query`) under `rules`; a
        pass is remembered for this schema, rule set and text."""
        rule_set = self._rule_sets.setdefault(tuple(rules), tuple(rules))  # one per set
        key = ("valid", id(schema), rule_set, digest(query))
        if self._get(key) is not MISSING:
            return []
        errors = validate_document(schema, document, rule_set)
        if not errors:
            self._put(key, True, ENTRY_BYTES)
        return errors

    def verdict(self, key: Hashable) -> Any:
        """The verdict remembered under `key` (keep it small: a digest, a budget), else
        `MISSING`."""
        return self._get(("verdict", key))

    def remember(self, key: Hashable, verdict: object) -> None:
        """Remember a limits verdict under `key`."""
        self._put(("verdict", key), verdict, ENTRY_BYTES)


class CachedParse(SchemaExtension):
    """Strawberry's parsing step through a `DocumentCache` (the one the limits use)."""

    def __init__(self, documents: DocumentCache) -> None:
        super().__init__()
        self._documents = documents

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # On a syntax error Strawberry parses it again and reports the error its way.
            with contextlib.suppress(GraphQLError):
                context.graphql_document = self._documents.parse(context.query)
        yield


class CachedValidation(SchemaExtension):
    """Strawberry's validation step through a `DocumentCache`."""

    def __init__(self, documents: DocumentCache) -> None:
        super().__init__()
        self._documents = documents

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is not None:
            context.pre_execution_errors = self._documents.validate(
                context.schema._schema,
                context.query,
                context.graphql_document,
                context.validation_rules,
            )
        yield
