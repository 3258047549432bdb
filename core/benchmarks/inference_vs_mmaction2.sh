#!/usr/bin/env bash
# Inference clips/s of TSM-R50 and SlowFast-R50 (batch 8, the test pipeline's input shape) against MMAction2
# 1.2.0's test-mode forward, side by side in one process: ours with batch norm folded (what action-run test
# runs), our plain eager model, MMAction2.
#
#   core/benchmarks/inference_vs_mmaction2.sh SIDE_PYTHON [ITERS] [WARMUP] [THREADS]
#
# SIDE_PYTHON: the interpreter of an environment with MMAction2 (mmaction, mmengine, mmcv) installed; this
# checkout is put on its PYTHONPATH by core/benchmarks/side_env.py (run with .venv/bin/python).
set -euo pipefail
side=${1:?usage: $0 SIDE_PYTHON [ITERS] [WARMUP] [THREADS]}
iters=${2:-3}
warmup=${3:-1}
threads=${4:-2}
root=$(cd "$(dirname "$0")/../.." && pwd)
links=$(mktemp -d)
trap 'rm -rf "$links"' EXIT
export PYTHONPATH
PYTHONPATH=$("$root/.venv/bin/python" "$root/core/benchmarks/side_env.py" "$links")
lscpu | grep -E '^Model name' || true
echo "vector units: $(grep -m1 -ow -E 'avx2|avx512f|avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for preset in tsm_r50_1x1x8_50e_kinetics400_rgb slowfast_r50_4x16x1_256e_kinetics400_rgb; do
    "$side" -m action_core.cli.main bench infer "$preset" --synthetic-data --split test --batch-size 8 \
        --iters "$iters" --warmup "$warmup" --threads "$threads" --compare-eager --reference mmaction2 \
        --reference-memory-format contiguous
done
