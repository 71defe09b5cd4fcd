# `make run` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
# this directory, so `make -f path/to/Makefile demo` works from anywhere
HERE := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV := $(HERE)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench clean

$(STAMP): $(HERE)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '$(HERE)[dev,semantic]'
	touch $(STAMP)

run: $(STAMP)
	@$(BIN)/helpthread run

# The sample desk day on a throwaway database (a temporary directory, removed after) and
# the default config, as the shell desk: the same output on every run, whatever
# ./helpthread.db, ./helpthread.toml, HELPTHREAD_ settings or platform credentials in the
# environment hold.
demo: $(STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT INT TERM && : > "$$tmp/helpthread.toml" \
	&& env -u SLACK_BOT_TOKEN -u SLACK_SIGNING_SECRET -u SLACK_APP_TOKEN -u DISCORD_TOKEN \
	   $$(env | sed -n 's/^\(HELPTHREAD_[A-Za-z0-9_]*\)=.*/-u \1/p') \
	   HELPTHREAD_CONFIG="$$tmp/helpthread.toml" \
	   HELPTHREAD_DATABASE_URL="sqlite+aiosqlite:///$$tmp/demo.db" \
	   $(BIN)/helpthread run < $(HERE)/samples/desk-day.txt

# mypy runs beside pytest (the suite mostly waits on the processes it starts); its
# report comes after pytest's, and either failing fails the target.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@$(BIN)/mypy --strict core adapters bot > $(VENV)/mypy.out 2>&1 & mypy=$$!; \
	$(BIN)/pytest -q --numprocesses=auto --maxprocesses=4; tests=$$?; \
	wait $$mypy; typed=$$?; echo "$(BIN)/mypy --strict core adapters bot"; \
	cat $(VENV)/mypy.out; test $$tests = 0 && test $$typed = 0

bench: $(STAMP)
	$(BIN)/python -m bench.core
	$(BIN)/python -m bench.delivery

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
