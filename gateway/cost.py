"""The cost model: an upper-bound estimate of the work one operation causes.

Each field costs 1 for every time it is expected to resolve, so a field inside a
list counts once per expected item. The expected size of a list of objects is:

- its `first` (or `last`) argument: a literal, else the variable's value, else the
  variable's default, else the argument's default in the schema;
- for a connection (an object type named `*Connection`), sized the same way, the
  size of its `edges` (or `nodes`) list; `pageInfo` and `totalCount` count once;
- otherwise (`medications`, `vaccinations`, `representations`, `sources`, a
  connection with no size to go by) `Budget.default_list_size`.

Sizes below 1 count as 1. A list of scalars or enums costs 1, like any leaf field.
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
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)

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
_HUGE = 10**18  # stands in for integer literals too long to be a real page size


@dataclass(frozen=True, slots=True)
class Cost:
    """What `gateway.limits.check_document` measured, for logs and metrics."""

    depth: int
    aliases: int
    directives: int
    cost: int


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
    walk = _Walk(operation, fragments, schema, budget, variables)
    walk.count_directives(operation.directives)
    for definition in operation.variable_definitions or ():
        walk.count_directives(definition.directives)
    walk.selection_set(operation.selection_set, roots[operation.operation], 0, 1, None, frozenset())
    return Cost(walk.depth, walk.aliases, walk.directives, walk.cost)


class _Walk:
    """One walk over an operation, fragments expanded in place, counting as it goes."""

    def __init__(
        self,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        schema: GraphQLSchema,
        budget: Budget,
        variables: Mapping[str, Any],
    ) -> None:
        self.fragments = fragments
        self.schema = schema
        self.budget = budget
        self.variables = variables
        self.defaults = {
            d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
        }
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
        """The expected number of items of a list or connection field."""
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in _SIZE_ARGUMENTS:
            size = self._int(given[name]) if name in given else None
            if size is not None:
                return max(size, 1)
        for name in _SIZE_ARGUMENTS:
            argument = definition.args.get(name)
            default = argument.default_value if argument is not None else None
            if isinstance(default, int) and not isinstance(default, bool):
                return max(default, 1)
        return page if page is not None else max(self.budget.default_list_size, 1)

    def _int(self, value: ValueNode | None) -> int | None:
        if isinstance(value, VariableNode):
            name = value.name.value
            if name in self.variables:
                given = self.variables[name]
                return given if isinstance(given, int) and not isinstance(given, bool) else None
            value = self.defaults.get(name)
        if isinstance(value, IntValueNode):
            digits = value.value.lstrip("-")
            return _HUGE if len(digits) > 18 else int(value.value)
        return None
