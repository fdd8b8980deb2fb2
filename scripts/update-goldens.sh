#!/usr/bin/env bash
# Regenerate samples/golden/ from the current model, checklist and detectors. Run after an
# intended change, then review `git diff samples/golden` like code.
set -euo pipefail
cd "$(dirname "$0")/.."
CONVQA_ORT_LIB="$(bash scripts/setup-ort.sh)"
export CONVQA_ORT_LIB
cargo build --release --locked --quiet
bin=${CARGO_TARGET_DIR:-target}/release/convqa
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" score samples/conversations_zh.jsonl samples/conversations_zh_hant.jsonl \
    samples/conversations_en.jsonl samples/conversations.csv --out "$tmp"
mkdir -p samples/golden
cp "$tmp/conversations.jsonl" "$tmp/rejects.jsonl" samples/golden/
echo "updated samples/golden ($(wc -l < samples/golden/conversations.jsonl) conversations)"
