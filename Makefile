# Every target with a `##` comment is listed by `make help`.
# The project's virtual environment (.venv) is created from requirements.lock on first use
# and rebuilt whenever the lock or pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?=
OUT    ?=
DATA   ?= synthetic
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help env spark reports test lab bench lock clean workshop check

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-9s\033[0m %s\n", $$1, $$2}'

# Packages are compiled to bytecode at install, as pip does by default (uv does not): every kernel
# and command then starts from bytecode, even where PYTHONDONTWRITEBYTECODE stops Python caching it
# (measured: importing the notebooks' stack 11.6 s -> 5.3 s on a loaded machine; install +34 s).
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the locked environment into $(VENV) ..."
	@$(BIN)/python -m pip install -q --disable-pip-version-check "$$(grep -E '^uv==' requirements.lock)"
	@$(BIN)/uv pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $@

env: $(STAMP) ## create or refresh the virtual environment from the lock

# The Spark engine is optional: pyspark (and py4j) from requirements-spark.lock, on top of the core.
SPARK_STAMP := $(VENV)/.spark-installed
$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	@$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements-spark.lock
	@touch $@

spark: $(SPARK_STAMP) ## add the optional Spark engine (pyspark; Spark needs Java 17+) to the environment
	@$(BIN)/python -c 'from marketing.spark import require_java; print(f"Spark engine ready (Java {require_java()}).")'

reports: $(STAMP) ## build every report (reports/<case>/<analysis>.*); DATA=public: real data into reports/public/; OUT=dir
	$(BIN)/python -m marketing reports --data $(DATA) $(if $(JOBS),-j $(JOBS)) $(if $(OUT),-o $(OUT))

test: $(SPARK_STAMP) ## run the whole test suite (unit, notebooks, report reproducibility, the Spark engine)
	@# the package's own bytecode too: each test kernel would compile it again otherwise
	@$(BIN)/python -m compileall -q marketing benchmarks >/dev/null
	@$(BIN)/python -m pytest -n 2 --dist loadfile tests marketing reports \
		--nbval --nbval-current-env --nbval-sanitize-with reports/sanitize.cfg --nbval-cell-timeout 900 \
		$(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# Lab serves the repository root, so reports/ and data/ can be browsed, and opens on notebooks/.
# Jupyter refuses to run as root (as in many containers) unless told: add the flag and say so.
LAB_ARGS ?=
lab: $(STAMP) ## open JupyterLab at the repository root, on notebooks/, with the project's kernel
	@if [ "$$(id -u)" = 0 ]; then echo "note: running as root (a container?): adding --allow-root to jupyter lab"; fi
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks \
		--MappingKernelManager.default_kernel_name=python3 $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(SPARK_STAMP) requirements-bench.lock
	@$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements-bench.lock
	@touch $@

bench: $(BENCH_STAMP) ## run the benchmarks into benchmarks/results/ (takes a while: large data)
	$(BIN)/python -m benchmarks

lock: ## re-resolve requirements.lock from pyproject.toml (needs the package index)
	@test -x $(BIN)/uv || $(MAKE) env
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -q -o requirements.lock --custom-compile-command "make lock"
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark -c requirements.lock --python-version 3.11 -q -o requirements-spark.lock --custom-compile-command "make lock"
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --extra bench -c requirements.lock --python-version 3.11 -q -o requirements-bench.lock --custom-compile-command "make lock"
	@# Binder's copy of the lock (binder/requirements.txt): the same pins under a two-line header
	{ head -n 2 binder/requirements.txt; cat requirements.lock; } > binder/requirements.txt.new && mv binder/requirements.txt.new binder/requirements.txt

clean: ## remove the virtual environment, caches and generated HTML
	rm -rf $(VENV) .pytest_cache reports/index.html
	find . -name __pycache__ -prune -exec rm -rf {} +
	find reports -name '*.html' -delete

# The participants' set-up check: the Python version (with the system Python), the install (make env),
# then the stack, a kernel and a tiny analysis. Without make: python workshop/check_setup.py --install
check: ## workshop set-up check: install .venv, import the stack, start a kernel, run a tiny analysis
	@$(PYTHON) workshop/check_setup.py --python-only
	@$(MAKE) --no-print-directory env
	@$(BIN)/python workshop/check_setup.py

workshop: $(STAMP) ## write the learner notebooks workshop/*.ipynb from workshop/solutions/ (solutions stripped)
	$(BIN)/python -m marketing.workshop.build
