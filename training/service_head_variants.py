"""Variants of the service-turn head that were measured and not shipped (service_head.py fits the
shipped one): would a different head catch more of the short negative service turns without
calling more calm ones negative?

- `plain`: the shipped design, a logistic regression over the pooled vector.
- `residual`: the same, fitted as a correction of the network's own sentiment logits
  (softmax(network logits + W·pooled + b)): regularisation pulls it towards the network where the
  service turns say little, which might keep what the network knows about idioms and slang.
- `ngrams`: the pooled vector plus character 1–3-grams of the turn (binary, L2-normalised),
  one logistic regression: service words such as 销户, 12315, "complaint" that the vector may not
  separate.

Each with C chosen by 5-fold cross-validation by conversation (as service_head.py). Three views of
the short turns: the second round of written turns with heads fitted without that round (no
part of either model saw them), and the real and written test splits with heads fitted on the
whole train split; for plain and residual also the short texts of every other labelled test set
(accuracy; USS dissatisfaction AUC). Rule-decided turns keep the rule; longer turns keep the
network, as in convqa.

    .venv/bin/python service_head_variants.py    # both models, ~20 min → results/service_head_variants.json
"""

from __future__ import annotations

import collections
import json
import sys
import unicodedata
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import normalize

from convqa_bin import classify, without_entries
from service_head import GRID, HERE, POOLED, ROOT, SENT, _is_short, clean, load_turns, model_key, model_outputs

OUT = HERE / "results" / "service_head_variants.json"


def vectors(model_dir: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Pooled vector and sentiment logits of each text."""
    cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    pooled, logits = model_outputs(model_dir, texts, [POOLED, cfg["heads"]["sentiment"]["output"]])
    return pooled, logits.astype(np.float64)


def fit_offset(X, O, y, C):
    """Multinomial logistic regression with a fixed offset per row (L2 on the weights only)."""
    d, k = X.shape[1], 3
    Y = np.eye(k)[y]

    def f(w):
        W, b = w[:d * k].reshape(d, k), w[d * k:]
        L = log_softmax(O + X @ W + b, axis=1)
        G = np.exp(L) - Y
        return -(Y * L).sum() + 0.5 / C * (W ** 2).sum(), np.concatenate([(X.T @ G + W / C).ravel(), G.sum(0)])

    r = minimize(f, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 5000})
    W, b = r.x[:d * k].reshape(d, k), r.x[d * k:]
    return lambda X2, O2: softmax(O2 + X2 @ W + b, axis=1)


def fit_variant(kind, X, O, texts, y, groups):
    """The variant fitted with C by 5-fold CV by conversation; returns (predict(idx-free inputs), C)."""

    def one(C, a):
        if kind == "residual":
            return fit_offset(X[a], O[a], y[a], C)
        if kind == "plain":
            m = LogisticRegression(C=C, max_iter=5000).fit(X[a], y[a])
            return lambda X2, O2: m.predict_proba(X2)
        cv = CountVectorizer(analyzer="char_wb", ngram_range=(1, 3), binary=True, min_df=2)
        cv.fit([texts[i] for i in a])
        feats = lambda X2, T2: sp.hstack([sp.csr_matrix(X2), normalize(cv.transform(T2))]).tocsr()
        m = LogisticRegression(C=C, max_iter=5000).fit(feats(X[a], [texts[i] for i in a]), y[a])
        return lambda X2, O2, T2: m.predict_proba(feats(X2, T2))

    scores = {}
    idx = np.arange(len(y))
    for C in GRID:
        pred = np.zeros(len(y), int)
        for a, b in GroupKFold(5).split(X, groups=groups):
            p = one(C, a)
            pred[b] = (p(X[b], O[b], [texts[i] for i in b]) if kind == "ngrams" else p(X[b], O[b])).argmax(1)
        scores[C] = f1_score(y, pred, average="macro")
    best = max(GRID, key=lambda c: (scores[c], -c))
    return one(best, idx), best


def short_view(gold, pred) -> dict:
    calm, neg = gold != 0, gold == 0
    return {"n": int(len(gold)), "macro_f1": round(float(f1_score(gold, pred, average="macro")), 4),
            "calm_called_negative": f"{int(((pred == 0) & calm).sum())}/{int(calm.sum())}",
            "negative_caught": f"{int(((pred == 0) & neg).sum())}/{int(neg.sum())}"}


def main():
    sys.path.insert(0, str(HERE))
    import train as T
    rows = load_turns()
    texts = [clean(r["text"]) for r in rows]
    norm = [unicodedata.normalize("NFKC", t).lower() for t in texts]
    y = np.array([SENT.index(r["sentiment"]) for r in rows])
    groups = np.array([r["conversation_id"] for r in rows])
    split = np.array([r["split"] for r in rows])
    sets = np.array([r["set"] for r in rows])
    short = np.array([r["short"] for r in rows])
    second = np.array([r["set"] == "written" and r["id"][0] in "de" for r in rows])
    others = [e for e in T.examples() if e.split == "test" and e.sent >= 0 and not e.source.startswith("service")]
    otexts = [clean(e.text) or "." for e in others]
    oshort = np.array([_is_short(t) for t in otexts])
    results = {}
    for model_dir in (ROOT / "models", ROOT / "models" / "fast"):
        model_dir = model_dir.resolve()
        key = model_key(model_dir)
        X, O = vectors(model_dir, texts)
        oi = np.where(oshort)[0]
        OX, OO = vectors(model_dir, [otexts[i] for i in oi])
        with without_entries(model_dir, "service_head") as bare:
            net, onet = classify(bare, texts), classify(bare, otexts)
        rule = np.array(["rule" in p for p in net])
        orule = np.array(["rule" in p for p in onet])
        net_lab = np.array([SENT.index(p["sentiment"]["label"]) for p in net])
        onet_p = np.array([[p["sentiment"]["probs"][s] for s in SENT] for p in onet])
        use = short & ~rule
        res = {"network": {v: short_view(y[m], net_lab[m]) for v, m in (
            ("second_round", second & short), ("real_test", (split == "test") & short & (sets == "real")),
            ("written_test", (split == "test") & short & (sets == "written")))}}
        for kind in ("plain", "residual", "ngrams"):
            r = {}
            for fit_on, views in (((split == "train") & ~second, [("second_round", second & short)]),
                                  (split == "train", [("real_test", (split == "test") & short & (sets == "real")),
                                                      ("written_test", (split == "test") & short & (sets == "written"))])):
                tr = np.where(fit_on)[0]
                Ok = O if kind == "residual" else np.zeros_like(O)
                predict, C = fit_variant(kind, X[tr], Ok[tr], [norm[i] for i in tr], y[tr], groups[tr])
                P = predict(X, Ok, norm) if kind == "ngrams" else predict(X, Ok)
                lab = np.where(use, P.argmax(1), net_lab)
                for v, m in views:
                    r[v] = dict(short_view(y[m], lab[m]), C=C)
            if kind != "ngrams":
                OP = onet_p.copy()
                HP = predict(OX, OO if kind == "residual" else np.zeros_like(OO))
                for j, i in enumerate(oi):
                    if not orule[i]:
                        OP[i] = HP[j]
                by_src = collections.defaultdict(list)
                for i, e in enumerate(others):
                    by_src[e.source].append(i)
                    if e.source.startswith("uss_"):
                        by_src["uss_all"].append(i)
                other = {}
                for src, ii in sorted(by_src.items()):
                    gold = np.array([others[i].sent for i in ii])
                    o = {"accuracy_network": round(float(np.mean(gold == onet_p[ii].argmax(1))), 4),
                         "accuracy_with_head": round(float(np.mean(gold == OP[ii].argmax(1))), 4)}
                    if src.startswith("uss_"):
                        dis = [others[i].extra["mean"] < 2.5 for i in ii]
                        o["auc_network"] = round(float(roc_auc_score(dis, onet_p[ii, 0])), 4)
                        o["auc_with_head"] = round(float(roc_auc_score(dis, OP[ii, 0])), 4)
                    other[src] = o
                r["other_sets"] = other
            res[kind] = r
            print(key, kind, json.dumps({k: v for k, v in r.items() if k != "other_sets"}), flush=True)
        results[key] = res
    OUT.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
