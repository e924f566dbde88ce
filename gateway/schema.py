"""The executable schema and its printed SDL."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache

from resolvers.mutations import Mutation
from resolvers.person import Query

log = logging.getLogger("helsegraf.graphql")


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, minus its error logging: errors may carry personal data, so
    the HTTP layer logs each failure by type and request id instead."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


def build_schema(*, introspection: bool = True) -> GatewaySchema:
    """A fresh schema of the citizen graph; parsed and validated documents are cached
    (screens send the same few operations over and over)."""
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return GatewaySchema(query=Query, mutation=Mutation, extensions=extensions)


def print_sdl() -> str:
    """The SDL as checked in to `schema.graphql` (with a trailing newline)."""
    return build_schema().as_str() + "\n"
