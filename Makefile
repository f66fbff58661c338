PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test fuzz lint format bench bench-engagement bench-cache bench-growth soak clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/dreamlust serve --seed-if-empty

# One pytest worker per core: every worker has databases, servers and Redis keys of its own.
test: install
	$(BIN)/pytest -n auto --dist worksteal $(PYTEST_ARGS)

# The API contract test (tests/contract) with a long Schemathesis run: every phase,
# 50 examples per operation, each role, both databases.
fuzz: install
	DREAMLUST_FUZZ_EXAMPLES=50 DREAMLUST_FUZZ_PHASES=examples,coverage,fuzzing,stateful \
		$(BIN)/pytest tests/contract -s $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dreamlust.db*

# Load test against a minimal Starlette + asyncpg baseline (see bench/README.md);
# BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="--rounds 3 --only latest".
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Recording views and toggling likes on one hot item against a minimal baseline
# (needs the bench database of `make bench`, and Redis; see bench/README.md).
bench-engagement: install
	$(BIN)/python bench/engagement.py $(BENCH_ARGS)

# Trending and the content detail with the read cache off, in Redis and in the process,
# in one run (seeds a small database of its own; needs Redis; see bench/README.md).
bench-cache: install
	$(BIN)/python bench/cache.py $(BENCH_ARGS)

# The read endpoints at ~210k and at ~1M content (a copy of the bench database, its
# content grown 5x in SQL, built once), with the latency growth (see bench/README.md).
bench-growth: install
	$(BIN)/python bench/growth.py $(BENCH_ARGS)

# A long mixed workload (a few hundred simulated users, 10 minutes) against 2 API
# processes, a worker, PostgreSQL and a private Redis, with faults injected; then checks
# that no accepted write is lost, no counter drifted and every ledger balances (see
# bench/README.md). SOAK_ARGS passes options, e.g. make soak SOAK_ARGS="--duration 60".
soak: install
	$(BIN)/python bench/soak.py $(SOAK_ARGS)
