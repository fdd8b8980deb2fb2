#!/usr/bin/env bash
# The main job on the bundled samples with the bundled model, from a fresh clone:
# fetch the ONNX Runtime library (PyPI wheel) → build → score the samples → per-agent numbers →
# coach reports (HTML + Markdown) → training-system export → calibration against the reviewers of
# the bundled development set (300 real helpdesk dialogues, calibration/dev) → training effect on
# eight generated weeks with planted effects (scripts/gen-multiweek.py, docs/EFFECT.md).
#
#   scripts/demo.sh [OUT_DIR]          (default: out/)
#
# Exit code: that of `convqa score` (0 = all records scored; 1 would mean some were rejected).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out}

CONVQA_ORT_LIB="$(bash scripts/setup-ort.sh)"
export CONVQA_ORT_LIB
cargo build --release --locked --quiet
bin=target/release/convqa
if [ -n "${CARGO_TARGET_DIR:-}" ]; then bin="$CARGO_TARGET_DIR/release/convqa"; fi

echo "== convqa score samples/conversations_{zh,zh_hant,en}.jsonl samples/conversations.csv --config config/convqa.toml --out $out/run   ([redact] is on there)"
"$bin" score samples/conversations_zh.jsonl samples/conversations_zh_hant.jsonl \
    samples/conversations_en.jsonl samples/conversations.csv --config config/convqa.toml \
    --out "$out/run"
echo "== convqa agents --from $out/run --out $out/agents"
"$bin" agents --from "$out/run" --out "$out/agents"
echo "== convqa report --from $out/run --lang en --out $out/report   (and in Chinese, the samples' language, → $out/report-zh)"
"$bin" report --from "$out/run" --lang en --out "$out/report"
"$bin" report --from "$out/run" --out "$out/report-zh"
echo "== convqa export --from $out/run --out $out/export.json"
"$bin" export --from "$out/run" --out "$out/export.json"
echo "== convqa score calibration/dev/dialogues.jsonl --out $out/dev; convqa calibrate --out $out/calibration"
"$bin" score calibration/dev/dialogues.jsonl --out "$out/dev"
"$bin" calibrate --from "$out/dev" --labels calibration/dev/labels.jsonl \
    --labels calibration/dev/labels_second_pass.jsonl --map config/rubric-map.toml --out "$out/calibration"
echo "== scripts/gen-multiweek.py --out $out/multiweek; convqa score; convqa effect --out $out/effect"
python3 scripts/gen-multiweek.py --out "$out/multiweek" > /dev/null
"$bin" score "$out/multiweek/conversations.jsonl" --out "$out/multiweek/run"
"$bin" effect --from "$out/multiweek/run" --completions "$out/multiweek/completions.jsonl" --out "$out/effect"
echo "== convqa topics --from $out/multiweek/run --period week --out $out/topics   (contact drivers; the reports below take --topics)"
"$bin" topics --from "$out/multiweek/run" --period week --tz +08:00 --out "$out/topics"
"$bin" report --from "$out/multiweek/run" --effects "$out/effect/effects.json" --period week --tz +08:00 \
    --topics "$out/topics" --lang en --out "$out/effect/report"
"$bin" report --from "$out/multiweek/run" --effects "$out/effect/effects.json" --period week --tz +08:00 \
    --topics "$out/topics" --lang zh-CN --out "$out/effect/report-zh"
"$bin" agents --from "$out/multiweek/run" --period week --tz +08:00 --out "$out/effect/agents"
"$bin" export --from "$out/multiweek/run" --period week --tz +08:00 --format xapi \
    --effects "$out/effect/effects.json" --out "$out/effect/xapi.json"
echo
echo "Results:"
echo "  per conversation : $out/run/conversations.jsonl  (rejects: $out/run/rejects.jsonl, run info: $out/run/run.json)"
echo "  per agent        : $out/agents/agents.json, $out/agents/agents.csv"
echo "  coach reports    : $out/report/index.html (one page per agent, + Markdown); in Chinese: $out/report-zh/index.html"
echo "  training feed    : $out/export.json"
echo "  calibration      : $out/calibration/calibration.html (agreement with the dev set's reviewers)"
echo "  training effect  : $out/effect/effects.json, $out/effect/report/effects.html (eight generated weeks with planted effects: docs/EFFECT.md)"
echo "  contact drivers  : $out/topics/topics.json (topics of the eight weeks, rising ones flagged), $out/effect/report/topics.html;"
echo "                     the saved topic model $out/topics/model (convqa score --topics / convqa topics --model)"
echo "  weekly trend charts: $out/effect/report/index.html and agent pages (Chinese: $out/effect/report-zh/index.html)"
echo "  weekly trends    : $out/effect/agents/trends.json (per agent and ISO week, with the team without that agent)"
echo "  closing the loop : each recommendation's follow-up (last week vs the week before, target reached?) on those pages,"
echo "                     in $out/effect/agents/agents.json and as xAPI statements with the effects: $out/effect/xapi.json"
