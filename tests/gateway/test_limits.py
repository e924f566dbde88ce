import contextlib
import dataclasses
import re
from pathlib import Path

import pytest
from graphql import GraphQLSchema, GraphQLSyntaxError, parse
from hypothesis import given
from hypothesis import strategies as st

from gateway.cost import INTROSPECTION_COST
from gateway.limits import (
    BUDGETS,
    Budget,
    Cost,
    LimitExceeded,
    check_batch,
    check_body,
    check_document,
    check_document_size,
    count_tokens,
)
from gateway.persisted import OPERATIONS_DIR
from gateway.schema import build_schema

# Generous in everything but the one limit a test is about.
OPEN = Budget(
    max_depth=100,
    max_aliases=1000,
    max_tokens=100_000,
    max_directives=1000,
    max_duplicate_fields=1000,
    max_cost=10**9,
)


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def measure(
    schema: GraphQLSchema,
    query: str,
    budget: Budget = OPEN,
    name: str | None = None,
    variables: dict[str, object] | None = None,
) -> Cost:
    return check_document(parse(query), schema, budget, name, variables)


def refusal(
    schema: GraphQLSchema,
    query: str,
    budget: Budget,
    name: str | None = None,
    variables: dict[str, object] | None = None,
) -> LimitExceeded:
    """The limit `query` hits first, tokens counted as the HTTP layer does."""
    with pytest.raises(LimitExceeded) as caught:
        count_and_measure(schema, query, budget, name, variables)
    return caught.value


def count_and_measure(
    schema: GraphQLSchema,
    query: str,
    budget: Budget,
    name: str | None = None,
    variables: dict[str, object] | None = None,
) -> Cost:
    count_tokens(query, budget.max_tokens)
    return measure(schema, query, budget, name, variables)


@pytest.mark.parametrize("path", sorted(OPERATIONS_DIR.glob("*.graphql")), ids=lambda p: p.name)
@pytest.mark.parametrize("kind", ["citizen", "partner"])
def test_every_screen_operation_fits_the_budget(
    schema: GraphQLSchema, path: Path, kind: str
) -> None:
    # Partner services run exactly these operations, persisted.
    source = path.read_text(encoding="utf-8")
    budget = BUDGETS[kind]
    assert count_tokens(source, budget.max_tokens) <= budget.max_tokens
    check_body(len(source.encode()), budget)
    cost = measure(schema, source, budget)
    assert 0 < cost.cost <= budget.max_cost


def test_an_analysts_statistics_fit_the_analyst_budget(schema: GraphQLSchema) -> None:
    query = """query Coverage($municipality: String) { statistics {
      vaccinationCoverage(municipality: $municipality) {
        municipality ageBand vaccine vaccinated population suppressed } } }"""
    assert count_and_measure(schema, query, BUDGETS["analyst"]).cost == 2 + 20 * 6


def test_partner_and_analyst_budgets_are_tighter_than_a_citizens() -> None:
    citizen = BUDGETS["citizen"]
    assert citizen == Budget()
    for kind in ("partner", "analyst"):
        budget = BUDGETS[kind]
        for limit in (f.name for f in dataclasses.fields(citizen) if f.name.startswith("max_")):
            assert getattr(budget, limit) <= getattr(citizen, limit), (kind, limit)
        assert budget.max_cost < citizen.max_cost


def test_message_names_the_limit_and_numbers_only() -> None:
    assert str(LimitExceeded("depth", 14, 12)) == "The operation exceeds the depth limit (14 > 12)."
    assert str(LimitExceeded("body_size", 200, 100)) == (
        "The request exceeds the body size limit (200 > 100)."
    )


# --- depth ---------------------------------------------------------------------------

DEEP = "{ viewer { person { appointments { edges { node { location { address { city } } } } } } } }"


def test_depth_counts_nested_fields(schema: GraphQLSchema) -> None:
    assert measure(schema, DEEP).depth == 8
    error = refusal(schema, DEEP, Budget(max_depth=7))
    assert (error.limit, error.actual, error.maximum) == ("depth", 8, 7)


def test_depth_follows_fragments_which_add_none_themselves(schema: GraphQLSchema) -> None:
    query = """
        { viewer { ...V } }
        fragment V on Viewer { person { ... on Person { appointments { ...C } } } }
        fragment C on AppointmentConnection { edges { node { location { address { city } } } } }
    """
    assert measure(schema, query).depth == 8
    assert refusal(schema, query, Budget(max_depth=7)).limit == "depth"


# --- aliases ---------------------------------------------------------------------------


def test_aliases_are_counted(schema: GraphQLSchema) -> None:
    query = "{ viewer { person { a: id b: name c: birthDate } } }"
    assert measure(schema, query).aliases == 3
    error = refusal(schema, query, Budget(max_aliases=2))
    assert (error.limit, error.actual) == ("aliases", 3)


def test_aliases_hidden_in_nested_fragments_count_each_time_they_are_spread(
    schema: GraphQLSchema,
) -> None:
    query = """
        { viewer { person { ...Outer ...Outer } } }
        fragment Outer on Person { ...Inner x: id }
        fragment Inner on Person { y: name z: birthDate }
    """
    assert measure(schema, query).aliases == 6
    assert refusal(schema, query, Budget(max_aliases=5)).limit == "aliases"


# --- directives ------------------------------------------------------------------------


def test_directives_on_fields_operations_and_fragment_definitions(schema: GraphQLSchema) -> None:
    query = """
        query Q($on: Boolean!) @skip(if: false) {
          viewer { person { ...P ...P @include(if: $on) } }
        }
        fragment P on Person @include(if: true) { id @skip(if: false) }
    """
    # operation 1, spread 1, fragment definition 1 x 2 spreads, field 1 x 2 spreads
    assert measure(schema, query).directives == 6
    assert refusal(schema, query, Budget(max_directives=5)).limit == "directives"


# --- duplicated fields -----------------------------------------------------------------


def test_repeating_a_field_is_a_duplicate(schema: GraphQLSchema) -> None:
    query = "{ viewer { person { id id id id id } } }"
    error = refusal(schema, query, Budget())
    assert (error.limit, error.actual, error.maximum) == ("duplicate_fields", 4, 3)


def test_duplicates_are_counted_after_fragments_are_merged(schema: GraphQLSchema) -> None:
    query = """
        { viewer { person { id ...P ... on Person { id } } } }
        fragment P on Person { id name }
    """
    assert measure(schema, query, Budget()).cost > 0  # a few repeats: colocated fragments
    error = refusal(schema, query, BUDGETS["partner"])
    assert (error.limit, error.actual) == ("duplicate_fields", 1)


def test_the_same_key_in_different_selection_sets_is_no_duplicate(schema: GraphQLSchema) -> None:
    query = "{ viewer { person { id } representations { person { id } } } }"
    measure(schema, query, Budget(max_duplicate_fields=0))


# --- cost ------------------------------------------------------------------------------

MESSAGES = (
    "query M($n: Int) { viewer { person { messages(first: %s) { edges { node { id text } } } } } }"
)


def test_cost_follows_the_page_size(schema: GraphQLSchema) -> None:
    small = measure(schema, MESSAGES % "1").cost
    large = measure(schema, MESSAGES % "100").cost
    # viewer, person, messages, edges once; node, id, text once per item
    assert (small, large) == (4 + 3, 4 + 300)
    error = refusal(schema, MESSAGES % "100", Budget(max_cost=100))
    assert (error.limit, error.maximum) == ("cost", 100)
    measure(schema, MESSAGES % "1", Budget(max_cost=100))


def test_cost_reads_variables_then_their_defaults_then_the_schema(schema: GraphQLSchema) -> None:
    assert measure(schema, MESSAGES % "$n", variables={"n": 100}).cost == 304
    assert measure(schema, MESSAGES % "$n", variables={"n": 2}).cost == 4 + 6
    with_default = MESSAGES.replace("$n: Int", "$n: Int = 10") % "$n"
    assert measure(schema, with_default).cost == 4 + 30
    # no value anywhere: the argument's default in the schema (20)
    assert measure(schema, MESSAGES % "$n").cost == 4 + 60
    assert measure(schema, MESSAGES.replace("(first: %s)", "")).cost == 4 + 60
    assert refusal(schema, MESSAGES % "$n", Budget(max_cost=100), variables={"n": 100}).limit == (
        "cost"
    )


@pytest.mark.parametrize(
    ("value", "size"),
    [
        pytest.param(100.0, 100, id="integral-float-is-an-int"),
        pytest.param(7, 7, id="int"),
        pytest.param(-3.0, 1, id="negative-float-counts-as-one"),
    ],
)
def test_cost_reads_variables_as_graphql_coerces_them(
    schema: GraphQLSchema, value: object, size: int
) -> None:
    # The executor runs `first: 100.0` as 100 (GraphQL's Int input coercion): so must we.
    assert measure(schema, MESSAGES % "$n", variables={"n": value}).cost == 4 + 3 * size


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("100", id="string"),
        pytest.param(True, id="boolean"),
        pytest.param(1.5, id="fraction"),
        pytest.param(2**40, id="over-32-bits"),
        pytest.param([5], id="list"),
        pytest.param({"n": 5}, id="object"),
        pytest.param(None, id="null-for-a-non-null-argument"),
    ],
)
def test_a_size_graphql_would_not_accept_is_measured_at_the_worst_case(
    schema: GraphQLSchema, value: object
) -> None:
    # Never the default of 20: such an operation is either refused by the executor or
    # more than anyone may ask for.
    error = refusal(schema, MESSAGES % "$n", Budget(), variables={"n": value})
    assert error.limit == "cost"
    assert measure(schema, "{ viewer { person { id } } }", variables={"n": value}).cost == 3


def test_an_uncoercible_variable_makes_the_measure_inexact(schema: GraphQLSchema) -> None:
    query = (
        "query($f: AppointmentFilter, $n: Int) { viewer { person { "
        "appointments(first: $n, filter: $f) { totalCount } } } }"
    )
    assert measure(schema, query, variables={"n": 5, "f": {"period": "UPCOMING"}}).exact
    inexact = measure(schema, query, variables={"n": 5, "f": {"period": "UPCOMNG"}})
    assert not inexact.exact  # the operation will not run: no verdict is kept for it
    assert inexact.cost == 4  # the size it could read is still read


def test_lists_without_a_size_use_the_default_list_size(schema: GraphQLSchema) -> None:
    query = "{ viewer { person { medications { id sources { kind } } } } }"
    # viewer, person, medications + 20 x (id + sources + 20 x kind)
    assert measure(schema, query).cost == 3 + 20 * (2 + 20)
    assert measure(schema, query, Budget(max_cost=10**9, default_list_size=2)).cost == 3 + 2 * 4


def test_scalar_lists_and_unknown_fields_cost_one(schema: GraphQLSchema) -> None:
    assert measure(schema, "{ viewer { person { accessLog(first: 1) { categories } } } }").cost == 4
    assert measure(schema, "{ nothing { such { here } } }").cost == 3


def test_introspection_is_expensive_and_bounded(schema: GraphQLSchema) -> None:
    assert measure(schema, "{ __typename }").cost == 1
    assert measure(schema, "{ __schema { queryType { name } } }").cost == INTROSPECTION_COST + 2
    deep = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    assert refusal(schema, deep, Budget()).limit == "cost"


def test_huge_page_sizes_are_refused_not_crashed_on(schema: GraphQLSchema) -> None:
    assert refusal(schema, MESSAGES % ("9" * 5000), Budget()).limit == "cost"
    assert measure(schema, MESSAGES % "-5").cost == 4 + 3  # sizes below 1 count as 1


# --- fragments that never end ----------------------------------------------------------


def test_a_fragment_cycle_terminates(schema: GraphQLSchema) -> None:
    query = """
        { viewer { person { ...A } } }
        fragment A on Person { id ...B }
        fragment B on Person { name ...A unknown { ...B } }
    """
    # viewer, person, id, name, unknown: each fragment once per path
    assert measure(schema, query).cost == 5


def test_fragments_that_double_at_every_level_are_refused(schema: GraphQLSchema) -> None:
    levels = [f"fragment F{i} on Person {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60)]
    with_fields = "\n".join([*levels, "fragment F60 on Person { id }"])
    empty = "\n".join([*levels, "fragment F60 on Person { }"])
    for fragments in (with_fields, empty):
        query = "{ viewer { person { ...F0 } } }\n" + fragments
        assert refusal(schema, query, Budget(max_duplicate_fields=10**9)).limit == "cost"


# --- which operation -------------------------------------------------------------------

TWO = "query Small { viewer { person { id } } } query Deep " + DEEP


def test_only_the_named_operation_is_measured(schema: GraphQLSchema) -> None:
    assert measure(schema, TWO, Budget(max_depth=3), name="Small").depth == 3


@pytest.mark.parametrize("name", [None, "Missing"], ids=["no-name", "unknown-name"])
def test_every_operation_is_measured_when_the_name_picks_none(
    schema: GraphQLSchema, name: str | None
) -> None:
    assert measure(schema, TWO, name=name).depth == 8
    assert refusal(schema, TWO, Budget(max_depth=3), name=name).limit == "depth"


# --- tokens, body, batch ---------------------------------------------------------------


def test_tokens_are_counted_comments_included() -> None:
    assert count_tokens("{ a b }", 10) == 4
    assert count_tokens("# hello\n{ a }", 10) == 4
    with pytest.raises(LimitExceeded) as caught:
        count_tokens("{ a b c }", 3)
    error = caught.value
    assert (error.limit, error.actual, error.maximum) == ("tokens", 4, 3)


@pytest.mark.parametrize(
    "source",
    ["{" + "a " * 500_000 + "}", "#\n" * 500_000, "{" + "a(b: [" * 200_000],
    ids=["fields", "comments", "unclosed"],
)
def test_a_megabyte_is_refused_by_the_token_count(source: str) -> None:
    with pytest.raises(LimitExceeded) as caught:
        count_tokens(source, 2000)
    assert (caught.value.limit, caught.value.actual) == ("tokens", 2001)


def test_document_size_is_limited_before_lexing() -> None:
    budget = Budget(max_document_chars=100)
    check_document_size("{ a }" + " " * 95, budget)
    # Not a lexing error: the text is never looked at, only its length.
    for source in ("{ a }" + " " * 96, "\u0000" * 101, "#" * 101):
        with pytest.raises(LimitExceeded) as caught:
            check_document_size(source, budget)
        assert (caught.value.limit, caught.value.actual, caught.value.maximum) == (
            "document_size",
            101,
            100,
        )
    assert str(caught.value) == "The operation exceeds the document size limit (101 > 100)."


@pytest.mark.parametrize("path", sorted(OPERATIONS_DIR.glob("*.graphql")), ids=lambda p: p.name)
def test_every_screen_operation_fits_the_partner_document_size(path: Path) -> None:
    check_document_size(path.read_text(encoding="utf-8"), BUDGETS["partner"])


def test_body_and_batch_sizes() -> None:
    check_body(100_000, Budget())
    check_batch(5, Budget())
    with pytest.raises(LimitExceeded) as body:
        check_body(100_001, Budget())
    with pytest.raises(LimitExceeded) as batch:
        check_batch(2, BUDGETS["analyst"])
    assert (body.value.limit, body.value.actual) == ("body_size", 100_001)
    assert (batch.value.limit, batch.value.actual, batch.value.maximum) == ("batch_size", 2, 1)


# --- messages --------------------------------------------------------------------------

SECRETS = """
    query Secretive($secretVar: Int = 3) { viewer { person { secretAlias: name
      messages(first: $secretVar) { edges { node { id text text text text } } } } } }
"""


@pytest.mark.parametrize(
    "budget",
    [
        Budget(max_depth=2),
        Budget(max_aliases=0),
        Budget(max_cost=5),
        Budget(max_duplicate_fields=0),
        Budget(max_directives=0, max_duplicate_fields=9),
        Budget(max_tokens=3),
    ],
    ids=["depth", "aliases", "cost", "duplicates", "directives", "tokens"],
)
def test_messages_name_no_field_and_quote_no_query(schema: GraphQLSchema, budget: Budget) -> None:
    query = SECRETS.replace("id text", "id @skip(if: false) text")
    error = refusal(schema, query, budget)
    words = set(re.findall(r"\w+", str(error).lower()))
    names = set(re.findall(r"[A-Za-z_]\w*", query.lower())) - {"if", "on", "query"}
    assert not words & names, str(error)


# --- anything at all -------------------------------------------------------------------

PIECES = [
    "{", "}", "(", ")", "[", "]", ":", "$n", "...", "@skip(if: true)", "a", "b: c", "id",
    "viewer", "person", "medications", "messages(first: 99)", "edges", "node", "__schema",
    "types", "fields", "query Q", "fragment F on Person", "...F", "on", '"x"', "#", "\n", "1",
]  # fmt: skip


@given(st.one_of(st.text(max_size=200), st.lists(st.sampled_from(PIECES)).map(" ".join)))
def test_arbitrary_input_is_refused_or_measured_never_crashed_on(
    schema: GraphQLSchema, source: str
) -> None:
    budget = Budget(max_tokens=200, max_cost=500)
    with contextlib.suppress(LimitExceeded, GraphQLSyntaxError):
        count_and_measure(schema, source, budget, variables={"n": 7})
