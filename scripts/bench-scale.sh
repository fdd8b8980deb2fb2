#!/usr/bin/env bash
# Does memory stay flat as the batch grows? (issue 27) For each N: generate N synthetic
# contact-centre conversations (scripts/gen-conversations.py: 6-20 turns, zh/zh-Hant/en, distinct
# ids), run `convqa score` on them, then `convqa agents --from` the results, and record wall time,
# conversations/s, turns/s and peak RSS (GNU time) of each.
#
#   scripts/bench-scale.sh [N ...]                  (default: 20000 100000 500000)
#   BENCH_MODEL=models/fast scripts/bench-scale.sh   # the fast model (same memory shape, ~2.5x faster)
#   BENCH_TURNS=4-4 scripts/bench-scale.sh 20000 500000   # short conversations (5 turns): memory
#                                                   # against the number of conversations, ~3x sooner
#
# Prints a table with the CPU model and the ratio of each size's peak RSS to the first size's,
# and appends one JSON line per N to BENCH_OUT (default benches/results/scale.jsonl). Needs
# ~13 KB of disk per conversation for the results (6.5 GB at 500k) in BENCH_TMP (default /tmp).
# No figure is asserted anywhere; this only reports.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
threads=${BENCH_THREADS:-2}
sizes=("${@:-20000 100000 500000}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
out_file=${BENCH_OUT:-benches/results/scale.jsonl}
work=$(mktemp -d -p "${BENCH_TMP:-/tmp}" convqa-scale-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
bench_build
bench_gnu_time || { echo "bench-scale.sh: GNU time (/usr/bin/time) is needed for peak RSS" >&2; exit 2; }
cpu=$(bench_cpu)
model_args=()
[[ -n "${BENCH_MODEL:-}" ]] && model_args=(--model "$BENCH_MODEL")
mkdir -p "$(dirname "$out_file")"

# run LABEL CMD...: time CMD; prints "seconds peak_kib". Exit 1 (some records set aside) is fine.
run() {
    local label=$1 rc=0
    shift
    /usr/bin/time -f '%e %M' -o "$work/$label.time" "$@" >"$work/$label.out" 2>"$work/$label.err" || rc=$?
    if ((rc > 1)); then
        echo "bench-scale.sh: $label failed (exit $rc):" >&2
        tail -5 "$work/$label.err" >&2
        exit 1
    fi
    cat "$work/$label.time"
}

echo "CPU: $cpu ($(nproc) cores), --threads $threads, model: ${BENCH_MODEL:-default}, turns drawn: ${BENCH_TURNS:-6-20}, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%8s  %-7s %9s %10s %10s %12s %9s\n' N stage seconds "conv/s" "turns/s" "peak RSS MB" "x first"
first_score="" first_agents=""
for n in "${sizes[@]}"; do
    python3 scripts/gen-conversations.py --n "$n" --turns "${BENCH_TURNS:-6-20}" --out "$work/in.jsonl"
    read -r s_sec s_kib < <(run "score-$n" "$bin" score "$work/in.jsonl" --out "$work/run" --threads "$threads" "${model_args[@]}")
    rm -f "$work/in.jsonl"
    turns=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['counts']['turns'])" "$work/run/run.json")
    read -r a_sec a_kib < <(run "agents-$n" "$bin" agents --from "$work/run" --out "$work/agents")
    first_score=${first_score:-$s_kib}
    first_agents=${first_agents:-$a_kib}
    python3 - "$n" "$turns" "$s_sec" "$s_kib" "$first_score" "$a_sec" "$a_kib" "$first_agents" \
        "$cpu" "$threads" "${BENCH_MODEL:-default}" "$out_file" <<'PY'
import datetime, json, os, sys
n, turns, s, sk, sk0, a, ak, ak0, cpu, threads, model, out = sys.argv[1:]
n, turns = int(n), int(turns)
def stage(sec, kib, kib0):
    sec = float(sec)
    return {"seconds": sec, "conv_per_s": round(n / sec, 1), "turns_per_s": round(turns / sec),
            "peak_rss_mb": round(int(kib) / 1024), "rss_vs_first": round(int(kib) / int(kib0), 3)}
rec = {"date": datetime.date.today().isoformat(), "cpu": cpu, "threads": int(threads), "model": model,
       "turns_per_conversation": os.environ.get("BENCH_TURNS", "6-20"),
       "conversations": n, "turns": turns,
       "score": stage(s, sk, sk0), "agents": stage(a, ak, ak0)}
for name in ("score", "agents"):
    st = rec[name]
    print(f"{n:8d}  {name:<7} {st['seconds']:9.1f} {st['conv_per_s']:10.1f} {st['turns_per_s']:10d} "
          f"{st['peak_rss_mb']:12d} {st['rss_vs_first']:9.3f}")
with open(out, "a") as f:
    f.write(json.dumps(rec) + "\n")
PY
    rm -rf "$work/run" "$work/agents"
done
