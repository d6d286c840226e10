#!/usr/bin/env bash
# The GPU check of issue 6, in one go, for a machine with an NVIDIA GPU (about 5 minutes at most):
#   1. the GPU tests: CuPy/NumPy parity (activations, every optimizer, training), dropout drawn on
#      the device, gradcheck on the GPU, device handling, the fused kernels; then
#      tests/test_fake_gpu.py (every GPU code path: chunked data, resume, sample weights, the
#      commands, the estimators...) on CuPy itself instead of the stand-in (NETTRAIN_REAL_GPU=1);
#   2. nettrain gradcheck --device gpu on the digits config;
#   3. the GPU benchmark: nettrain on CuPy vs PyTorch eager CUDA (benchmarks/gpu_bench.py), then
#      nettrain's batch-256 epoch under cProfile.
# Installs nothing. Assumes numpy, cupy, torch (CUDA), typer, rich, pyyaml, pytest are present and
# says clearly which one is missing. Run from anywhere:  bash benchmarks/gpu_check.sh
# Everything it prints is also written to $OUT/gpu_check.log when OUT names a folder.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# output through a pipe (tee, a log) is block-buffered by Python: a step stopped by its time
# limit would lose everything it printed
export PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then
  exec > >(tee "$OUT/gpu_check.log") 2>&1
fi

missing=0
for mod in numpy cupy torch typer rich yaml pytest threadpoolctl; do
  if ! "$PY" -c "import $mod" 2>/dev/null; then
    echo "gpu_check: Python module '$mod' is missing (pip install it, or nettrain[gpu] for cupy)"
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 2
"$PY" -c "import cupy; n = cupy.cuda.runtime.getDeviceCount(); assert n > 0" 2>/dev/null \
  || { echo "gpu_check: CuPy is installed but no GPU answers"; exit 2; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
"$PY" -c "import sys, numpy, cupy, torch; from importlib.metadata import version as v; print('python', sys.version.split()[0],
'| numpy', numpy.__version__, '| cupy', cupy.__version__, '| CUDA runtime', cupy.cuda.runtime.runtimeGetVersion(),
'| NVRTC', cupy.cuda.nvrtc.getVersion(), '| torch', torch.__version__, '| typer', v('typer'),
'| click', v('click'))" || true

echo "== 1. GPU tests: every @gpu test, and the device-parametrized and kernel tests on the GPU"
# -W default: a warning from CuPy or CUDA is shown, not turned into a failure (pyproject's
# filterwarnings=error is for our own code on the CPU)
PYTHONPATH=. timeout 170 "$PY" -m pytest -q -p no:cacheprovider -W default -m "gpu or not slow" \
  tests/test_gpu.py tests/test_kernels.py
tests_rc=$?
echo "== 1b. every GPU code path of tests/test_fake_gpu.py on CuPy itself (NETTRAIN_REAL_GPU=1)"
NETTRAIN_REAL_GPU=1 PYTHONPATH=. timeout 120 "$PY" -m pytest -q -p no:cacheprovider -W default -rs \
  tests/test_fake_gpu.py
paths_rc=$?

echo "== 2. the command: nettrain gradcheck --device gpu (the GPU's fused step vs finite differences)"
PYTHONPATH=. timeout 60 "$PY" -m nettrain gradcheck configs/digits.yaml --device gpu
gradcheck_rc=$?

echo "== 3. benchmark (nettrain CuPy vs PyTorch CUDA)"
PYTHONPATH=. timeout 150 "$PY" benchmarks/gpu_bench.py --profile
bench_rc=$?

echo "== done: tests exit $tests_rc, paths exit $paths_rc, gradcheck exit $gradcheck_rc, benchmark exit $bench_rc"
[ "$tests_rc" = 0 ] && [ "$paths_rc" = 0 ] && [ "$gradcheck_rc" = 0 ] && [ "$bench_rc" = 0 ]
