"""Fit the service-turn head: a logistic regression over the network's pooled sentence vector,
fitted on the team-labelled service turns, that gives the sentiment of short service turns.

Why: the network's sentiment head is shared by reviews, microblog posts, tweets and service turns,
and most of its training text is opinionated (about 40 % negative), so on a short service turn it
leans negative: on the labelled real turns' test split it called 16 of 267 short calm turns
negative. A head fitted on service turns alone learns their balance (mostly neutral; negative
when the words or the punctuation say so) from the same vector. It is a linear map, so it costs
nothing next to the encoder, and it is applied where the network is weakest and reviews and
tweets never are: turns `convqa` calls short (`lang::is_short`: at most 6 Han characters and 3
other words). The rules still come first (identifiers, other languages, phatic turns); the
emotion head stays the network's.

Steps, per model directory (default: models/ and models/fast):
1. Make sure model.onnx has the `pooled` output [batch, hidden] (the mean-pooled encoder state
   that the heads read): an Identity node and a graph output are added, no weight changes, so the
   existing outputs are the same (checked: `convqa classify` output on 8,038 turns without the
   head, before and after).
2. Pooled vectors for every labelled service turn (real turns without CPED and the Cantonese forum,
   which are not service talk; the team-written turns) with Python onnxruntime.
3. C by 5-fold cross-validation on the train split, folds by conversation (macro-F1); then the
   head is fitted on the whole train split and written to service-head.json; config.json names it
   (`"service_head": {"file", "output"}`).
4. The test splits through `convqa classify`, without and with the head (the binary must be built):
   results/service_head.json.

    .venv/bin/python service_head.py [--model ../models --model ../models/fast]   # ~3 min per model
    .venv/bin/python service_head.py --other-sets   # every other labelled test split, without and
                                                    # with the head → results/service_head_other_sets.json
    .venv/bin/python service_head.py --second-round # validation on turns neither the network nor the head
                                                    # saw → results/service_head_second_round.json

The second round of team-written turns (WRITING.md, "Second round") came after the network was
trained, so it can validate the design: a head fitted without those turns is scored on their short
turns against the network alone, and against blends of the two (log-probabilities weighted).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from tokenizers import Tokenizer

from convqa_bin import classify, one_line as clean, without_entries

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TURNS = HERE / "service_turns"
OUT = HERE / "results" / "service_head.json"
SENT = ["negative", "neutral", "positive"]
GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
POOLED = "pooled"
NOT_SERVICE = ("cped", "cantonese_forum_sentiment")


def add_pooled_output(model_dir: Path) -> bool:
    """Expose the pooled vector the heads read as graph output `pooled` [batch, hidden], so that
    convqa can check a head's width when it loads; False if it is already there as such."""
    path = model_dir / "model.onnx"
    m = onnx.load(str(path))
    gemm = next(n for n in m.graph.node if n.name == "/m/sent/Gemm")
    weight = next(t for t in m.graph.initializer if t.name == gemm.input[1])
    width = int(weight.dims[1])  # Gemm(x, W^T): W is [labels, hidden]
    have = [o for o in m.graph.output if o.name == POOLED]
    if have:
        dims = have[0].type.tensor_type.shape.dim
        if len(dims) == 2 and dims[1].dim_value == width:
            return False
        m.graph.output.remove(have[0])
    else:
        m.graph.node.append(onnx.helper.make_node("Identity", [gemm.input[0]], [POOLED], name="/m/pooled"))
    m.graph.output.append(onnx.helper.make_tensor_value_info(POOLED, onnx.TensorProto.FLOAT, ["batch", width]))
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    cfg_path = model_dir / "config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["onnx_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return True


def pooled_vectors(model_dir: Path, texts: list[str]) -> np.ndarray:
    return model_outputs(model_dir, texts, [POOLED])[0]


def model_outputs(model_dir: Path, texts: list[str], outputs: list[str]) -> list[np.ndarray]:
    """The named outputs of model.onnx for each text (Python onnxruntime, batches of one token
    length, as convqa batches them), one array per output, rows in the order of `texts`."""
    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(cfg.get("max_length", 128))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    s = ort.InferenceSession(str(model_dir / "model.onnx"), so, providers=["CPUExecutionProvider"],
                             disabled_optimizers=["SkipLayerNormFusion", "BiasGeluFusion"])
    names = [i.name for i in s.get_inputs()]
    enc = [e.ids for e in tok.encode_batch(texts)]
    out: list[list] = [[None] * len(texts) for _ in outputs]
    by_len = collections.defaultdict(list)
    for i, e in enumerate(enc):
        by_len[len(e)].append(i)
    for idx in by_len.values():
        for k in range(0, len(idx), 32):
            b = idx[k:k + 32]
            ids = np.array([enc[i] for i in b] * (2 if len(b) == 1 else 1), np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            got = s.run(outputs, {n: feed[n] for n in names})
            for o, vec in enumerate(got):
                for j, i in enumerate(b):
                    out[o][i] = vec[j]
    return [np.array(o, dtype=np.float32) for o in out]


def model_key(model_dir: Path) -> str:
    """How the results files name a model: "default" for models/, else its directory's name."""
    return "default" if model_dir.resolve() == (ROOT / "models").resolve() else model_dir.name


def load_turns() -> list[dict]:
    real = [json.loads(l) for l in open(TURNS / "labels.jsonl", encoding="utf-8")]
    real = [dict(r, set="real") for r in real if r["source"] not in NOT_SERVICE]
    written = [json.loads(l) for l in open(TURNS / "written" / "labels.jsonl", encoding="utf-8")]
    written = [dict(r, set="written", source="team_written", conversation_id="w-" + r["id"]) for r in written]
    return real + written


def fit(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[LogisticRegression, dict]:
    cv = {}
    for C in GRID:
        pred = np.zeros(len(y), int)
        for a, b in GroupKFold(5).split(X, groups=groups):
            pred[b] = LogisticRegression(C=C, max_iter=5000).fit(X[a], y[a]).predict(X[b])
        cv[C] = round(float(f1_score(y, pred, average="macro")), 4)
    best = max(GRID, key=lambda c: (cv[c], -c))
    return LogisticRegression(C=best, max_iter=5000).fit(X, y), {"grid": cv, "chosen_C": best}


def measure(rows: list[dict], preds: list[dict]) -> dict:
    g = [r["sentiment"] for r in rows]
    p = [x.get("sentiment", {}).get("label", "neutral") for x in preds]
    short = [(a, b) for a, b, r in zip(g, p, rows) if r["short"]]
    calm = [b == "negative" for a, b in short if a != "negative"]
    neg = [b == "negative" for a, b in short if a == "negative"]
    return {"n": len(rows), "sentiment_macro_f1": round(float(f1_score(g, p, average="macro")), 4),
            "short_n": len(short),
            "short_sentiment_macro_f1": round(float(f1_score([a for a, _ in short], [b for _, b in short], average="macro")), 4),
            "short_calm_called_negative": f"{sum(calm)}/{len(calm)} = {sum(calm) / len(calm):.4f}",
            "short_negative_called_negative": f"{sum(neg)}/{len(neg)} = {sum(neg) / len(neg):.4f}"}


def other_sets(models: list[Path]):
    """Every other test split with sentiment labels (and USS dissatisfaction AUC), through the
    binary without and with the head: what the head does to text that is not a service turn. Only
    short texts can change; `short` counts them."""
    import sys
    from sklearn.metrics import roc_auc_score
    sys.path.insert(0, str(HERE))
    import train as T
    exs = [e for e in T.examples() if e.split == "test" and e.sent >= 0 and not e.source.startswith("service")]
    by_src = collections.defaultdict(list)
    for e in exs:
        by_src[e.source].append(e)
        if e.source.startswith("uss_"):
            by_src["uss_all"].append(e)
    out = {}
    for model_dir in models:
        model_dir = model_dir.resolve()
        key = model_key(model_dir)
        with without_entries(model_dir, "service_head") as bare:
            for src, test in sorted(by_src.items()):
                texts = [clean(e.text) or "." for e in test]
                y = [SENT[e.sent] for e in test]
                r = {"n": len(test), "short": sum(_is_short(t) for t in texts)}
                for name, d in (("without", bare), ("with", model_dir)):
                    preds = classify(d, texts)
                    lab = [p.get("sentiment", {}).get("label", "neutral") for p in preds]
                    m = {"sentiment_macro_f1": round(float(f1_score(y, lab, average="macro")), 4),
                         "sentiment_accuracy": round(sum(a == b for a, b in zip(y, lab)) / len(y), 4)}
                    if src.startswith("uss_"):
                        dis = [e.extra["mean"] < 2.5 for e in test]  # as evaluate.py
                        pneg = [p.get("sentiment", {}).get("probs", {}).get("negative", 0.0) for p in preds]
                        if any(dis) and not all(dis):
                            m["dissatisfaction_auc"] = round(float(roc_auc_score(dis, pneg)), 4)
                    r[name] = m
                out[f"{src}[{key}]"] = r
                print(src, key, r, flush=True)
    (HERE / "results" / "service_head_other_sets.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n",
                                                                   encoding="utf-8")


def second_round(models: list[Path]):
    """The head fitted without the second-round written turns, on their short turns: network alone,
    head alone and blends (weight on the head's log-probabilities). Rule-decided turns keep the rule."""
    rows = load_turns()
    second = np.array([r["set"] == "written" and r["id"][0] in "de" for r in rows])
    train = np.array([r["split"] == "train" for r in rows]) & ~second
    val = [i for i, r in enumerate(rows) if second[i] and r["short"]]
    texts = [clean(r["text"]) for r in rows]
    y = np.array([SENT.index(r["sentiment"]) for r in rows])
    groups = np.array([r["conversation_id"] for r in rows])
    out = {}
    for model_dir in models:
        model_dir = model_dir.resolve()
        key = model_key(model_dir)
        X = pooled_vectors(model_dir, texts)
        head, cv = fit(X[train], y[train], groups[train])
        with without_entries(model_dir, "service_head") as bare:
            preds = classify(bare, [texts[i] for i in val])
        gold = [SENT[y[i]] for i in val]
        res = {"train_turns": int(train.sum()), "cv": cv, "short_validation_turns": len(val),
               "decided_by_rules": sum("rule" in p for p in preds), "head_weight": {}}
        lh = head.predict_log_proba(X[val])
        for a in (0.0, 0.25, 0.5, 0.75, 1.0):
            lab = []
            for p, h in zip(preds, lh):
                if "rule" in p:
                    lab.append(p["sentiment"]["label"])
                    continue
                ln = np.log(np.maximum([p["sentiment"]["probs"][k] for k in SENT], 1e-4))
                lab.append(SENT[int(np.argmax(a * h + (1 - a) * ln))])
            calm = [l == "negative" for g, l in zip(gold, lab) if g != "negative"]
            neg = [l == "negative" for g, l in zip(gold, lab) if g == "negative"]
            res["head_weight"][str(a)] = {"short_sentiment_macro_f1": round(float(f1_score(gold, lab, average="macro")), 4),
                                          "short_calm_called_negative": f"{sum(calm)}/{len(calm)} = {sum(calm) / len(calm):.4f}",
                                          "short_negative_called_negative": f"{sum(neg)}/{len(neg)} = {sum(neg) / len(neg):.4f}"}
        out[key] = res
        print(key, json.dumps(res, indent=1), flush=True)
    (HERE / "results" / "service_head_second_round.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n",
                                                                     encoding="utf-8")


def _is_short(t: str) -> bool:
    """lang::is_short: at most 6 Han characters and 3 other words."""
    import re
    han = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
    return len(han.findall(t)) <= 6 and len(re.findall(r"[^\W_]+", han.sub(" ", t))) <= 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", type=Path)
    ap.add_argument("--other-sets", action="store_true")
    ap.add_argument("--second-round", action="store_true")
    a = ap.parse_args()
    models = a.model or [ROOT / "models", ROOT / "models" / "fast"]
    if a.second_round:
        return second_round(models)
    if a.other_sets:
        return other_sets(models)
    rows = load_turns()
    texts = [clean(r["text"]) for r in rows]
    y = np.array([SENT.index(r["sentiment"]) for r in rows])
    train = np.array([r["split"] == "train" for r in rows])
    groups = np.array([r["conversation_id"] for r in rows])
    results = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    for model_dir in models:
        model_dir = model_dir.resolve()
        added = add_pooled_output(model_dir)
        X = pooled_vectors(model_dir, texts)
        head, cv = fit(X[train], y[train], groups[train])
        spec = {"labels": [SENT[c] for c in head.classes_], "dim": int(X.shape[1]),
                "weight": [[round(float(w), 6) for w in row] for row in head.coef_],
                "bias": [round(float(b), 6) for b in head.intercept_],
                "fitted_on": f"{int(train.sum())} team-labelled service turns, train split "
                             "(training/service_turns: real turns without CPED and the Cantonese forum, and the "
                             "team-written turns); sklearn LogisticRegression, L2, "
                             f"C = {cv['chosen_C']} by 5-fold cross-validation by conversation",
                "applies_to": "short turns (lang::is_short) that no rule decided"}
        (model_dir / "service-head.json").write_text(json.dumps(spec) + "\n", encoding="utf-8")
        cfg_path = model_dir / "config.json"
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        cfg["service_head"] = {"file": "service-head.json", "output": POOLED}
        cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        res = {"pooled_output_added": added, "cv": cv, "train_turns": int(train.sum()), "test": {}}
        with without_entries(model_dir, "service_head") as bare:
            for name in ("real", "written"):
                sel = [i for i, r in enumerate(rows) if r["split"] == "test" and r["set"] == name]
                sub = [rows[i] for i in sel]
                st = [texts[i] for i in sel]
                res["test"][name] = {"without": measure(sub, classify(bare, st)),
                                     "with": measure(sub, classify(model_dir, st))}
        key = model_key(model_dir)
        results[key] = res
        print(key, json.dumps(res, indent=1), flush=True)
    OUT.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
