# deblur3d: every target runs inside .venv, created by `make install`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install rasterizer test test-all bench data render clean

install: $(VENV)/.installed rasterizer

$(VENV)/.installed: requirements.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# Its declared dependencies (tensorflow-addons, ...) have no TF 2.21 build; the rasterizer needs none of them.
	$(PY) -m pip install -q --no-deps tensorflow-graphics==2021.12.3
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# Rebuild the tf-graphics rasterizer op against the installed TensorFlow (idempotent).
rasterizer: $(VENV)/.installed
	$(PY) -m deblur3d.face.build_rasterizer

test: install
	$(PY) -m pytest -q tests

# Includes the tests marked slow.
test-all: install
	$(PY) -m pytest -q -m "slow or not slow" tests

bench: install
	$(PY) experiments/bench_render.py
	$(PY) experiments/bench_data.py

data: install
	$(PY) experiments/prepare_data.py

render: install
	$(PY) experiments/render_face.py --face_model=ict --out=outputs/face.png

clean:
	rm -rf $(VENV) build *.egg-info
