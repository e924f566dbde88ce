"""Small-cell suppression: small cells are withheld, and no withheld count or population
follows from the shown cells and every total the analyst may know (checked by linear
algebra over exact fractions, independently of the algorithm's graph reasoning)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authz.suppression import Counts, Key, bridges, small, suppressed

MIN_CELL = 5


def determined(cells: dict[Key, Counts], hidden: frozenset[Key]) -> list[str]:
    """Every withheld value (a cell's count, or a population no shown layer gives away)
    that the shown cells and the line totals fix, by name."""
    rows = sorted({k[0] for k in cells})
    columns = sorted({k[1] for k in cells})
    layers = sorted({k[2] for k in cells})
    unknowns: list[str] = [f"count{k}" for k in sorted(hidden)]
    positions = sorted({(k[0], k[1]) for k in cells})
    hidden_positions = [
        p for p in positions if all((*p, v) in hidden for v in layers if (*p, v) in cells)
    ]
    unknowns += [f"population{p}" for p in hidden_positions]
    index = {name: n for n, name in enumerate(unknowns)}
    equations: list[list[Fraction]] = []

    def total(names: list[str]) -> None:
        if len(names) < 2:
            return  # a line of one cell has no total but the cell
        equation = [Fraction(0)] * len(unknowns)
        for name in names:
            if name in index:
                equation[index[name]] = Fraction(1)
        if any(equation):
            equations.append(equation)

    for layer in layers:
        for row in rows:
            total([f"count{(row, c, layer)}" for c in columns if (row, c, layer) in cells])
        for column in columns:
            total([f"count{(r, column, layer)}" for r in rows if (r, column, layer) in cells])
    for row in rows:
        total([f"population{(row, c)}" for c in columns if (row, c) in positions])
    for column in columns:
        total([f"population{(r, column)}" for r in rows if (r, column) in positions])
    basis = _echelon(equations)
    return [name for name in unknowns if _in_span(basis, index[name], len(unknowns))]


def _echelon(equations: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    basis: list[tuple[int, list[Fraction]]] = []
    for equation in equations:
        vector = _reduce(basis, list(equation))
        pivot = next((n for n, v in enumerate(vector) if v), None)
        if pivot is not None:
            basis.append((pivot, [v / vector[pivot] for v in vector]))
    return basis


def _reduce(basis: list[tuple[int, list[Fraction]]], vector: list[Fraction]) -> list[Fraction]:
    for pivot, row in basis:
        if vector[pivot]:
            factor = vector[pivot]
            vector = [v - factor * r for v, r in zip(vector, row, strict=True)]
    return vector


def _in_span(basis: list[tuple[int, list[Fraction]]], unknown: int, size: int) -> bool:
    unit = [Fraction(int(n == unknown)) for n in range(size)]
    return not any(_reduce(basis, unit))


@st.composite
def tables(draw: st.DrawFn) -> dict[Key, Counts]:
    """Whole tables, 1-5 rows x 1-5 columns x 1-3 layers, many cells near the threshold."""
    rows = [f"m{n}" for n in range(draw(st.integers(1, 5)))]
    columns = [f"a{n}" for n in range(draw(st.integers(1, 5)))]
    layers = [f"v{n}" for n in range(draw(st.integers(1, 3)))]
    sizes = st.one_of(st.integers(0, 12), st.integers(0, 400))
    cells = {}
    for row in rows:
        for column in columns:
            population = draw(sizes)
            for layer in layers:
                count = draw(st.integers(0, population))
                cells[(row, column, layer)] = Counts(count, population)
    return cells


@settings(max_examples=300)
@given(tables(), st.integers(1, 8))
def test_no_withheld_value_follows_from_the_shown_cells_and_totals(
    cells: dict[Key, Counts], min_cell: int
) -> None:
    hidden = suppressed(cells, min_cell)
    assert {k for k, c in cells.items() if small(c, min_cell)} <= hidden
    for key, cell in cells.items():
        if key not in hidden:
            assert min(cell.count, cell.population - cell.count) >= min_cell
    assert determined(cells, hidden) == []


def test_a_lone_small_cell_takes_a_rectangle_with_it() -> None:
    cells = {
        (row, column, "v"): Counts(count, 100)
        for (row, column), count in {
            ("m1", "a1"): 2,  # small
            ("m1", "a2"): 50,
            ("m2", "a1"): 60,
            ("m2", "a2"): 70,
        }.items()
    }
    primary = {k for k, c in cells.items() if small(c, MIN_CELL)}
    assert primary == {("m1", "a1", "v")}
    assert determined(cells, frozenset(primary))  # alone, the totals give it away
    assert suppressed(cells, MIN_CELL) == frozenset(cells)  # the 2 x 2 table: all four


def test_complements_prefer_the_smallest_cells() -> None:
    counts = {
        ("m1", "a1"): 3,  # small
        ("m1", "a2"): 40,
        ("m1", "a3"): 9,
        ("m2", "a1"): 50,
        ("m2", "a2"): 60,
        ("m2", "a3"): 8,
    }
    cells = {(r, c, "v"): Counts(n, 100) for (r, c), n in counts.items()}
    hidden = suppressed(cells, MIN_CELL)
    assert hidden == {
        (r, c, "v") for r, c in [("m1", "a1"), ("m1", "a3"), ("m2", "a1"), ("m2", "a3")]
    }
    assert determined(cells, hidden) == []


def test_a_small_population_is_withheld_in_every_layer_and_protected() -> None:
    cells: dict[Key, Counts] = {}
    for row, column, population in [
        ("m1", "a1", 3),
        ("m1", "a2", 200),
        ("m2", "a1", 300),
        ("m2", "a2", 400),
    ]:
        for layer in ("v1", "v2"):
            cells[(row, column, layer)] = Counts(population // 2, population)
    hidden = suppressed(cells, MIN_CELL)
    assert {("m1", "a1", "v1"), ("m1", "a1", "v2")} <= hidden
    assert determined(cells, hidden) == []


def test_a_single_cell_has_no_totals() -> None:
    cells = {("m1", "a1", "v"): Counts(2, 10)}
    assert suppressed(cells, MIN_CELL) == frozenset(cells)
    assert determined(cells, frozenset(cells)) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        pytest.param({"e": ((0, "r"), (1, "c"))}, ["e"], id="one-edge"),
        pytest.param(
            {"e": ((0, "r"), (1, "c")), "f": ((0, "r"), (1, "c"))}, [], id="parallel-edges"
        ),
        pytest.param(
            {
                "a": ((0, "r1"), (1, "c1")),
                "b": ((0, "r1"), (1, "c2")),
                "c": ((0, "r2"), (1, "c1")),
                "d": ((0, "r2"), (1, "c2")),
                "e": ((0, "r2"), (1, "c3")),
            },
            ["e"],
            id="square-with-a-tail",
        ),
    ],
)
def test_bridges(
    edges: dict[str, tuple[tuple[int, str], tuple[int, str]]], expected: list[str]
) -> None:
    assert bridges(edges) == expected
