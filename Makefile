# `make run` and `make test` work on a fresh machine: they create .venv and install first.
PYTHON ?= python3
VENV   ?= .venv
# pinned torch (a local CPU wheel on the dev machines, else pip's index: on Linux PyPI's is the
# ~5.7 GB CUDA build); override: make TORCH=torch==2.x, and for the CPU-only build from PyTorch's
# own index: make TORCH_INDEX=https://download.pytorch.org/whl/cpu (README: "Before you install")
TORCH  ?= torch==2.13.0
TORCH_INDEX ?=
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(subst =,_,$(TORCH))
DEMO   := demo/demo_checkpoint.pth

.PHONY: install run screenshot screenshots test test-slow lint format bench clean fuzz translations

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$(TORCH)" $(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)")
	$(BIN)/python -m pip install -q -e ".[remote,gguf,test,dev]"
	rm -f $(VENV)/.installed-*
	touch "$@"

# without a display ckptviewer says so in one line (and how to proceed) and exits 2: that line
# stays the last word instead of make's "Error 2"
run: install
	$(BIN)/python -m ckptviewer.demo demo
	$(BIN)/ckpt tree $(DEMO) --depth 2
	@echo "$(BIN)/ckptviewer $(DEMO)"; $(BIN)/ckptviewer $(DEMO) || test $$? -eq 2

screenshot: install
	$(BIN)/python -m ckptviewer.demo demo
	QT_QPA_PLATFORM=offscreen $(BIN)/ckptviewer $(DEMO) --select model.module.layer2.0.weight --screenshot docs/screenshot.png

# every journey's end state at 1024x640 and 1920x1080, light and dark, into docs/screenshots/
screenshots: install
	rm -rf docs/screenshots
	CKPT_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider tests/gui/journeys

test: install
	$(BIN)/python -m pytest -q -m "not slow"

# the slow end-to-end cases (the hostile corpus through every command and the window); CI runs them
test-slow: install
	$(BIN)/python -m pytest -q -m slow

lint: install
	$(BIN)/ruff check ckptviewer tests bench tools
	$(BIN)/ruff format --check ckptviewer tests bench tools
	$(BIN)/lint-imports
	$(BIN)/python tools/mypy_baseline.py

# the window's catalogues (ckptviewer/resources/translations): pyside6-lupdate over the package's .py
# files -> .ts (new strings unfinished, obsolete ones dropped), then pyside6-lrelease -> .qm;
# lists what is left to translate (tests/gui/test_translations.py fails on the same list)
translations: install
	$(BIN)/python tools/translations.py update

format: install
	$(BIN)/ruff format ckptviewer tests bench tools
	$(BIN)/ruff check --fix ckptviewer tests bench tools

# coverage-guided fuzzing of the unpickler and every reader (tests/fuzz): FUZZ_SECONDS per target
FUZZ_SECONDS ?= 120
FUZZ_TARGET  ?= all
fuzz: install
	$(BIN)/python -m tests.fuzz.run --target $(FUZZ_TARGET) --seconds $(FUZZ_SECONDS)

bench: install
	$(BIN)/python bench/bench_open.py
	$(BIN)/python bench/bench_stats.py
	$(BIN)/python bench/bench_gui.py
	$(BIN)/python bench/bench_save.py
	$(BIN)/python bench/bench_diff.py
	$(BIN)/python bench/bench_launch.py
	$(BIN)/python bench/bench_folders.py
	$(BIN)/python bench/bench_remote.py
	$(BIN)/python bench/bench_prep.py
	$(BIN)/python bench/bench_run.py

clean:
	rm -rf $(VENV) demo bench/out .pytest_cache
