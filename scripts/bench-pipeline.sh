#!/usr/bin/env bash
# End-to-end throughput of `convqa score` (release build, the real model): generate N synthetic
# conversations (scripts/gen-conversations.py), score them with --threads T, and print
# conversations/s, turns/s, peak RSS and the per-stage timings from run.json.
#
#   scripts/bench-pipeline.sh                 # 10,000 conversations, --threads 2
#   N=2000 THREADS=1 scripts/bench-pipeline.sh --batch-size 32   # extra args go to convqa score
#
# The model and ONNX Runtime are found as usual (models/ or CONVQA_MODEL_DIR; CONVQA_ORT_LIB or the
# setup cache, see scripts/setup-ort.sh). Peak RSS comes from GNU time (installed with apt-get if
# missing and possible); otherwise it is not reported.
set -euo pipefail

N=${N:-10000}
THREADS=${THREADS:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
bench_build
bench_gnu_time || true # without it, the run goes on and says peak RSS was not measured

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/gen-conversations.py --n "$N" --out "$work/conversations.jsonl"

status=0
if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o "$work/time.txt" "$bin" score "$work/conversations.jsonl" \
        --out "$work/out" --threads "$THREADS" "$@" || status=$?
else
    "$bin" score "$work/conversations.jsonl" --out "$work/out" --threads "$THREADS" "$@" || status=$?
fi
if (( status > 1 )); then
    echo "bench-pipeline.sh: convqa score failed (exit $status)" >&2
    exit "$status"
fi

python3 - "$work" <<'EOF'
import json, re, sys, pathlib
work = pathlib.Path(sys.argv[1])
run = json.loads((work / "out" / "run.json").read_text())
c, t = run["counts"], run["timings_ms"]
wall = t["total"] / 1000.0
rss = None
tf = work / "time.txt"
if tf.exists():
    txt = tf.read_text()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt)
    rss = int(m.group(1)) / 1024.0 if m else None
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.+)", txt)
    if m:
        parts = [float(x) for x in m.group(1).strip().split(":")]
        secs = 0.0
        for p in parts:
            secs = secs * 60 + p
        wall = secs  # process wall time, model load included
size = (work / "conversations.jsonl").stat().st_size / 1e6
print(f"input:          {c['read']} conversations, {c['turns']} turns scored, {size:.1f} MB JSONL")
print(f"threads:        {run['threads']}   batch size: {run['batch_size']}   model: {run['model']['dir']}")
print(f"wall time:      {wall:.2f} s (process, model load included); pipeline {t['total']/1000:.2f} s")
print(f"throughput:     {c['scored']/wall:.1f} conversations/s, {c['turns']/wall:.0f} turns/s")
print(f"stages (ms):    classify {t['classify']:.0f}, analyse {t['analyse']:.0f}, write {t['write']:.0f}, ingest {t['ingest']:.0f} (own thread)")
print(f"peak RSS:       {rss:.0f} MB" if rss is not None else "peak RSS:       not measured (no /usr/bin/time)")
print(f"rejected:       {c['rejected']}, warnings: {c['warnings']}")
EOF
