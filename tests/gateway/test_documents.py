"""The document cache holds what it is charged for, and no more than its bound."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

import pytest
from graphql import GraphQLSyntaxError, specified_rules

from gateway.documents import DocumentCache, digest
from gateway.schema import build_schema

# Documents of ~1,000 tokens or ~20,000 characters, each dense in a different way.
SHAPES: dict[str, Callable[[int], str]] = {
    "fields": lambda n: "{ " + "a " * 1000 + f"b{n} }}",
    "comments": lambda n: "{ a }\n" + "# c\n" * 1000 + f"# {n}\n",
    "arguments": lambda n: "{ " + "a(b: 1) " * 200 + f"b{n} }}",
    "lists": lambda n: "{ a(b: [" + "1 " * 1000 + f"{n}]) }}",
    "strings": lambda n: '{ a(b: ["' + '" "'.join("x" * 20 for _ in range(500)) + f'"]) b{n} }}',
    "long-names": lambda n: "{ " + " ".join(f"{'a' * 200}{i}" for i in range(100)) + f" b{n} }}",
    "long-strings": lambda n: '{ a(b: """' + "x" * 20_000 + f'""") b{n} }}',
    "variables": lambda n: "query(" + "$a: Int " * 330 + f") {{ b{n} }}",
}


def held(max_bytes: int, fill: Callable[[DocumentCache], None]) -> int:
    """The bytes a cache of `max_bytes` filled by `fill` holds: what is freed when it goes
    (what validating or parsing leaves elsewhere, e.g. CPython's type cache, is not its)."""
    gc.collect()
    tracemalloc.start()
    try:
        caches = [DocumentCache(max_bytes)]
        fill(caches[0])
        assert caches[0].bytes <= max_bytes
        gc.collect()
        full = tracemalloc.get_traced_memory()[0]
        caches.clear()
        gc.collect()
        return full - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", SHAPES)
def test_many_distinct_large_documents_stay_within_the_bound(shape: str) -> None:
    make = SHAPES[shape]

    def fill(cache: DocumentCache) -> None:
        for n in range(12):  # 12 x 1,000 tokens: several times the bound if all were kept
            cache.parse(make(n))
        assert cache.parse(make(11)) is cache.parse(make(11))  # the latest are kept

    bound = 2**20
    assert held(bound, fill) <= bound


def test_passes_and_verdicts_stay_within_the_bound() -> None:
    schema = build_schema()._schema
    document = DocumentCache().parse("{ __typename }")

    def fill(cache: DocumentCache) -> None:
        for n in range(250):  # 500 entries: four times what the bound holds
            cache.remember(digest(f"{n}", "x" * 1000), None)
            cache.validate(schema, f"{{ __typename }} # {n}", document, specified_rules)

    bound = 64 * 1024
    assert held(bound, fill) <= bound


def test_a_syntax_error_is_raised_and_not_kept() -> None:
    cache = DocumentCache()
    with pytest.raises(GraphQLSyntaxError):
        cache.parse("{ a ")
    assert cache.bytes == 0


def test_a_failed_validation_is_not_kept() -> None:
    cache = DocumentCache()
    schema = build_schema()._schema
    query = "{ nosuchfield }"
    document = cache.parse(query)
    charged = cache.bytes
    for _ in range(2):
        assert cache.validate(schema, query, document, specified_rules)
    assert cache.bytes == charged  # only the parsed tree


def test_digests_keep_parts_apart() -> None:
    assert digest("ab", "c") != digest("a", "bc")
    assert digest("a", None) != digest("a", "") != digest("a", b"\xff")
    assert digest("a", b"{}") == digest("a", "{}")
