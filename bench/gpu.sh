#!/usr/bin/env bash
# The GPU suite and a short timing of both presets on this machine's GPUs, in one summary.
#
#   FASHIONKIT_DATA_DIR=/path/to/fashion-mnist bash bench/gpu.sh [OUT]
#
# 1. tests/test_gpu.py (marked gpu): the presets on one GPU, mirrored over all GPUs with a finite
#    loss, mixed_float16 and mixed_bfloat16 where the GPU has them, memory growth and limits,
#    export of a GPU-trained run with its parity check, and the precision auto chooses.
# 2. Each preset trained in full on GPU 0, one seed (42), in the precision auto chooses there:
#    as shipped (deterministic: Keras then runs the step without XLA), and with the step
#    compiled by XLA (--set deterministic=false --set device.jit_compile=on), the trade-off
#    of determinism for speed measured rather than assumed.
# 3. One table: the tests' outcome and each preset's fit seconds and accuracy, with the GPU named.
# Budgeted for under 15 minutes on one modern GPU; every step has its own time limit. Without a
# GPU the tests are skipped (their reason printed) and the script says so and stops.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FASHIONKIT_DATA_DIR:?set FASHIONKIT_DATA_DIR to the folder with the four Fashion-MNIST files}"
export FASHIONKIT_VERIFY="${FASHIONKIT_VERIFY:-0}" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
out="${1:-bench/measured/gpu}"
mkdir -p "$out"
started=$(date +%s)

echo "== the GPU tests"
timeout 420 python -m pytest tests/test_gpu.py -ra -p no:cacheprovider \
    --junitxml "$out/gpu-tests.xml" | tee "$out/gpu-tests.txt"
tests_status=${PIPESTATUS[0]}

if grep -q "no GPU" "$out/gpu-tests.txt"; then
    echo "no GPU here: the GPU tests were skipped and the timing is not run."
    exit "$tests_status"
fi

echo "== a short timing of both presets (seed 42, GPU 0)"
timing_status=0
for preset in fast accurate; do
    timeout 150 fashionkit train --preset "$preset" --seed 42 --device gpu --gpus 0 \
        --json >"$out/timing-$preset.json" 2>>"$out/timing.log" || timing_status=$?
    timeout 150 fashionkit train --preset "$preset" --seed 42 --device gpu --gpus 0 \
        --set deterministic=false --set device.jit_compile=on \
        --json >"$out/timing-$preset-xla.json" 2>>"$out/timing.log" || timing_status=$?
done
nvidia-smi --query-gpu=name,compute_cap,memory.total --format=csv,noheader >"$out/gpus.txt" 2>&1

echo "== summary"
python - "$out" "$tests_status" "$timing_status" "$started" <<'PY'
import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

out, tests_status, timing_status, started = Path(sys.argv[1]), *map(int, sys.argv[2:])
suite = ET.parse(out / "gpu-tests.xml").getroot().find("testsuite")
counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
gpus = (out / "gpus.txt").read_text().strip().replace("\n", "; ")
rows = []
for preset, step in [(p, s) for p in ("fast", "accurate") for s in ("", "-xla")]:
    name = f"{preset}{step}"
    lines = (out / f"timing-{name}.json").read_text().splitlines()
    mode = "XLA, not deterministic" if step else "deterministic, no XLA"
    if not lines:
        rows.append(f"| `{preset}` | {mode} | failed: see timing.log | | | | | |")
        continue
    r = json.loads(lines[-1])
    placement = r["placement"]
    rows.append(
        f"| `{preset}` | {mode} | "
        f"{', '.join(placement['devices'])} | {placement['precision']} | "
        f"{len(r['history'])} | {r['fit_seconds']:.1f} | {r['validation']['accuracy']:.4f} | "
        f"{r['test']['accuracy']:.4f} |"
    )
print(
    f"GPU tests: {passed} passed, {counts['failures'] + counts['errors']} failed, "
    f"{counts['skipped']} skipped (pytest exit {tests_status}); timing exit {timing_status}; "
    f"{time.time() - started:.0f} s in all. GPUs: {gpus}."
)
print(
    "| preset | step | devices | precision | epochs | fit seconds (compile included) "
    "| validation | test (one seed) |"
)
print("|---|---|---|---|---|---|---|---|")
print("\n".join(rows) or "| (no timing: see timing.log) | | | | | | | |")
PY
[ "$tests_status" -eq 0 ] && [ "$timing_status" -eq 0 ]
