#!/bin/bash
# The Chinese seed rows on a lent GPU: bench.seed_rows' own commands, LEAR and the tagger, in parallel.
# multilingual-e5-small is carried pruned to the pieces of OntoNotes 4, MSRA and Resume together (exact on each:
# `python -m bench.prune_encoder_vocab outputs/me5-small outputs/data/{zh_onto4,zh_msra,resume_zh} gpu_carry3/me5
# --check`, then xz), and placed where seed_rows looks for each corpus's pruned encoder; the converted corpora come
# as one tarball of outputs/data.
source "$(dirname "$0")/common.sh"
CARRY=${CARRY:-gpu_carry3}
install_wheels "$CARRY"
tar xzf "$CARRY"/data.tgz
mkdir -p /tmp/me5 && cp "$CARRY"/me5/*.json /tmp/me5/ && xz -dc "$CARRY"/me5/model.safetensors.xz > /tmp/me5/model.safetensors
for corpus in zh_onto4 zh_msra resume_zh; do [ -e outputs/me5-small-$corpus ] || ln -s /tmp/me5 outputs/me5-small-$corpus; done
# Each (corpus, fraction) pair's training subset, drawn once before the two models start (they would race to write it).
RUNS=${RUNS:-"zh_onto4:1.0 resume_zh:1.0 zh_msra:0.25 zh_msra:0.5"}
$PY -c "
import sys
from bench.seed_rows import training_data
for run in sys.argv[1:]:
    corpus, fraction = run.split(':')
    print(training_data(corpus, float(fraction), 0))
" $RUNS > /tmp/subsets.log 2>&1 || { tail /tmp/subsets.log; exit 1; }
start_snapshots
for run in $RUNS; do
  for model in ${MODELS:-lear tagger}; do
    bg logs/${run/:/-}-$model.log $PY -m bench.seed_rows ${run%%:*} --fraction ${run##*:} --model $model --threads 1
  done
done
wait_and_report
