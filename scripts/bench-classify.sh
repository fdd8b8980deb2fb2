#!/usr/bin/env bash
# End-to-end throughput of `convqa classify` against baselines, on the same generated texts.
#
#   scripts/bench-classify.sh [N_TURNS]        (default 20000)
#
# 1. builds the release binary and installs the ONNX Runtime library (scripts/setup-ort.sh);
# 2. generates N distinct customer-service turns (half Chinese, half English, ~20-26 tokens on
#    average, depending on the model's tokenizer) into a temp file;
# 3. times `convqa classify --threads 2` end to end (process start, model load, I/O included);
# 4. times, on the same texts: Python onnxruntime + tokenizers on the same model (sorted batches,
#    2 intra-op threads: the best Python setup measured in shared/research), VADER on the English
#    turns and SnowNLP on the Chinese turns (the first BENCH_SNOWNLP_MAX=2000: it is slow);
# 5. prints a table with turns/s and convqa's speed as a multiple of each baseline; with
#    BENCH_OUT=FILE, also appends one JSON line to FILE (benches/results/classify.jsonl is the
#    project's record): date, commit, CPU name and the vector extensions ONNX Runtime's int8
#    kernels depend on (AVX2, AVX-512, VNNI, AMX), model version, and each system's rates.
#
# Python: BENCH_ORT_PYTHON (default training/.venv/bin/python, the training venv, when it has onnxruntime and
# tokenizers) for the onnxruntime baseline; VADER and SnowNLP go into a venv this script creates
# under ${XDG_CACHE_HOME:-$HOME/.cache}/convqa/bench-venv (skipped with a note if pip cannot
# install them). No timing is asserted anywhere; this only reports.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
n_turns=${1:-20000}
threads=${BENCH_THREADS:-2}
model_dir=${CONVQA_MODEL_DIR:-$repo/models}
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/convqa"
work=$(mktemp -d -t convqa-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== build and runtime" >&2
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh
bench_build

# --- Python environments --------------------------------------------------------------------
venv="$cache_root/bench-venv"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "== creating $venv" >&2
    python3 -m venv "$venv"
fi
vpy="$venv/bin/python"
have() { "$1" -c "import $2" >/dev/null 2>&1; }
install_opt() { # package import-name
    have "$vpy" "$2" || "$vpy" -m pip install --quiet --disable-pip-version-check "$1" >&2 || \
        echo "note: could not install $1; its baseline is skipped" >&2
}
install_opt vaderSentiment vaderSentiment
install_opt snownlp snownlp
ort_py=${BENCH_ORT_PYTHON:-}
if [[ -z "$ort_py" ]]; then
    if [[ -x "$repo/training/.venv/bin/python" ]] && have "$repo/training/.venv/bin/python" "onnxruntime, tokenizers, numpy"; then
        ort_py="$repo/training/.venv/bin/python"
    else
        install_opt "onnxruntime==1.31.1" onnxruntime
        install_opt tokenizers tokenizers
        install_opt numpy numpy
        ort_py=$vpy
    fi
fi

# --- Texts -----------------------------------------------------------------------------------
turns="$work/turns.txt"
"$vpy" - "$n_turns" "$turns" <<'PY'
# Same templates as benches/classify.rs: customer complaints/thanks and agent replies, zh + en.
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
r = random.Random(42)
zh_open = ["您好，", "你好，", "喂，", "請問一下，", "麻烦问一下，", ""]
zh_issue = ["我的订单{n}号已经{d}天了还没有发货", "我上周买的手机屏幕坏了，想申请退货",
            "你们的客服电话一直打不通，我已经打了{d}次了", "這個帳單多扣了我{n}元，請幫我查一下",
            "快递显示已签收但是我根本没有收到", "我要投诉，你们的服务态度太差了",
            "會員卡的積分為什麼突然清零了", "退款申请提交了{d}天还没有到账"]
zh_close = ["，谢谢。", "，太让人失望了！", "，能不能快点处理？", "。", "，麻煩儘快回覆。", "，我真的很着急。"]
zh_agent = ["非常抱歉给您带来不便，我马上为您查询订单{n}的物流信息。", "好的，请您提供一下订单号，我这边帮您核实。",
            "感謝您的耐心等待，您的退款已經處理完成，預計{d}個工作天到賬。", "理解您的心情，我已经为您升级处理，主管会在{d}小时内联系您。"]
en_open = ["Hi, ", "Hello, ", "Excuse me, ", "Hey, ", ""]
en_issue = ["my order {n} has not arrived after {d} days", "I was charged twice for the same subscription",
            "the app keeps crashing every time I try to log in", "I have called {d} times and nobody has fixed my internet",
            "the replacement you sent me is also broken", "I want to cancel my account and get a refund"]
en_close = [", thanks.", ". This is unacceptable!", ", can you help?", ".", ". I am really frustrated.", ", please hurry."]
en_agent = ["I am sorry for the trouble, let me check the status of order {n} for you right away.",
            "Thank you for your patience, your refund has been processed and should arrive within {d} business days.",
            "I completely understand, I have escalated this to my supervisor who will call you back today.",
            "Could you please confirm the email address on the account so I can look into this?"]
# Every text distinct: convqa scores identical texts once per call (and Python below does not), so
# repeated templates would measure that shortcut instead of the model.
seen = set()
with open(out, "w", encoding="utf-8") as f:
    i = 0
    while len(seen) < n:
        zh, agent = i % 2 == 0, r.randrange(3) == 0
        if zh:
            t = r.choice(zh_agent) if agent else r.choice(zh_open) + r.choice(zh_issue) + r.choice(zh_close)
        else:
            t = r.choice(en_agent) if agent else r.choice(en_open) + r.choice(en_issue) + r.choice(en_close)
        t = t.replace("{n}", str(r.randrange(10000, 100000))).replace("{d}", str(r.randrange(2, 11)))
        if t not in seen:
            seen.add(t)
            f.write(t + "\n")
            i += 1
PY
grep -P '[\x{4e00}-\x{9fff}]' "$turns" > "$work/zh.txt" || true
grep -vP '[\x{4e00}-\x{9fff}]' "$turns" > "$work/en.txt" || true

results="$work/results.tsv"
: > "$results"

# --- convqa ----------------------------------------------------------------------------------
echo "== convqa classify --threads $threads ($n_turns turns)" >&2
# Wall time and CPU time (user + sys of the child): on a shared machine the CPU time is the
# steadier number.
python3 - "$bin" "$model_dir" "$threads" "$turns" "$work/convqa.jsonl" "$n_turns" >> "$results" <<'PY'
import resource, subprocess, sys, time
bin_, model, threads, turns, out, n = sys.argv[1:]
t0 = time.perf_counter()
with open(out, "wb") as f:
    subprocess.run([bin_, "classify", "--model", model, "--threads", threads, turns], stdout=f, check=True)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"convqa classify (threads={threads}, end to end)\t{n}\t{wall}\t{ru.ru_utime + ru.ru_stime}")
PY

# --- Python onnxruntime + tokenizers, same model ------------------------------------------------
echo "== python onnxruntime + tokenizers ($ort_py)" >&2
"$ort_py" - "$model_dir" "$turns" "$threads" >> "$results" <<'PY'
import json, sys, time
import numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
model_dir, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0, c0 = time.perf_counter(), time.process_time()
cfg = json.load(open(f"{model_dir}/config.json"))
tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
tok.no_padding()
tok.enable_truncation(cfg.get("max_length", 512))
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
sess = ort.InferenceSession(f"{model_dir}/model.onnx", so, providers=["CPUExecutionProvider"])
names = [i.name for i in sess.get_inputs()]
texts = open(path, encoding="utf-8").read().splitlines()
enc = tok.encode_batch(texts)
order = sorted(range(len(texts)), key=lambda i: len(enc[i].ids))
tokens = sum(len(e.ids) for e in enc)
for s in range(0, len(order), 32):
    b = order[s:s + 32]
    L = max(len(enc[i].ids) for i in b)
    ids = np.zeros((len(b), L), np.int64); mask = np.zeros((len(b), L), np.int64)
    for r, i in enumerate(b):
        e = enc[i].ids; ids[r, :len(e)] = e; mask[r, :len(e)] = 1
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    sess.run(None, {k: feed[k] for k in names})
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
print(f"python onnxruntime+tokenizers (intra={threads}, sorted batch 32)\t{len(texts)}\t{dt}\t{cpu}")
print(f"mean tokens per turn: {tokens / len(texts):.1f}", file=sys.stderr)
PY

# --- VADER (English part) -----------------------------------------------------------------------
if have "$vpy" vaderSentiment; then
    echo "== VADER (English turns)" >&2
    "$vpy" - "$work/en.txt" >> "$results" <<'PY'
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
a = SentimentIntensityAnalyzer()
texts = open(sys.argv[1], encoding="utf-8").read().splitlines()
for t in texts:
    a.polarity_scores(t)
print(f"VADER (English turns only)\t{len(texts)}\t{time.perf_counter() - t0}\t{time.process_time() - c0}")
PY
fi

# --- SnowNLP (Chinese part) ---------------------------------------------------------------------
if have "$vpy" snownlp; then
    echo "== SnowNLP (Chinese turns)" >&2
    "$vpy" - "$work/zh.txt" "${BENCH_SNOWNLP_MAX:-2000}" >> "$results" <<'PY'
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
from snownlp import SnowNLP
# SnowNLP runs at ~20 turns/s, so by default it scores the first 2,000 Chinese turns only
# (turns/s is what the table compares).
texts = open(sys.argv[1], encoding="utf-8").read().splitlines()[: int(sys.argv[2])]
for t in texts:
    SnowNLP(t).sentiments
print(f"SnowNLP (Chinese turns only)\t{len(texts)}\t{time.perf_counter() - t0}\t{time.process_time() - c0}")
PY
fi

# --- Table ---------------------------------------------------------------------------------------
echo
python3 - "$results" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8") if "\t" in l]
rows = [(n, int(c), float(w), float(u)) for n, c, w, u in rows]
ref, ref_cpu = rows[0][1] / rows[0][2], rows[0][1] / rows[0][3]
print("Times include start-up (imports, model load). 'per CPU-s' = turns per CPU-second (user+sys),")
print("the steadier figure on a shared machine. Ratios: convqa's speed / the baseline's.")
print(f"{'system':<60} {'turns':>6} {'wall s':>7} {'turns/s':>8} {'ratio':>7} {'CPU s':>7} {'per CPU-s':>9} {'ratio':>7}")
for name, count, wall, cpu in rows:
    rate, crate = count / wall, count / cpu
    print(f"{name:<60} {count:>6} {wall:>7.2f} {rate:>8.1f} {ref / rate:>6.2f}x {cpu:>7.2f} {crate:>9.1f} {ref_cpu / crate:>6.2f}x")
PY
if [[ -n "${BENCH_OUT:-}" ]]; then
    python3 - "$results" "$(bench_cpu)" "$threads" "$model_dir" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        >> "$BENCH_OUT" <<'PY'
import datetime, json, sys
path, cpu, threads, model_dir, commit = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(path, encoding="utf-8") if "\t" in l]
rows = [(n, int(c), float(w), float(u)) for n, c, w, u in rows]
flags = set()
for line in open("/proc/cpuinfo", encoding="utf-8"):
    if line.startswith("flags"):
        flags = set(line.split(":", 1)[1].split())
        break
try:
    version = json.load(open(f"{model_dir}/config.json", encoding="utf-8")).get("version")
except OSError:
    version = None
ref = rows[0][1] / rows[0][2]
print(json.dumps({
    "date": datetime.date.today().isoformat(), "commit": commit, "cpu": cpu,
    "cpu_extensions": {k: k in flags for k in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile")},
    "threads": int(threads), "model": model_dir.rstrip("/").split("/")[-1] or model_dir, "model_version": version,
    "turns": rows[0][1],
    "systems": [{"system": n, "turns": c, "wall_s": round(w, 2), "turns_per_s": round(c / w, 1),
                 "turns_per_cpu_s": round(c / u, 1), "convqa_ratio": round(ref / (c / w), 2)} for n, c, w, u in rows],
}, ensure_ascii=False))
PY
fi
