# The course's two commands, each doing its own set-up on a fresh machine (and skipping what is done already):
#   make book   builds the website into _build/html (executes the pages that are not cached yet)
#   make test   runs every test: package, grading, every notebook (nbval), then builds the book from the notebooks
#               the tests just executed (one execution per page) and checks the site in a headless browser
# Overrides: TORCH_SPEC='torch==2.6.0' (the PyTorch to install), PYTHON=python3.12 (the interpreter of the .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONUNBUFFERED := 1

.PHONY: book test setup browser lint clean

book: setup
	$(BIN)/jupyter-book build . -W -n --keep-going

test: setup browser lint
	$(BIN)/python -m pytest --nbval-lax -m "not site"
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/python -m pytest -m site

lint: setup
	$(BIN)/ruff check .

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml scripts/setup_python.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup_python.sh
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (it serves MathJax and the widget manager offline)"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

browser:
	@bash scripts/setup_browser.sh

clean:
	rm -rf _build
