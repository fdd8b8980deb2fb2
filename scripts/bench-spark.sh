#!/usr/bin/env bash
# Spark against one process on the same machine (issue 27: local[2] throughput at least 0.7x the
# single process's). Generates N conversations (scripts/gen-conversations.py), then times
#   1. `convqa score --threads 2` and `convqa agents` on them (one process each), and
#   2. scripts/spark-score.sh on them (local[2,4], default partitions; it scores, merges and runs
#      agents over the parts),
# and prints wall times, conversations/s and the ratios, with where Spark's extra time goes
# (start-up and packing, the scoring stage, streaming back and merging, agents) and a check that
# the merged results are the single process's bytes. No figure is asserted; this only reports.
#
#   scripts/bench-spark.sh [N]               (default 20000)
#   BENCH_MODEL=models/fast scripts/bench-spark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
n=${1:-20000}
# The generated input lives under target/ by default (BENCH_TMP).
work=$(mktemp -d -p "${BENCH_TMP:-target}" convqa-spark-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
bench_build
model_args=()
[[ -n "${BENCH_MODEL:-}" ]] && model_args=(--model "$BENCH_MODEL")
cpu=$(bench_cpu)
python3 scripts/gen-conversations.py --n "$n" --out "$work/in.jsonl" >/dev/null 2>&1
# Install PySpark (and warm the JVM's file cache) before anything is timed.
CONVQA_BIN="$bin" bash scripts/spark-score.sh samples/conversations_en.jsonl --out "$work/warm" >/dev/null 2>&1 || true

now() { python3 -c 'import time; print(time.time())'; }
echo "CPU: $cpu ($(nproc) cores), $n conversations, model: ${BENCH_MODEL:-default}, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now)
"$bin" score "$work/in.jsonl" --out "$work/one" --threads 2 "${model_args[@]}" 2>/dev/null || (($? == 1))
t1=$(now)
"$bin" agents --from "$work/one" --out "$work/one-agents" >/dev/null 2>&1
t2=$(now)
CONVQA_BIN="$bin" bash scripts/spark-score.sh "$work/in.jsonl" --out "$work/spark" "${model_args[@]}" \
    >"$work/spark.log" 2>&1 || (($? == 1)) || { tail -20 "$work/spark.log"; exit 1; }
t3=$(now)
python3 - "$n" "$t0" "$t1" "$t2" "$t3" "$work" <<'PY'
import json, sys
from pathlib import Path
n = int(sys.argv[1]); t0, t1, t2, t3 = map(float, sys.argv[2:6]); work = Path(sys.argv[6])
score, agents, spark = t1 - t0, t2 - t1, t3 - t2
run = json.loads((work / "spark" / "run.json").read_text())
sp = run["spark"]
same = (work / "spark" / "conversations.jsonl").read_bytes() == (work / "one" / "conversations.jsonl").read_bytes()
print(f"one process: score {score:.1f} s ({n / score:.1f} conv/s), agents {agents:.1f} s: {score + agents:.1f} s")
print(f"spark {sp['master']}, {sp['partitions']} partitions of {sp['task_threads']} thread(s): {spark:.1f} s "
      f"({n / spark:.1f} conv/s); its scoring stage {sp['score_seconds']:.1f} s, the rest (JVM start, packing, "
      f"streaming back, merging, agents) {spark - sp['score_seconds']:.1f} s")
print(f"throughput ratio spark / one process: {score / spark:.2f} against score alone, "
      f"{(score + agents) / spark:.2f} against score + agents (what the Spark job also does); "
      f"scoring stage alone: {score / sp['score_seconds']:.2f}")
print(f"merged conversations.jsonl identical to the single process's: {same}")
PY
