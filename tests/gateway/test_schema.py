"""The checked-in SDL is the schema the code builds."""

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
)

from gateway.schema import build_schema, print_sdl

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_matches_the_code() -> None:
    checked_in = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert checked_in == print_sdl(), "schema.graphql is stale: run `make schema` and commit it"


def test_every_type_and_field_is_described() -> None:
    schema = build_schema()._schema
    missing: list[str] = []
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        assert isinstance(named, GraphQLNamedType)
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, field in named.fields.items() if not field.description]
        if isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not value.description]
    assert missing == []
