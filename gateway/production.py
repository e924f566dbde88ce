"""What production mode changes in GraphQL: no introspection, and (in
`gateway.responses.format_error`) error messages that name nothing of the schema."""

from __future__ import annotations

from gateway.schema import GatewaySchema, build_schema
from gateway.settings import Settings


def schema_for(settings: Settings) -> GatewaySchema:
    """The citizen graph; in production it refuses `__schema` and `__type` (a validation
    error) while `__typename` keeps working."""
    return build_schema(introspection=not settings.production)
