"""Does the previous turn help to read a service turn's sentiment? Writes
training/results/service_context.json, which model_card.py quotes under "Known weaknesses".

The model issue asks to try the previous agent turn as context (uss_context.py measured +0.05 AUC
from the system turn on USS) and to keep it only if it helps on the team-labelled service turns.
Before paying for a pair-input fine-tune, this probes whether the context carries signal the turn
alone lacks: the same logistic regression is fitted on the labelled train turns twice, once on
features of the turn alone and once with features of the turn before it added (its vectors, and
whether it was an agent's), and both are scored on the test turns (split by conversation; CPED and
the Cantonese forum stratum are left out, their turns have no service context). Features:

- `embedder`: the bundled topic embedder (models/embed, never trained on these turns), 384-d;
- `sentiment_encoder`: the pooled encoder of the shipped sentiment model (a training run's
  weights, `--run`; these turns were in its training data, so the train features are fitted);
- `char_ngrams`: character 1–3-gram TF-IDF.

For each, C in a small grid; reported per C: macro-F1 over all test turns and over customer turns,
short calm turns called negative, short negative turns caught.

    .venv/bin/python service_context.py [--run runs/e5-svc4-recovered]     # about 3 minutes
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "service_context.json"
SENT = {"negative": 0, "neutral": 1, "positive": 2}
GRID = (0.3, 1.0, 3.0, 10.0)


def clean(t: str) -> str:
    return " ".join(t.split())


def context_of(r: dict) -> tuple[str, bool]:
    """The turn before (labels.jsonl keeps it as "speaker: text") and whether an agent said it."""
    c = r.get("context") or ""
    speaker, _, text = c.partition(":")
    return (clean(text), speaker.strip() == "agent") if text else ("", False)


def pad_batch(seqs, pad_id=1):
    L = max(len(x) for x in seqs)
    ids = np.full((len(seqs), L), pad_id, np.int64)
    mask = np.zeros((len(seqs), L), np.int64)
    for j, q in enumerate(seqs):
        ids[j, :len(q)] = q
        mask[j, :len(q)] = 1
    return ids, mask


def batched(texts, embed_batch, bs=32):
    """Embed in batches of similar length (order restored)."""
    out = [None] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for s in range(0, len(order), bs):
        idx = order[s:s + bs]
        for i, v in zip(idx, embed_batch([texts[i] or " " for i in idx])):
            out[i] = v
    return np.stack(out).astype(np.float32)


def onnx_embedder(model_dir: Path):
    import onnxruntime as ort
    from tokenizers import Tokenizer
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(model_dir / "model.onnx"), so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    prefix = json.loads((model_dir / "config.json").read_text()).get("prefix", "")

    def embed(texts):
        enc = tok.encode_batch([prefix + t for t in texts])
        ids, mask = pad_batch([e.ids[:127] + ([e.ids[-1]] if len(e.ids) >= 128 else []) for e in enc])
        return sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    return embed


def torch_encoder(run: Path):
    import torch
    from tokenizers import Tokenizer
    import e5 as E
    torch.set_num_threads(2)
    m, _ = E.load_run(run)
    m.eval()
    tok = Tokenizer.from_file(str(run / "tokenizer.json"))

    def embed(texts):
        enc = tok.encode_batch(texts)
        ids, mask = pad_batch([e.ids[:127] + ([e.ids[-1]] if len(e.ids) >= 128 else []) for e in enc])
        with torch.no_grad():
            return m.encode(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    return embed


def score(X, y, train, strata):
    res = []
    for C in GRID:
        p = LogisticRegression(max_iter=5000, C=C).fit(X[train], y[train]).predict(X[~train])
        yt = y[~train]
        short, cust = strata["short"][~train], strata["customer"][~train]
        calm, neg = short & (yt != 0), short & (yt == 0)
        res.append({"C": C, "macro_f1": round(float(f1_score(yt, p, average="macro")), 4),
                    "customer_macro_f1": round(float(f1_score(yt[cust], p[cust], average="macro")), 4),
                    "short_calm_called_negative": round(float((p[calm] == 0).mean()), 4),
                    "short_negative_caught": round(float((p[neg] == 0).mean()), 4)})
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=HERE / "runs" / "e5-svc4-recovered",
                    help="training run of the shipped sentiment model (skipped when absent)")
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(HERE / "service_turns" / "labels.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["source"] not in ("cped", "cantonese_forum_sentiment")]
    texts = [clean(r["text"]) for r in rows]
    ctx = [context_of(r) for r in rows]
    has = np.array([[1.0 if c else 0.0, 1.0 if agent else 0.0] for c, agent in ctx], np.float32)
    y = np.array([SENT[r["sentiment"]] for r in rows])
    train = np.array([r["split"] == "train" for r in rows])
    strata = {"short": np.array([bool(r["short"]) for r in rows]),
              "customer": np.array([r["speaker"] == "customer" for r in rows])}
    out = {"turns": {"train": int(train.sum()), "test": int((~train).sum()),
                     "test_short_calm": int((strata["short"] & ~train & (y != 0)).sum()),
                     "test_short_negative": int((strata["short"] & ~train & (y == 0)).sum())},
           "classifier": "multinomial logistic regression (sklearn, lbfgs), C over " + str(list(GRID)),
           "features": {}}
    encoders = {"embedder": lambda: onnx_embedder(HERE.parent / "models" / "embed")}
    if (a.run / "best.pt").exists():
        encoders["sentiment_encoder"] = lambda: torch_encoder(a.run)
    for name, make in encoders.items():
        embed = make()
        T = batched(texts, embed)
        Cx = batched([c for c, _ in ctx], embed) * has[:, :1]
        out["features"][name] = {"turn": score(T, y, train, strata),
                                 "turn_and_previous": score(np.hstack([T, Cx, has]), y, train, strata)}
        print(name, json.dumps(out["features"][name]), flush=True)
    vt = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True).fit_transform(texts)
    vc = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True).fit_transform(
        [c for c, _ in ctx])
    out["features"]["char_ngrams"] = {"turn": score(vt.tocsr(), y, train, strata),
                                      "turn_and_previous": score(hstack([vt, vc, csr_matrix(has)]).tocsr(), y,
                                                                 train, strata)}
    print("char_ngrams", json.dumps(out["features"]["char_ngrams"]))
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
