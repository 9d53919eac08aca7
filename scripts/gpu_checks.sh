#!/usr/bin/env bash
# Every GPU check and figure, in one run on a CUDA machine (the device tool runs it from the
# repository root with the wheels of MONAI and psygnal in .whl/, and $OUT for the logs).
# QUICK=1: only the cold-process fine-tune and the inference figures (no correctness checks).
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD:$PWD/plugins PYTHONUNBUFFERED=1
out=${OUT:-/tmp}
nvidia-smi -L
if [ -z "${QUICK:-}" ]; then
    timeout 150 python3 scripts/gpu_checks.py 2>&1 | tee "$out/checks.txt"
    timeout 240 python3 benchmarks/bench_gpu_inference.py --big 32768 2>&1 | tee "$out/inference.txt"
    timeout 150 python3 benchmarks/bench_finetune_gpu.py 2>&1 | tee "$out/finetune.txt"
    timeout 330 python3 benchmarks/bench_finetune_gpu_cold.py 2>&1 | tee "$out/finetune_cold.txt"
    timeout 80 python3 scripts/gpu_profile.py 2>&1 | tee "$out/profile.txt"
else
    timeout 150 python3 benchmarks/bench_gpu_inference.py --quick 2>&1 | tee "$out/inference.txt"
    timeout 330 python3 benchmarks/bench_finetune_gpu_cold.py 2>&1 | tee "$out/finetune_cold.txt"
fi
