# Quayside — the two commands of the README are `make demo` and `make test`.
# Every target runs `setup` first; it is idempotent and quick when done.

SHELL := /bin/bash
PY := .venv/bin/python
export QGIS_CUSTOM_CONFIG_PATH := $(CURDIR)/.qgis
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup demo test test-core lint screenshot install uninstall bench eval clean

setup:
	@scripts/setup.sh

demo: setup
	@$(PY) scripts/demo.py --out demo_output

test: setup
	@$(PY) -m pytest

# The core package without QGIS: proves core/ needs only numpy/scipy/rasterio/shapely.
test-core: setup
	@$(PY) -m pytest tests/core -p no:pytest_qgis -p no:pytestqt

lint: setup
	@.venv/bin/ruff check .

screenshot: setup
	@test -f demo_output/quayside_demo.qgz || $(PY) scripts/demo.py --out demo_output
	@scripts/screenshot.sh demo_output/quayside_demo.qgz docs/screenshot.png

# Link the plugin into your own QGIS profile (desktop use). QGIS must be
# closed; then enable "Quayside" in Plugins > Manage and Install Plugins.
QGIS_USER_PROFILE ?= $(HOME)/.local/share/QGIS/QGIS3/profiles/default
install: setup
	@mkdir -p "$(QGIS_USER_PROFILE)/python/plugins"
	@ln -sfn "$(CURDIR)" "$(QGIS_USER_PROFILE)/python/plugins/quayside"
	@$(PY) scripts/enable_plugin.py "$(QGIS_USER_PROFILE)/QGIS/QGIS3.ini"
	@echo "Linked $(CURDIR) as $(QGIS_USER_PROFILE)/python/plugins/quayside and enabled it."
	@echo "Start QGIS: the Quayside menu, toolbar and Processing provider are there."

uninstall:
	@rm -f "$(QGIS_USER_PROFILE)/python/plugins/quayside"
	@echo "Removed the link from $(QGIS_USER_PROFILE)/python/plugins."

# Evaluations on ../shared/data and the synthetic ports (not part of make test); the
# speed/memory benchmarks (bench/bench_*.py) take 10-60 minutes each: run them by hand.
bench: setup
	@$(PY) bench/eval_water.py
	@$(PY) bench/eval_ships.py
	@$(PY) bench/eval_containers.py
	@$(PY) bench/eval_change.py

clean:
	rm -rf demo_output .venv .qgis
