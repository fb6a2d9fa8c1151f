# Two commands do all the set-up on a fresh machine:
#   make demo   installs into .venv and runs the main job on the embedded default
#   make test   installs into .venv and runs lint, type and layer checks, then the test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
DEMO_HOME ?= .modelwright-demo

.PHONY: install browser demo test lint check-types bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# The web UI's tests drive Debian's Chromium (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null || apt-get install -y --no-install-recommends chromium \
	  || { apt-get update && apt-get install -y --no-install-recommends chromium; }

demo: install
	rm -rf $(DEMO_HOME)
	MODELWRIGHT_HOME=$(DEMO_HOME) $(BIN)/python examples/demo.py

lint: install
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint browser
	$(BIN)/pytest -n 2 --dist loadfile

# On demand, never in CI. run.py and bench_tracking.py update docs/benchmarks.md themselves;
# the others print their section and leave it in bench/.data/<name>.md for the page.
bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_tracking.py
	$(BIN)/python bench/bench_datasets.py --remove-data
	$(BIN)/python bench/bench_registry.py
	$(BIN)/python bench/bench_pipelines.py
	$(BIN)/python bench/bench_serving.py
	$(BIN)/python bench/bench_gates.py
	$(BIN)/python bench/bench_ui.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
