#!/usr/bin/env bash
# The fast model (models/fast) distilled again, from the current default model's run (4.0.0,
# runs/e5-svc from training/finetune_service.sh): a 4-layer student with the teacher's tokenizer,
# embeddings, heads and lexical model, trained on the full data mix plus the team-labelled
# service turns with the teacher's soft labels (weight 0.7), the same recipe as training/run.sh →
# export with 7-bit weights (U8S8) → evaluate (training/results/e5-l4-svc/) → model card.
# About MINUTES (default 60) + 15 minutes on the 2 cores.
#
#   training/distil_fast.sh                 # MINUTES=60 EXPORT=1
#   MINUTES=5 EXPORT=0 training/distil_fast.sh
#
# Needs runs/e5-svc (training/finetune_service.sh); checkpoints in runs/e5-l4-svc (ignored by git);
# RESUME=1 continues a stopped run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
py="$here/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "run training/finetune_service.sh first (it creates the venv and runs/e5-svc)" >&2
  exit 2
fi
if [ ! -f runs/e5-svc/best.pt ]; then
  echo "runs/e5-svc/best.pt is missing: run training/finetune_service.sh first" >&2
  exit 2
fi
resume=${RESUME:+--resume}
"$py" -c "import train; train.examples()"
"$py" train.py --design e5 --e5-layers 4 --distill-from runs/e5-svc --minutes "${MINUTES:-60}" \
  --bs 32 --lr 5e-5 --eval-every 15 --distill-weight 0.7 \
  --source-weights cantonese_forum=4,cped=1.5,chinese_conversation_manual=1.5,smp2020_virus=2,clue_emotion=2 \
  --out runs/e5-l4-svc $resume
mkdir -p results/e5-l4-svc
cp runs/e5-l4-svc/train_info.json results/e5-l4-svc/
if [ "${EXPORT:-1}" = 0 ]; then
  exit 0
fi
out=${OUT:-../models/fast}
"$py" export.py --run runs/e5-l4-svc --out "$out" --weight-bits 7
cp runs/e5-l4-svc/ensemble.json results/e5-l4-svc/
"$py" evaluate.py --model "$out" --out results/e5-l4-svc/metrics.json --baselines-from metrics.json
(cd .. && cargo build --release --locked --quiet && python3 training/service_turns/evaluate.py --model "${out#../}" \
  --split test --out training/results/e5-l4-svc/service_turns_test.json > /dev/null)
"$py" model_card.py --metrics results/e5-l4-svc/metrics.json --out "$out/MODEL_CARD.md"
