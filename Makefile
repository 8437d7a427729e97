# One command to set up and run, one to test. Works in a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
INDEX ?= data/index
# dev sets: ../shared/eval beside the clone, else the copies in tests/resources/eval (EVAL=DIR to choose)
EVAL ?= $(if $(wildcard ../shared/eval/dev_questions.jsonl),../shared/eval,tests/resources/eval)

.PHONY: setup run serve ingest lint test test-fast browser eval bench bench-quick clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# torch first, from the CPU build on this machine's disk (a bare `torch` pulls a CUDA build)
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test,llm-test]'
	@touch $(STAMP)

ingest: setup
	$(BIN)/qunzhong ingest corpus --index $(INDEX)

run: setup
	@# built when missing, and again when this version reads it otherwise (`status` fails on both)
	@$(BIN)/qunzhong status --index $(INDEX) >/dev/null 2>&1 || $(BIN)/qunzhong ingest corpus --index $(INDEX)
	$(BIN)/qunzhong serve --index $(INDEX) --host 127.0.0.1 --port 7860

browser:
	@# Debian's Chromium for the page tests, and a CJK font so screenshots show Chinese, not boxes
	@(command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .) || \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
		|| echo "warning: could not install chromium; browser tests will be skipped"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: setup browser lint
	$(BIN)/python -m pytest -q

test-fast: setup lint
	$(BIN)/python -m pytest -q -m "not slow and not browser"

# Every evaluation set, per language, each on its own index under data/eval (built once; the
# official-documents index takes ~20 minutes the first time): benchmarks/eval_all.py
eval: setup
	$(BIN)/python benchmarks/eval_all.py --shared $(EVAL) --json data/eval/report.json

bench-quick: setup
	$(BIN)/python benchmarks/bench.py --quick

bench: setup
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf data .pytest_cache .ruff_cache .import_linter_cache
