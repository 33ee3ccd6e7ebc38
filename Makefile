# The two commands a newcomer needs are `make book` and `make test`.
# Both create .venv on first use and install the project with pinned versions.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2
BOOK_FLAGS := -W -n --keep-going

.PHONY: help venv book book-clean test test-fast lint labs bench pr-check clean

help:
	@echo "make book   build the book into _build/html"
	@echo "make test   lint, build the book, run every test (library, notebooks, workflows, browser)"
	@echo "make lint   ruff"
	@echo "make labs   run the full papermill matrix of the labs"
	@echo "make bench  run the benchmark scripts in bench/"
	@echo "make clean  remove build outputs (keeps .venv)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)

book-clean:
	rm -rf _build

test: $(STAMP) lint book
	$(BIN)/python -m pytest -n $(JOBS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -m "not book"

lint: $(STAMP)
	$(BIN)/ruff check .

labs: $(STAMP)
	$(BIN)/mlcicd labs run --jobs $(JOBS) --out _build/labs

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis coverage.xml .coverage htmlcov
