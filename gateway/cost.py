"""The cost model: an upper-bound estimate of the work one operation causes.

Each field costs 1 for every time it is expected to resolve, so a field inside a
list counts once per expected item. The expected size of a list of objects is:

- its `first` (or `last`) argument exactly as GraphQL will coerce it for execution
  (graphql-core's own coercion: a variable's `100.0` for an `Int` is 100; an omitted
  variable takes its default, else the argument's default in the schema);
- for a connection (an object type named `*Connection`), sized the same way, the
  size of its `edges` (or `nodes`) list; `pageInfo` and `totalCount` count once;
- otherwise (`medications`, `vaccinations`, `representations`, `sources`, a
  connection with no size to go by) `Budget.default_list_size`.

Sizes below 1 count as 1. A size GraphQL would not accept (`"100"`, `1.5`, `null` for
an `Int!`, a literal beyond 32 bits) never falls back to a default: it is the worst case,
`_HUGE`, so the operation is refused. Such an operation would not run anyway; a variable
that cannot be coerced also makes the measure inexact (`Cost.exact`), and no verdict on
it may be remembered. A list of scalars or enums costs 1, like any leaf field.
`__schema` and `__type` cost `INTROSPECTION_COST` each, and what they select counts
like anything else (their lists at the default size), so deep introspection runs
into the limit too. A field the schema does not know costs 1; validation rejects it
later. Fragment spreads and inline fragments cost nothing themselves. `@skip` and
`@include` are not evaluated, and fields execution would merge (the same response
key twice) are counted each time: the estimate errs high.

Example: `{ viewer { person { appointments(first: 5) { edges { node { id } } } } } }`
costs viewer 1 + person 1 + appointments 1 + edges 1 + 5 x (node 1 + id 1) = 14.

Every field adds at least 1 and the walk stops as soon as the cost passes the
budget; fragment expansions (which may hold no fields at all) are capped at
`max_cost` too. So a document of a few thousand tokens cannot make the walk itself
expensive, whatever its fragments do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    Undefined,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.utilities import coerce_input_literal

if TYPE_CHECKING:
    from gateway.limits import Budget, LimitName

INTROSPECTION_COST = 1000
_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}
_SIZE_ARGUMENTS = ("first", "last")
_PAGED_LISTS = ("edges", "nodes")
_HUGE = 10**18  # stands in for a size GraphQL would not accept: more than any budget


@dataclass(frozen=True, slots=True)
class Cost:
    """What `gateway.limits.check_document` measured, for logs and metrics."""

    depth: int
    aliases: int
    directives: int
    cost: int
    exact: bool = True  # False: some variable cannot be coerced, so it will not run


class Overrun(Exception):
    """A measure passed its maximum; `gateway.limits` turns it into `LimitExceeded`."""

    def __init__(self, limit: LimitName, actual: int, maximum: int) -> None:
        super().__init__(limit, actual, maximum)
        self.limit: LimitName = limit
        self.actual = actual
        self.maximum = maximum


def _check(limit: LimitName, actual: int, maximum: int) -> None:
    if actual > maximum:
        raise Overrun(limit, actual, maximum)


def measure(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    schema: GraphQLSchema,
    budget: Budget,
    variables: Mapping[str, Any],
) -> Cost:
    """The measures of one operation with its fragments expanded; raises `Overrun` at
    the first measure past `budget`."""
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }
    coerced, unreadable = coerce_variables(schema, operation, variables)
    walk = _Walk(fragments, schema, budget, coerced, unreadable)
    walk.count_directives(operation.directives)
    for definition in operation.variable_definitions or ():
        walk.count_directives(definition.directives)
    walk.selection_set(operation.selection_set, roots[operation.operation], 0, 1, None, frozenset())
    return Cost(walk.depth, walk.aliases, walk.directives, walk.cost, exact=not unreadable)


def coerce_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> tuple[VariableValues, frozenset[str]]:
    """The operation's variables as execution will see them (graphql-core's coercion,
    defaults applied), and the names of those that cannot be coerced."""
    definitions = operation.variable_definitions or ()
    coerced = get_variable_values(schema, definitions, dict(variables))
    if not isinstance(coerced, list):
        return coerced, frozenset()
    # Some value is wrong: find which, keeping what the others say.
    sources: dict[str, Any] = {}
    values: dict[str, Any] = {}
    unreadable: set[str] = set()
    for definition in definitions:
        name = definition.variable.name.value
        given = {name: variables[name]} if name in variables else {}
        one = get_variable_values(schema, [definition], given)
        if isinstance(one, list):
            unreadable.add(name)
        else:
            sources.update(one.sources)
            values.update(one.coerced)
    return VariableValues(sources, values), frozenset(unreadable)


class _Walk:
    """One walk over an operation, fragments expanded in place, counting as it goes."""

    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        schema: GraphQLSchema,
        budget: Budget,
        variables: VariableValues,
        unreadable: frozenset[str],
    ) -> None:
        self.fragments = fragments
        self.schema = schema
        self.budget = budget
        self.variables = variables  # coerced; omitted ones without a default are absent
        self.unreadable = unreadable
        self.depth = self.aliases = self.directives = self.cost = self.expansions = 0

    def count_directives(self, directives: Collection[DirectiveNode] | None) -> None:
        if directives:
            self.directives += len(directives)
            _check("directives", self.directives, self.budget.max_directives)

    def selection_set(
        self,
        node: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        depth: int,
        weight: int,
        page: int | None,
        path: frozenset[str],
    ) -> None:
        """Walk one selection set, merged with its fragments, `weight` times over;
        `page` is the size of a connection's page, `path` the fragments being expanded."""
        if node is not None:
            self._merge(node, parent, depth, weight, page, path, Counter())

    def _merge(
        self,
        node: SelectionSetNode,
        parent: GraphQLNamedType | None,
        depth: int,
        weight: int,
        page: int | None,
        path: frozenset[str],
        keys: Counter[str],
    ) -> None:
        for selection in node.selections:
            self.count_directives(selection.directives)
            if isinstance(selection, FieldNode):
                self._field(selection, parent, depth, weight, page, path, keys)
                continue
            self.expansions += 1
            _check("cost", self.expansions, self.budget.max_cost)
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                self._merge(selection.selection_set, scope, depth, weight, page, path, keys)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in path:
                    continue  # unknown, or a cycle: validation reports either
                self.count_directives(fragment.directives)
                scope = self.schema.get_type(fragment.type_condition.name.value)
                self._merge(fragment.selection_set, scope, depth, weight, page, path | {name}, keys)

    def _field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        depth: int,
        weight: int,
        page: int | None,
        path: frozenset[str],
        keys: Counter[str],
    ) -> None:
        key = (node.alias or node.name).value
        keys[key] += 1
        _check("duplicate_fields", keys[key] - 1, self.budget.max_duplicate_fields)
        if node.alias is not None:
            self.aliases += 1
            _check("aliases", self.aliases, self.budget.max_aliases)
        depth += 1
        self.depth = max(self.depth, depth)
        _check("depth", depth, self.budget.max_depth)
        name = node.name.value
        self.cost += weight * (INTROSPECTION_COST if name in ("__schema", "__type") else 1)
        _check("cost", self.cost, self.budget.max_cost)
        definition = _META_FIELDS.get(name)
        if definition is None and isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        if definition is None:
            self.selection_set(node.selection_set, None, depth, weight, None, path)
            return
        field_type = get_nullable_type(definition.type)
        named = get_named_type(field_type)
        if is_list_type(field_type) and not is_leaf_type(named):
            size = self._size(node, definition, page if name in _PAGED_LISTS else None)
            self.selection_set(node.selection_set, named, depth, weight * size, None, path)
        elif named.name.endswith("Connection"):
            size = self._size(node, definition, None)
            self.selection_set(node.selection_set, named, depth, weight, size, path)
        else:
            self.selection_set(node.selection_set, named, depth, weight, None, path)

    def _size(self, node: FieldNode, definition: GraphQLField, page: int | None) -> int:
        """The expected number of items of a list or connection field: its size argument
        as execution will read it, else the schema's default, else `page` or the budget's
        default list size; `_HUGE` for a size GraphQL would not accept."""
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in _SIZE_ARGUMENTS:
            argument, value_node = definition.args.get(name), given.get(name)
            if argument is None or value_node is None:
                continue  # not an argument of this field (validation refuses), or not given
            if isinstance(value_node, VariableNode):
                if value_node.name.value in self.unreadable:
                    return _HUGE
                if value_node.name.value not in self.variables.coerced:
                    continue  # omitted, no default: as if the argument were not given
            value = coerce_input_literal(value_node, argument.type, self.variables)
            if value is None:
                continue  # an explicit null for a nullable size: no size to go by
            if value is Undefined or isinstance(value, bool) or not isinstance(value, int):
                return _HUGE
            return max(value, 1)
        for name in _SIZE_ARGUMENTS:
            argument = definition.args.get(name)
            default = argument.default_value if argument is not None else None
            if isinstance(default, int) and not isinstance(default, bool):
                return max(default, 1)
        return page if page is not None else max(self.budget.default_list_size, 1)
