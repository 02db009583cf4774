#!/bin/bash
# Weibo (Chinese, small, noisy) on a lent GPU: multilingual-e5-small pruned to the pieces Weibo uses
# (bench/prune_encoder_vocab.py: identical tokenization), LEAR and the tagger under several recipes, 3 seeds each.
# It ran at commit ebc36b5: `bench.quality --full` is gone since (full-data rows are bench.seed_rows'), so run it from
# a checkout of that commit to repeat the rows.
source "$(dirname "$0")/common.sh"
install_wheels gpu_carry2
restore_fp32 gpu_carry2/me5 outputs/me5-small
convert_corpus gpu_carry2 weibo_zh
$PY -c "
from bench.quality import make_subset, converted_corpus
for seed in (0, 1, 2):
    make_subset(converted_corpus('weibo_zh'), 1.0, seed, 0)
" > /tmp/subsets.log 2>&1 || { tail /tmp/subsets.log; exit 1; }
start_snapshots
Q="$PY -m bench.quality --corpus weibo_zh --full --seeds 0 1 2 --batch-size 16 --threads 1 --test-size 0 --jobs 6"
bg logs/lr5e-5-e10.log $Q --full-epochs 10 --learning-rate 5e-5 --tag lr5e-5-e10
bg logs/lr1e-4-e5.log $Q --full-epochs 5 --learning-rate 1e-4 --tag lr1e-4-e5
bg logs/lr2e-4-e3.log $Q --full-epochs 3 --learning-rate 2e-4 --tag lr2e-4-e3
wait_and_report
