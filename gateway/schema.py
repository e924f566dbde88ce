"""The executable schema and its printed SDL."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection

from gateway.documents import CachedParse, CachedValidation, DocumentCache
from resolvers.mutations import Mutation
from resolvers.person import Query

log = logging.getLogger("helsegraf.graphql")


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, minus its error logging: errors may carry personal data, so
    the HTTP layer logs each failure by type and request id instead. `documents` holds
    what it parsed and validated, for the operation limits to share."""

    documents: DocumentCache

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


def build_schema(
    *, introspection: bool = True, documents: DocumentCache | None = None
) -> GatewaySchema:
    """A fresh schema of the citizen graph; parsed and validated documents are kept in
    `documents` (screens send the same few operations over and over), within its byte
    bound, shared with the operation limits."""
    kept = documents if documents is not None else DocumentCache()
    extensions: list[Any] = [lambda: CachedParse(kept), lambda: CachedValidation(kept)]
    if not introspection:
        extensions.append(DisableIntrospection)
    schema = GatewaySchema(query=Query, mutation=Mutation, extensions=extensions)
    schema.documents = kept
    return schema


def print_sdl() -> str:
    """The SDL as checked in to `schema.graphql` (with a trailing newline)."""
    return build_schema().as_str() + "\n"
