# The two commands a newcomer needs are `make book` and `make test`.
# Both create .venv on first use and install the project with pinned versions.

PYTHON ?= python3
# Some images and sandboxes set PYTHONDONTWRITEBYTECODE=1. Python then keeps no compiled
# cache, and every interpreter that the tests, the book's kernels and the labs start
# compiles pandas, scipy and scikit-learn from source again: about 4.7 s of CPU a start
# instead of 1.7 s. The venv is the project's own, so Make lets Python write its cache.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
JOBS ?= 2
BOOK_FLAGS := -W -n --keep-going
# One BLAS and OpenMP thread per process (page kernels, test workers, the processes they
# start): the book and the tests run side by side and fill both cores, and a second BLAS
# thread then spins waiting for a core instead of working (a logistic regression's fit
# cost 5x the CPU; three model test files took 9.5 CPU-s instead of 7.6). Same numbers.
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# Tests that share an expensive module fixture carry an xdist_group mark and run on one
# worker, so the fixture is built once (tests/conftest.py also starts slow tests first).
PYTEST := $(ONE_THREAD) $(BIN)/python -m pytest -n $(JOBS) --dist loadgroup
# The extras of pyproject.toml that the venv gets with the library. A CI job that needs
# less asks for less (`make venv EXTRAS=` is the library alone, EXTRAS=labs adds papermill).
EXTRAS ?= dev
STAMP := $(VENV)/.installed-$(or $(EXTRAS),library)
# `make lint` needs ruff and nothing else, so a lint-only job installs only ruff.
RUFF_STAMP := $(VENV)/.installed-ruff

.PHONY: help venv book book-clean book-cache-key test test-fast test-book lint lab labs \
	labs-notebooks bench pr-check coverage clean

help:
	@echo "make book   build the book into _build/html"
	@echo "make test   lint, build the book, run every test (library, notebooks, workflows, browser)"
	@echo "make lint   ruff"
	@echo "make test-fast   every test that does not read the built book"
	@echo "make test-book   build the book, then the tests that read it (browser included)"
	@echo "make lab    open the learner notebooks (labs/student) in JupyterLab on 127.0.0.1"
	@echo "make labs   run the labs' papermill matrix and 30 random legal parameter sets"
	@echo "make labs-notebooks   re-execute labs/src into labs/solutions and labs/student"
	@echo "make bench  run the benchmark scripts in bench/"
	@echo "make pr-check   the pull-request model check, locally: prints the PR comment"
	@echo "make coverage   the tests of make test-fast, with a coverage report (coverage.xml, htmlcov/)"
	@echo "make clean  remove build outputs (keeps .venv)"

# pip bootstraps uv (pinned in constraints.txt), and uv installs the project: the same
# pinned versions, in about 4 s instead of pip's 40 s (a third of `make test` was spent
# here, on one core). uv reads PyPI only, not pip's configuration: where uv cannot be
# installed or cannot reach PyPI, pip installs the same pins (slower, same result).
# Neither compiles every file up front: Python compiles the modules it imports on first use.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -c constraints.txt uv || true
	{ test -x $(BIN)/uv && $(BIN)/uv pip install --quiet --python $(BIN)/python \
		-c constraints.txt -e ".$(if $(EXTRAS),[$(EXTRAS)])"; } \
	|| $(BIN)/python -m pip install --quiet --no-compile -c constraints.txt \
		-e ".$(if $(EXTRAS),[$(EXTRAS)])"
	if $(BIN)/python -c "import ipykernel" 2>/dev/null; then \
		$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null; fi
	if test -x $(BIN)/ruff; then touch $(RUFF_STAMP); fi
	touch $@

$(RUFF_STAMP): constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -c constraints.txt ruff
	touch $@

venv: $(STAMP)

# jupyter-cache re-executes a page only when its own cells change. Pages also run the
# library, the tests, the workflows and the labs with the pinned packages, so the cached
# outputs are valid for one exact content of all of those. The stamp's name is the hash
# of that content (tracked and new files alike, never their dates): a new hash drops the
# cache and every page runs again; the same hash (an unchanged tree, or a fresh CI runner
# that restored _build/.jupyter_cache with its stamp) executes nothing.
BOOK_INPUTS := $(shell git ls-files --cached --others --exclude-standard mlcicd tests ci \
	config baseline labs .github pyproject.toml constraints.txt 2>/dev/null)
BOOK_INPUTS_HASH := $(shell sha256sum $(BOOK_INPUTS) /dev/null 2>/dev/null | sha256sum | cut -c1-16)
BOOK_PAGES_HASH := $(shell sha256sum $(shell git ls-files --cached --others --exclude-standard \
	book _config.yml _toc.yml 2>/dev/null) /dev/null 2>/dev/null | sha256sum | cut -c1-16)
BOOK_INPUTS_STAMP := _build/.book-inputs-$(BOOK_INPUTS_HASH)

$(BOOK_INPUTS_STAMP):
	rm -rf _build/.jupyter_cache _build/jupyter_execute _build/.book-inputs*
	mkdir -p _build
	touch $@

# jupyter-book's own process imports jsonschema, which imports an optional module that
# costs ~1.3 CPU-s a build for a format no schema here uses: mlcicd/lean_imports.py.
JUPYTER_BOOK := $(BIN)/python -c "import sys; \
	from mlcicd.lean_imports import skip_unused_optional_imports; skip_unused_optional_imports(); \
	from jupyter_book.cli.main import main; sys.exit(main(prog_name='jupyter-book'))"

book: $(STAMP) $(BOOK_INPUTS_STAMP)
	$(ONE_THREAD) $(JUPYTER_BOOK) build . $(BOOK_FLAGS)

# The CI cache key of the executed pages (.github/workflows/book.yml): the inputs' hash,
# then the pages' own hash, so a page edit restores the other pages' outputs.
book-cache-key:
	@echo "inputs=$(BOOK_INPUTS_HASH)"
	@echo "pages=$(BOOK_PAGES_HASH)"

book-clean:
	rm -rf _build

# `make test` runs two chains side by side on the two cores: the book build followed by
# the tests that read it (browser included), and every other test. The book side ends
# first, so its tests overlap the others instead of waiting for them. Each side's output
# is printed when it ends.
test: $(STAMP) lint
	@echo "make test: building the book, then its tests, while the other tests run; output follows each one's end"
	$(MAKE) --no-print-directory -j2 --output-sync=target test-book test-fast

test-fast: $(STAMP)
	$(PYTEST) -m "not book"

# Only the files with book tests are collected (collecting every module's doctests costs
# each worker about 3 s of CPU for nothing here).
BOOK_TEST_FILES = $(shell grep -l "pytest.mark.book" tests/test_*.py)

# No book test reads a notebook, so nbval's plugin is not loaded: it imports
# jupyter_client and nbformat (~0.25 CPU-s in each of the three pytest processes).
test-book: $(STAMP) book
	$(PYTEST) -p no:nbval -m book $(BOOK_TEST_FILES)

lint: $(RUFF_STAMP)
	$(BIN)/ruff check .

# JupyterLab on 127.0.0.1 in labs/student with the venv's python3 kernel (PORT=8889 make lab).
lab: $(STAMP)
	$(BIN)/mlcicd labs lab --port $(or $(PORT),8888)

# The named parameter sets, then a property run: 30 random legal sets across the labs
# (ranges in labs/params.yaml), seeded so a failure can be rerun with the same --seed.
labs: $(STAMP)
	$(ONE_THREAD) $(BIN)/mlcicd labs run --jobs $(JOBS) --out _build/labs
	$(ONE_THREAD) $(BIN)/mlcicd labs run --random 30 --seed $(or $(LABS_SEED),0) --jobs $(JOBS) \
		--out _build/labs-random

labs-notebooks: $(STAMP)
	$(BIN)/mlcicd labs execute

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

# The pull-request model check (.github/workflows/model-check.yml runs the same script).
# Override the candidate with e.g. PR_CHECK_CONFIG=my.yaml make pr-check
pr-check: $(STAMP)
	MLCICD=$(BIN)/mlcicd ci/pr_check.sh

# CI's pull-request job: lint and the book's tests run in their own jobs.
coverage: $(STAMP)
	$(PYTEST) -m "not book" \
		--cov=mlcicd --cov-report=term --cov-report=xml --cov-report=html
	$(BIN)/python -m coverage report --format=markdown > htmlcov/coverage.md

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis coverage.xml .coverage htmlcov
