# Every target creates the virtualenv it needs; a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve mocks test lint typecheck unit schema soak soak-faults bench bench-shed bench-bodies bench-transport clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/helsegraf serve

mocks: $(STAMP)
	$(BIN)/helsegraf mocks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo  # the import direction (pyproject.toml, docs/architecture.md)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

# Constant-rate load on loopback; SOAK_ARGS="--seconds 600 --rps 100" for a long run.
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak $(SOAK_ARGS)

# The same load without faults, then while upstreams misbehave, compared (docs/resilience.md);
# SOAK_FAULTS="hang=5037,big=0301" picks other faults (hang, reset, slow, big), SOAK_ARGS as for soak.
SOAK_FAULTS ?= hang=5037,reset=5001,slow=0301
soak-faults: $(STAMP)
	$(BIN)/python -m benchmarks.soak --faults $(SOAK_FAULTS) $(SOAK_ARGS)

# Screens cold/warm, gateway vs baseline (docs/performance.md); BENCH_ARGS="--seconds 3" for a quick run.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

# What a refusal (503 OVERLOADED) costs once the gateway is full, against /healthz.
bench-shed: $(STAMP)
	$(BIN)/python -m benchmarks.shed $(BENCH_ARGS)

# A gateway's memory while every EHR answer is 100 MB (docs/resilience.md).
bench-bodies: $(STAMP)
	$(BIN)/python -m benchmarks.bodies $(BENCH_ARGS)

# httpx's own transport against the aiohttp-backed one, on the upstream path alone.
bench-transport: $(STAMP)
	$(BIN)/python -m benchmarks.transport $(BENCH_ARGS)

schema: $(STAMP)
	$(BIN)/helsegraf schema > schema.graphql

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
