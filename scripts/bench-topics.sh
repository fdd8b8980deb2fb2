#!/usr/bin/env bash
# Speed and memory of `convqa topics` (contact drivers) against `convqa score` on the same
# conversations (issue 29: topics should add no more than half the time of score).
#
#   scripts/bench-topics.sh [N ...]        (default: 10000)
#
# For each N: generates N distinct conversations, from the 440 real ones of the topic development
# set (scripts/gen-topics-bench.py; short social-media threads, ~3 turns) or, with
# BENCH_SOURCE=calls, synthetic contact-centre calls of 6-20 turns (scripts/gen-conversations.py),
# times `convqa score` on them, then `convqa topics` on the
# results (fit, automatic number of topics), then `convqa topics --model` (assigning the same
# conversations to the saved model; BENCH_ASSIGN=0 skips it), each with --threads BENCH_THREADS (default 2), and records
# wall time, conversations/s and peak RSS (GNU time). Prints a table with the CPU model and,
# with BENCH_OUT=FILE, appends one JSON line per N to FILE. No timing is asserted anywhere; this
# only reports. BENCH_TOPICS_ARGS adds flags to the fit (e.g. "--fast": the static embedder; the
# assignment then uses the embedder the model was fitted with); with BENCH_DEFAULT=1 the fit is
# also timed without them, on the same results, so both ratios come from one run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
threads=${BENCH_THREADS:-2}
read -r -a topics_args <<<"${BENCH_TOPICS_ARGS:-}"
sizes=("${@:-10000}")
work=$(mktemp -d -t convqa-topics-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== build and runtime" >&2
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
bench_build
bench_gnu_time || { echo "bench-topics.sh: GNU time (/usr/bin/time) is needed for peak RSS" >&2; exit 2; }
cpu=$(bench_cpu)
cores=$(nproc)

# run LABEL CMD...: time CMD with GNU time; prints "seconds peak_kib".
run() {
    local label=$1
    shift
    /usr/bin/time -f '%e %M' -o "$work/$label.time" "$@" >"$work/$label.out" 2>"$work/$label.err" || {
        echo "$label failed:" >&2
        tail -5 "$work/$label.err" >&2
        exit 1
    }
    cat "$work/$label.time"
}

printf '%s\n' "CPU: $cpu ($cores cores), --threads $threads, topics ${topics_args[*]:-(default fit)}, conversations: ${BENCH_SOURCE:-dev}, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%8s  %-14s %9s %10s %12s\n' N stage seconds "conv/s" "peak RSS MB"
for n in "${sizes[@]}"; do
    if [[ "${BENCH_SOURCE:-dev}" == calls ]]; then
        python3 scripts/gen-conversations.py --n "$n" --out "$work/in-$n.jsonl"
    else
        python3 scripts/gen-topics-bench.py "$n" >"$work/in-$n.jsonl"
    fi
    read -r s_sec s_kib < <(run "score-$n" "$bin" score "$work/in-$n.jsonl" --out "$work/run-$n" --threads "$threads")
    read -r t_sec t_kib < <(run "topics-$n" "$bin" topics --from "$work/run-$n" --out "$work/topics-$n" --threads "$threads" \
        ${topics_args[@]+"${topics_args[@]}"})
    d_sec=0 d_kib=0
    if [[ "${BENCH_DEFAULT:-0}" == 1 ]]; then
        read -r d_sec d_kib < <(run "default-$n" "$bin" topics --from "$work/run-$n" --out "$work/default-$n" --threads "$threads")
    fi
    if [[ "${BENCH_ASSIGN:-1}" == 1 ]]; then
        read -r a_sec a_kib < <(run "assign-$n" "$bin" topics --from "$work/run-$n" --out "$work/assign-$n" \
            --model "$work/topics-$n/model" --threads "$threads")
    else
        a_sec=0 a_kib=0
    fi
    stages=(score topics)
    [[ "${BENCH_ASSIGN:-1}" == 1 ]] && stages+=(assign)
    [[ "${BENCH_DEFAULT:-0}" == 1 ]] && stages+=(default)
    for stage in "${stages[@]}"; do
        case $stage in
            score) sec=$s_sec kib=$s_kib ;;
            topics) sec=$t_sec kib=$t_kib ;;
            assign) sec=$a_sec kib=$a_kib ;;
            default) sec=$d_sec kib=$d_kib ;;
        esac
        printf '%8d  %-14s %9.1f %10.1f %12.0f\n' "$n" "$stage" "$sec" \
            "$(python3 -c "print($n / max($sec, 1e-9))")" "$(python3 -c "print($kib / 1024)")"
    done
    ratio=$(python3 -c "print(round($t_sec / $s_sec, 2))")
    echo "         topics / score time: $ratio  ($(grep -o '[0-9]* topics ([^)]*)' "$work/topics-$n.err" || true))"
    if [[ "${BENCH_DEFAULT:-0}" == 1 ]]; then
        echo "         default fit: topics / score time: $(python3 -c "print(round($d_sec / $s_sec, 2))")"
    fi
    if [[ -n "${BENCH_OUT:-}" ]]; then
        python3 - "$n" "$s_sec" "$s_kib" "$t_sec" "$t_kib" "$a_sec" "$a_kib" "$cpu" "$threads" \
            "${topics_args[*]:-}" "$d_sec" "$d_kib" >>"$BENCH_OUT" <<'EOF'
import json, sys
n, s, sk, t, tk, a, ak, cpu, threads, targs, d, dk = sys.argv[1:]
n = int(n)
print(json.dumps({"conversations": n, "cpu": cpu, "threads": int(threads),
                  "score": {"seconds": float(s), "conv_per_s": round(n / float(s), 1), "peak_rss_mb": round(int(sk) / 1024)},
                  "topics_fit": {"seconds": float(t), "conv_per_s": round(n / float(t), 1), "peak_rss_mb": round(int(tk) / 1024)},
                  "topics_assign": None if float(a) == 0 else {"seconds": float(a), "conv_per_s": round(n / float(a), 1), "peak_rss_mb": round(int(ak) / 1024)},
                  "topics_args": targs,
                  "topics_over_score": round(float(t) / float(s), 2),
                  **({} if float(d) == 0 else {"topics_default_embedder": {"seconds": float(d), "conv_per_s": round(n / float(d), 1), "peak_rss_mb": round(int(dk) / 1024)},
                                               "default_over_score": round(float(d) / float(s), 2)})}))
EOF
    fi
done
