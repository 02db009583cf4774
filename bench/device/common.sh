# Shared by the device scripts (sourced): environment, wheels, an fp16 encoder restored in fp32, corpora from a
# carry folder, parallel background jobs and periodic result snapshots into $OUT.
set -u
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false LEAR_COMMIT=${LEAR_COMMIT:-unknown}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
PY=${PY:-python3}

install_wheels() {  # $1: the carry folder (its whl/ holds the wheels)
  if [ -z "${SKIP_INSTALL:-}" ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$1"/whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
  fi
  $PY -c "import torch, transformers, datasets; print(torch.__version__, transformers.__version__, datasets.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))" || exit 1
}

restore_fp32() {  # $1: an encoder folder with fp16 safetensors, $2: where to write it in fp32
  $PY - "$1" "$2" <<'PYEOF' || exit 1
import os, shutil, sys
from safetensors.torch import load_file, save_file
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for f in os.listdir(src):
    if f != "model.safetensors":
        shutil.copy(os.path.join(src, f), dst)
save_file({k: v.float() for k, v in load_file(os.path.join(src, "model.safetensors")).items()},
          os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
PYEOF
}

convert_corpus() {  # $1: the carry folder, $2: the corpus (gzipped files in $1/$2)
  mkdir -p /tmp/shared/data/"$2"
  for f in "$1"/"$2"/*.gz; do gunzip -c "$f" > /tmp/shared/data/"$2"/"$(basename "$f" .gz)"; done
  $PY -m data_scripts.convert "$2" /tmp/shared/data outputs/data/"$2" > /tmp/convert_"$2".log 2>&1 || { tail /tmp/convert_"$2".log; exit 1; }
  export LEAR_SHARED_DIR=/tmp/shared
}

snapshot() {  # written aside and renamed: a call cut off mid-write still returns the previous whole snapshot
  tar czf "$OUT"/partial.tgz bench/results outputs/seed_rows/*.log outputs/bench/quality/*/*/run.log \
    outputs/runs/*/*_results.json outputs/runs/*/run.log logs 2>/dev/null
  mv "$OUT"/partial.tgz "$OUT"/results.tgz
}
start_snapshots() { mkdir -p logs; ( while true; do sleep 20; snapshot; done ) & SNAP=$!; }
PIDS=()
bg() { local log=$1; shift; "$@" > "$log" 2>&1 & PIDS+=($!); }
alive() { for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
wait_and_report() {
  while alive; do sleep 15; echo "$(date +%T) results: $(ls bench/results | wc -l)"; done
  kill "$SNAP"; snapshot
  grep -h "done\|Error" logs/*.log | tail -60
}
