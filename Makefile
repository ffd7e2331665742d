# The README's two commands are the contract with every new user:
#   make demo   sets up and runs the main job on embedded defaults
#   make test   sets up and passes the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo demo-console test lint proto bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hedui demo

# The same demo, its web console kept up to try in a browser until Enter or Ctrl-C
# (two hours at most); `make demo` itself always finishes.
demo-console: $(STAMP)
	HEDUI_DEMO_CONSOLE_MINUTES=120 $(BIN)/hedui demo

# Two workers (2 cores is CI's machine), each test module whole on one worker; then the
# browser suite in one process of its own, in order: nothing may follow it in a process
# (tests/conftest.py), its modules share one site, and xdist hands out the largest
# modules first, not in order.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2 --dist loadfile --ignore=tests/console/browser
	$(BIN)/pytest -q tests/console/browser

lint: $(STAMP)
	$(BIN)/ruff check .

# Regenerates the committed Python code from proto/hedui/v1/*.proto.
proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I proto \
	  --python_out=proto --pyi_out=proto --grpc_python_out=proto \
	  proto/hedui/v1/*.proto

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
