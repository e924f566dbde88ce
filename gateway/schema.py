"""The executable schema and its printed SDL."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError

from resolvers.mutations import Mutation
from resolvers.person import Query

log = logging.getLogger("helsegraf.graphql")


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, minus its error logging: errors may carry personal data, so
    the HTTP layer logs each failure by type and request id instead."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


def build_schema() -> GatewaySchema:
    """A fresh schema of the citizen graph."""
    return GatewaySchema(query=Query, mutation=Mutation)


def print_sdl() -> str:
    """The SDL as checked in to `schema.graphql` (with a trailing newline)."""
    return build_schema().as_str() + "\n"
