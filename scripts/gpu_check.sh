#!/usr/bin/env bash
# The GPU checks in one pass, on a machine with one CUDA device: `dcgan bench --device cuda` (our
# trainer in fp32, bf16 and bf16 + compile against the textbook loop; Inception features against
# pytorch-fid; the Fréchet distance against sqrtm), then tests/test_gpu.py (training on CUDA, a
# one-GPU torchrun over NCCL, features against pytorch-fid on the GPU). pytorch-fid must be
# importable for the features rows. Logs and the benchmark's JSON go to ${OUT:-gpu-check}/; each
# part has its own time limit (BENCH_LIMIT, TEST_LIMIT) so one hang cannot take the others' results.
set -uo pipefail
out="${OUT:-gpu-check}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)" \
  | tee -a "$out/gpu.txt"

timeout "${BENCH_LIMIT:-330}" python3 -m dcgan bench --device cuda --fid-n "${FID_N:-1024}" --fid-batch-size 128 \
  --json > "$out/bench.json" 2> >(grep -v DEBUG | tail -c 20000 > "$out/bench.err")
echo "bench exit $?"
python3 - "$out/bench.json" <<'EOF' | tee "$out/bench.txt"
import json, sys
from dcgan.bench import table
print(table(json.load(open(sys.argv[1]))))
EOF

timeout "${TEST_LIMIT:-200}" python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py -rfEs 2>&1 | tee "$out/tests.log"
echo "tests exit ${PIPESTATUS[0]}" | tee -a "$out/tests.log"

