"""Small-cell suppression for aggregate tables, with complementary suppression. Pure.

The table: counts by (row, column, layer) - for vaccination coverage, municipality x age
band x vaccine - each cell holding how many people of its population have the property
(`count`) and the population itself, which every layer of a (row, column) position
shares.

Primary suppression withholds a cell when its count, the rest of its population
(`population - count`) or the population is below `min_cell`. What an analyst is assumed
to know besides the shown cells - conservatively, even where the API does not serve it:

- per layer, the total count of every line of the table: each row over the columns
  (a municipality over its age bands) and each column over the rows (an age band over
  the municipalities), hence the grand total;
- the total population of every row and of every column;
- the population of a position as soon as any of its layers is shown.

A total over a single cell is that cell, not a total, so lines of one cell count no
total. Complementary suppression then withholds further cells until no withheld count,
and no withheld population, follows from all of this by addition and subtraction: per
layer (and for the populations), the withheld positions of a table with row and column
totals are determined exactly when they are a bridge of the bipartite graph whose edges
they are (rows and columns the nodes), so each bridge is put on a cycle by withholding
the cheapest path of other cells between its two ends (fewest new cells, then smallest
counts). A population is withheld only when every layer of its position is.

What the totals alone say (a total of 0 is 0 in every cell) no suppression can hide;
a table whose shape leaves a withheld cell on no cycle at all (a missing cell, say) has
that whole layer withheld.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
Position = tuple[str, str]  # (row, column)
Key = tuple[str, str, str]  # (row, column, layer)
Node = tuple[int, str]  # (side, name): side 0 rows, 1 columns
MERGED = "*"


@dataclass(frozen=True, slots=True)
class Counts:
    """One cell: `count` of its `population` have the property."""

    count: int
    population: int


def small(cell: Counts, min_cell: int) -> bool:
    """Primary suppression: the count, the rest or the population is below `min_cell`."""
    return min(cell.count, cell.population - cell.count, cell.population) < min_cell


def suppressed(cells: Mapping[Key, Counts], min_cell: int) -> frozenset[Key]:
    """The cells to withhold: every small one, and enough others that none of them (and
    no withheld population) can be derived from the rest and the totals (module doc).

    The answer depends on the whole table only, never on which part of it is asked for:
    suppress the whole table, then select.
    """
    rows = sorted({k[0] for k in cells})
    columns = sorted({k[1] for k in cells})
    layers: dict[str, set[Position]] = defaultdict(set)
    at: dict[Position, list[Key]] = defaultdict(list)
    for key in sorted(cells):
        layers[key[2]].add((key[0], key[1]))
        at[(key[0], key[1])].append(key)
    population = {position: max(cells[k].population for k in keys) for position, keys in at.items()}
    hidden = {key for key, cell in cells.items() if small(cell, min_cell)}
    changed = True
    while changed:
        changed = False
        for layer, present in sorted(layers.items()):
            withheld = {(k[0], k[1]) for k in hidden if k[2] == layer}
            added = protect(rows, columns, present, withheld, _counts_of(cells, layer))
            hidden |= {(*p, layer) for p in added}
            changed |= bool(added)
        withheld = {p for p, keys in at.items() if all(k in hidden for k in keys)}
        added = protect(rows, columns, set(at), withheld, population.__getitem__)
        hidden |= {k for p in added for k in at[p]}
        changed |= bool(added)
    return frozenset(hidden)


def _counts_of(cells: Mapping[Key, Counts], layer: str) -> Callable[[Position], int]:
    return lambda position: cells[(*position, layer)].count


def protect(
    rows: list[str],
    columns: list[str],
    present: set[Position],
    withheld: set[Position],
    cost: Callable[[Position], int],
) -> set[Position]:
    """The positions to withhold as well so that no withheld position of this table is
    determined by the others and the line totals; every present one when that cannot be."""
    if len(rows) < 2 and len(columns) < 2:
        return set()  # one cell: no total but itself
    ends = _ends(rows, columns)
    graph = _Graph({p: ends(p) for p in sorted(present)}, {p: max(cost(p), 0) for p in present})
    chosen = set(withheld)
    while True:
        found = bridges({p: graph.ends[p] for p in sorted(chosen)})
        if not found:
            return chosen - withheld
        for bridge in found:  # a bridge an earlier path closed costs nothing more
            path = graph.cheapest_path(bridge, chosen)
            if path is None:
                return present - withheld  # nothing can hide it: withhold the whole table
            chosen |= path


def _ends(rows: list[str], columns: list[str]) -> Callable[[Position], tuple[Node, Node]]:
    """The two nodes a position joins: its row's total and its column's. A side whose
    lines hold one cell each has no totals; its nodes merge into one."""
    merge_rows = len(columns) < 2  # a row over one column is no total
    merge_columns = len(rows) < 2

    def ends(position: Position) -> tuple[Node, Node]:
        row, column = position
        return (0, MERGED if merge_rows else row), (1, MERGED if merge_columns else column)

    return ends


def bridges(edges: Mapping[K, tuple[Node, Node]]) -> list[K]:
    """The edges (keyed, parallel edges allowed) that lie on no cycle, in `edges`' order."""
    adjacent: dict[Node, list[tuple[Node, K]]] = defaultdict(list)
    for key, (a, b) in edges.items():
        adjacent[a].append((b, key))
        adjacent[b].append((a, key))
    order: dict[Node, int] = {}
    low: dict[Node, int] = {}
    found: list[K] = []
    counter = itertools.count()
    for root in sorted(adjacent):
        if root in order:
            continue
        order[root] = low[root] = next(counter)
        # iterative depth-first search: (node, the edge it was reached by, its neighbours)
        stack: list[tuple[Node, K | None, Iterator[tuple[Node, K]]]] = [
            (root, None, iter(adjacent[root]))
        ]
        while stack:
            node, via, neighbours = stack[-1]
            step = next(neighbours, None)
            if step is None:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        assert via is not None
                        found.append(via)
                continue
            other, key = step
            if key == via:
                continue
            if other in order:
                low[node] = min(low[node], order[other])
            else:
                order[other] = low[other] = next(counter)
                stack.append((other, key, iter(adjacent[other])))
    lying = set(found)
    return [key for key in edges if key in lying]


class _Graph:
    """Every present position as an edge between its two nodes, with its cost."""

    def __init__(self, ends: dict[Position, tuple[Node, Node]], costs: dict[Position, int]):
        self.ends = ends
        self.costs = costs
        self.adjacent: dict[Node, list[tuple[Node, Position]]] = defaultdict(list)
        for position, (a, b) in ends.items():
            self.adjacent[a].append((b, position))
            self.adjacent[b].append((a, position))

    def cheapest_path(self, bridge: Position, chosen: set[Position]) -> set[Position] | None:
        """The positions of the cheapest path between the bridge's two ends that does not
        use it, new cells costing (1, their count) and withheld ones nothing; None when
        there is none."""
        start, goal = self.ends[bridge]
        best: dict[Node, tuple[int, int]] = {start: (0, 0)}
        came: dict[Node, tuple[Node, Position]] = {}
        queue: list[tuple[tuple[int, int], Node]] = [((0, 0), start)]
        while queue:
            spent, node = heapq.heappop(queue)
            if node == goal:
                path = set()
                while node != start:
                    node, position = came[node]
                    path.add(position)
                return path
            if spent > best[node]:
                continue
            for other, position in self.adjacent[node]:
                if position == bridge:
                    continue
                free = position in chosen
                total = (spent[0] + (not free), spent[1] + (0 if free else self.costs[position]))
                if other not in best or total < best[other]:
                    best[other] = total
                    came[other] = (node, position)
                    heapq.heappush(queue, (total, other))
        return None
