# The two commands a newcomer needs are `make book` and `make test`.
# Both create .venv on first use and install the project with pinned versions.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2
BOOK_FLAGS := -W -n --keep-going

.PHONY: help venv book book-clean test test-fast lint labs labs-notebooks bench pr-check coverage clean

help:
	@echo "make book   build the book into _build/html"
	@echo "make test   lint, build the book, run every test (library, notebooks, workflows, browser)"
	@echo "make lint   ruff"
	@echo "make labs   run the full papermill matrix of the labs"
	@echo "make labs-notebooks   re-execute labs/src into labs/solutions and labs/student"
	@echo "make bench  run the benchmark scripts in bench/"
	@echo "make pr-check   the pull-request model check, locally: prints the PR comment"
	@echo "make coverage   make test with a coverage report (coverage.xml, htmlcov/)"
	@echo "make clean  remove build outputs (keeps .venv)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

# jupyter-cache re-executes a page only when its own cells change. Pages also run the
# library, the tests, the workflows and the labs, so when any of those is newer than the
# last build the cached outputs are dropped and every page runs again.
BOOK_INPUTS := $(shell git ls-files mlcicd tests ci config baseline labs .github 2>/dev/null)
BOOK_INPUTS_STAMP := _build/.book-inputs

$(BOOK_INPUTS_STAMP): $(BOOK_INPUTS) $(STAMP)
	rm -rf _build/.jupyter_cache _build/jupyter_execute
	mkdir -p _build
	touch $@

book: $(STAMP) $(BOOK_INPUTS_STAMP)
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

labs-notebooks: $(STAMP)
	$(BIN)/mlcicd labs execute

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

# The pull-request model check (.github/workflows/model-check.yml runs the same script).
# Override the candidate with e.g. PR_CHECK_CONFIG=my.yaml make pr-check
pr-check: $(STAMP)
	MLCICD=$(BIN)/mlcicd ci/pr_check.sh

coverage: $(STAMP) lint book
	$(BIN)/python -m pytest -n $(JOBS) --cov=mlcicd --cov-report=term --cov-report=xml --cov-report=html
	$(BIN)/python -m coverage report --format=markdown > htmlcov/coverage.md

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis coverage.xml .coverage htmlcov
