"""Operation limits, checked before anything executes, per kind of caller.

The HTTP layer checks, in this order and each before the next step's work:
the request body's size (`gateway.graphql_http`, as it streams in),
`check_document_size` (characters, before lexing: comments and whitespace cost parsing
time too), `count_tokens` (before parsing), `check_batch` (operations in one request),
and `check_document` (after parsing, before validation): depth, aliases, directives,
duplicated fields and an estimated cost.
A refused request makes no upstream call; `LimitExceeded` names the limit and two
numbers, never a field name or any of the query text.

`check_document` expands fragments (a spread counts as if its fields were written
in place, each time it is spread) and measures the operation that will run: the one
named `operation_name`, or the only one. When the name is missing or matches no
operation, every operation in the document is measured on its own, so nothing that
might run escapes the check (execution then refuses the ambiguity). A fragment that
spreads itself, directly or not, is expanded once on each path and then left to
validation, which reports the cycle.

- depth: the most fields nested inside one another (`{ a { b } }` is 2);
  fragments and inline fragments add no depth.
- aliases: aliased fields, counted as expanded.
- directives: directive uses, counted as expanded, including those on the
  operation, its variables and fragment definitions.
- duplicate fields: the most times one response key repeats within one selection
  set once its fragments are merged in (`{ a a a }` repeats `a` twice); a small
  allowance lets a fragment ask again for a field (say `id`) its parent asks for.

The cost model (see `gateway.cost`) estimates the work an operation causes, lists
included, and is an upper bound, so it is compared with `max_cost` while it is
computed: the walk stops as soon as the budget is spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    Source,
    TokenKind,
)
from graphql.language import Lexer

from gateway.cost import Cost, Overrun, measure

__all__ = [
    "BUDGETS",
    "Budget",
    "Cost",
    "LimitExceeded",
    "LimitName",
    "check_batch",
    "check_body",
    "check_document",
    "check_document_size",
    "count_tokens",
    "largest_body",
]

LimitName = Literal[
    "depth",
    "aliases",
    "tokens",
    "directives",
    "duplicate_fields",
    "cost",
    "body_size",
    "document_size",
    "batch_size",
]


@dataclass(frozen=True, slots=True)
class Budget:
    """What one kind of caller may ask for in one request; the defaults are a citizen's.

    Example:
        >>> Budget(max_depth=6).max_depth
        6
    """

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_directives: int = 20
    max_duplicate_fields: int = 3
    max_cost: int = 5000
    max_body_bytes: int = 100_000
    max_document_chars: int = 20_000
    max_batch_operations: int = 5
    default_list_size: int = 20  # the expected size of a list with no `first` to go by


BUDGETS: dict[str, Budget] = {
    "citizen": Budget(),
    # Partner services run persisted operations only: room for those and no more.
    "partner": Budget(
        max_depth=10,
        max_aliases=10,
        max_tokens=1000,
        max_directives=10,
        max_duplicate_fields=0,
        max_cost=3000,
        max_body_bytes=20_000,
        max_document_chars=10_000,
        max_batch_operations=2,
    ),
    # Analysts read aggregate statistics: shallow, small documents.
    "analyst": Budget(
        max_depth=6,
        max_aliases=10,
        max_tokens=500,
        max_directives=5,
        max_duplicate_fields=0,
        max_cost=1000,
        max_body_bytes=10_000,
        max_document_chars=5_000,
        max_batch_operations=1,
    ),
}

_DESCRIPTIONS: dict[str, str] = {
    "depth": "operation exceeds the depth",
    "aliases": "operation exceeds the alias",
    "tokens": "operation exceeds the token",
    "directives": "operation exceeds the directive",
    "duplicate_fields": "operation exceeds the duplicate-field",
    "cost": "operation exceeds the cost",
    "body_size": "request exceeds the body size",
    "document_size": "operation exceeds the document size",
    "batch_size": "request exceeds the batch size",
}


@dataclass(frozen=True, slots=True)
class LimitExceeded(Exception):
    """A request over its caller's budget; nothing has run. `str()` names the limit and
    the two numbers only. Where a check stops early (tokens, cost), `actual` is the
    count when it stopped: a lower bound of the full count."""

    limit: LimitName
    actual: int
    maximum: int

    def __str__(self) -> str:
        return f"The {_DESCRIPTIONS[self.limit]} limit ({self.actual} > {self.maximum})."


def check_body(size: int, budget: Budget) -> None:
    """Refuse a request body of more than `budget.max_body_bytes` bytes."""
    if size > budget.max_body_bytes:
        raise LimitExceeded("body_size", size, budget.max_body_bytes)


def largest_body(budgets: Mapping[str, Budget]) -> int:
    """The most bytes any caller may send: a body declared longer is refused before the
    token is even looked at."""
    return max(budget.max_body_bytes for budget in budgets.values())


def check_document_size(source: str, budget: Budget) -> None:
    """Refuse a document of more than `budget.max_document_chars` characters, before any
    work on its text."""
    if len(source) > budget.max_document_chars:
        raise LimitExceeded("document_size", len(source), budget.max_document_chars)


def check_batch(size: int, budget: Budget) -> None:
    """Refuse a batch of more than `budget.max_batch_operations` operations."""
    if size > budget.max_batch_operations:
        raise LimitExceeded("batch_size", size, budget.max_batch_operations)


def count_tokens(source: str, maximum: int) -> int:
    """The number of lexical tokens in `source`, comments included (they cost lexing
    too); reads no further than token `maximum + 1`, then raises `LimitExceeded`.
    A lexing error raises graphql's `GraphQLSyntaxError`, as parsing would."""
    lexer = Lexer(Source(source))
    token = lexer.token
    count = 0
    while True:
        # read_next_token skips nothing but whitespace: comments come back as tokens
        token = lexer.read_next_token(token.end)
        if token.kind == TokenKind.EOF:
            return count
        count += 1
        if count > maximum:
            raise LimitExceeded("tokens", count, maximum)


def check_document(
    document: DocumentNode,
    schema: GraphQLSchema,
    budget: Budget,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Cost:
    """The measures of the operation that will run (the largest of each over all
    operations when the name does not pick one); raises `LimitExceeded` at the first
    limit the expanded operation passes."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    chosen = [op for op in operations if op.name is not None and op.name.value == operation_name]
    if operation_name is None or not chosen:
        chosen = operations
    costs: list[Cost] = []
    for operation in chosen:
        try:
            costs.append(measure(operation, fragments, schema, budget, variables or {}))
        except Overrun as over:
            raise LimitExceeded(over.limit, over.actual, over.maximum) from None
    return Cost(
        depth=max((c.depth for c in costs), default=0),
        aliases=max((c.aliases for c in costs), default=0),
        directives=max((c.directives for c in costs), default=0),
        cost=max((c.cost for c in costs), default=0),
        exact=all(c.exact for c in costs),
    )
