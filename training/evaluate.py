"""Evaluate the exported model (models/model.onnx, run through ONNX Runtime exactly as the Rust
binary runs it) on the held-out TEST splits, next to the baselines users would reach for, and
write training/metrics.json. `model_card.py` turns that file into models/MODEL_CARD.md.

Baselines on the same data:
  * char 1–3-gram logistic regression trained on the train split of online_shopping_10_cats +
    waimai_10k (the issue's reference baseline),
  * SnowNLP (Chinese sentiment, PyPI) and VADER (English, PyPI),
  * a bare count of negation/complaint words for user dissatisfaction (USS).
Out-of-domain Chinese reviews: SnowNLP's own neg.txt/pos.txt (another review source, never used
for training here; SnowNLP itself is trained on them, so SnowNLP is not scored there).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import data as D
import train as T

ROOT = Path(__file__).resolve().parents[1]


class OnnxModel:
    def __init__(self, model_dir: Path):
        import onnxruntime as ort
        from tokenizers import Tokenizer
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        self.sess = ort.InferenceSession(str(model_dir / "model.onnx"), so, providers=["CPUExecutionProvider"])

    def __call__(self, texts, bs=64):
        enc = [e.ids for e in self.tok.encode_batch(list(texts))]
        order = sorted(range(len(enc)), key=lambda i: len(enc[i]))
        ps = np.zeros((len(enc), 3), np.float32)
        pe = np.zeros((len(enc), 5), np.float32)
        for k in range(0, len(order), bs):
            b = order[k:k + bs]
            a, m = T.pad([enc[i] for i in b])
            s, e = self.sess.run(["sentiment_logits", "emotion_logits"], {"input_ids": a, "attention_mask": m})
            s = np.exp(s - s.max(1, keepdims=True))
            e = np.exp(e - e.max(1, keepdims=True))
            ps[b] = s / s.sum(1, keepdims=True)
            pe[b] = e / e.sum(1, keepdims=True)
        return ps, pe


NEG_WORDS = re.compile(r"\b(no|not|don't|doesn't|didn't|isn't|wasn't|can't|cannot|won't|never|nothing|wrong|"
                       r"sorry|again|already|actually|instead|but|bad|problem|issue|disappointed|unhappy|"
                       r"frustrat\w*|annoy\w*|terrible|awful|worst|useless)\b", re.I)


def pol_acc(ps, y):
    return float(((ps[:, 2] - ps[:, 0] > 0) == (np.asarray(y) == 2)).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=ROOT / "models")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "metrics.json")
    ap.add_argument("--skip-baselines", action="store_true")
    ap.add_argument("--baselines-from", type=Path, default=None,
                    help="copy the baselines from this earlier metrics.json instead of recomputing them "
                         "(about 8 minutes; they depend only on the data and its splits, not on the model)")
    args = ap.parse_args()
    exs = T.examples()
    test = [e for e in exs if e.split == "test"]
    train = [e for e in exs if e.split == "train"]
    model = OnnxModel(args.model)
    M = {"model": {}, "baselines": {}, "counts": {}}

    def by(pred):
        return [e for e in test if pred(e)]

    def run(sub):
        return model([e.text for e in sub])

    # --- Chinese review polarity ----------------------------------------------------------------
    reviews = by(lambda e: e.source in ("online_shopping_10_cats", "waimai_10k", "chnsenticorp_htl_all"))
    ps, _ = run(reviews)
    y = [e.sent for e in reviews]
    M["model"]["zh_reviews_polarity_acc"] = pol_acc(ps, y)
    for lang in ("zh-Hans", "zh-Hant"):
        idx = [i for i, e in enumerate(reviews) if e.lang == lang]
        M["model"][f"zh_reviews_polarity_acc[{lang}]"] = pol_acc(ps[idx], [y[i] for i in idx])
    for src in ("online_shopping_10_cats", "waimai_10k", "chnsenticorp_htl_all"):
        idx = [i for i, e in enumerate(reviews) if e.source == src]
        M["model"][f"zh_reviews_polarity_acc[{src}]"] = pol_acc(ps[idx], [y[i] for i in idx])
    M["counts"]["zh_reviews_test"] = len(reviews)

    import snownlp
    sdir = Path(snownlp.__file__).parent / "sentiment"
    ood = [(l.strip(), 0) for l in open(sdir / "neg.txt", encoding="utf-8") if l.strip()] + \
          [(l.strip(), 2) for l in open(sdir / "pos.txt", encoding="utf-8") if l.strip()]
    ps_ood, _ = model([t for t, _ in ood])
    M["model"]["zh_reviews_ood_snownlp_corpus_acc"] = pol_acc(ps_ood, [l for _, l in ood])
    M["counts"]["zh_reviews_ood"] = len(ood)

    conv = by(lambda e: e.source == "chinese_conversation_manual")
    ps, _ = run(conv)
    M["model"]["zh_chat_polarity_acc[chinese_conversation_manual]"] = pol_acc(ps, [e.sent for e in conv])

    cant = by(lambda e: e.source == "cantonese_forum")
    ps, pe = run(cant)
    M["model"]["zh-Hant_cantonese_sent_macro_f1"] = float(f1_score([e.sent for e in cant], ps.argmax(1), average="macro"))

    # --- English 3-class -------------------------------------------------------------------------
    for src, key in [("tweeteval_sentiment", "en_tweets_sent_macro_f1"), ("goemotions", "en_reddit_sent_macro_f1"),
                     ("meld", "en_meld_sent_macro_f1 (eval-only set)")]:
        sub = by(lambda e, s=src: e.source == s and e.sent >= 0)
        ps, _ = run(sub)
        M["model"][key] = float(f1_score([e.sent for e in sub], ps.argmax(1), average="macro"))
        M["counts"][src + "_sent_test"] = len(sub)

    # --- USS dissatisfaction ------------------------------------------------------------------------
    uss = by(lambda e: e.source.startswith("uss_"))
    ps, _ = run(uss)
    yd = np.array([e.extra["mean"] < 2.5 for e in uss])
    M["model"]["en_uss_dissatisfaction_auc"] = float(roc_auc_score(yd, ps[:, 0]))
    for src in sorted({e.source for e in uss}):
        idx = [i for i, e in enumerate(uss) if e.source == src]
        M["model"][f"en_uss_dissatisfaction_auc[{src}]"] = float(roc_auc_score(yd[idx], ps[idx, 0]))
    M["counts"]["uss_test_user_turns"] = len(uss)
    M["counts"]["uss_test_dissatisfied"] = int(yd.sum())

    # --- Emotion ------------------------------------------------------------------------------------
    for src in ("smp2020_virus", "clue_emotion", "cped", "cantonese_forum", "goemotions", "tweeteval_emotion", "meld",
                "dailydialog"):
        sub = by(lambda e, s=src: e.source == s and e.emo >= 0)
        _, pe = run(sub)
        ye = [e.emo for e in sub]
        labs = sorted(set(ye))
        M["model"][f"emotion_macro_f1[{src}]"] = float(f1_score(ye, pe.argmax(1), average="macro", labels=labs))
        M["model"][f"emotion_acc[{src}]"] = float(accuracy_score(ye, pe.argmax(1)))
        M["counts"][src + "_emo_test"] = len(sub)

    # --- Team-labelled service turns (training/service_turns: the test conversations) ---------------
    svc = by(lambda e: e.source == "service_turns" and e.extra.get("turn_split") == "test")
    ps, pe = run(svc)
    ys, ye = np.array([e.sent for e in svc]), np.array([e.emo for e in svc])
    M["model"]["service_turns_sent_macro_f1"] = float(f1_score(ys, ps.argmax(1), average="macro"))
    M["model"]["service_turns_sent_acc"] = float(accuracy_score(ys, ps.argmax(1)))
    M["model"]["service_turns_emo_macro_f1"] = float(f1_score(ye, pe.argmax(1), average="macro"))
    groups = {"lang": lambda e: e.lang, "speaker": lambda e: e.extra["speaker"],
              "length": lambda e: "short" if e.extra["short"] else "longer"}
    for name, key in groups.items():
        for val in sorted({key(e) for e in svc}):
            idx = [i for i, e in enumerate(svc) if key(e) == val]
            M["model"][f"service_turns_sent_macro_f1[{name}={val}]"] = float(
                f1_score(ys[idx], ps[idx].argmax(1), average="macro", labels=[0, 1, 2]))
    short = [i for i, e in enumerate(svc) if e.extra["short"]]
    calm = [i for i in short if ys[i] != 0]
    neg = [i for i in short if ys[i] == 0]
    M["model"]["service_turns_short_calm_called_negative"] = float((ps[calm].argmax(1) == 0).mean())
    M["model"]["service_turns_short_negative_called_negative"] = float((ps[neg].argmax(1) == 0).mean())
    M["counts"]["service_turns_test"] = len(svc)
    M["counts"]["service_turns_test_short_calm"] = len(calm)
    M["counts"]["service_turns_test_short_negative"] = len(neg)

    # --- Speed in Python ORT (reference only; the Rust benchmark is in benches/) ---------------------
    sample = [e.text for e in test[:4000]]
    t0 = time.time()
    model(sample)
    M["model"]["python_ort_turns_per_s (2 threads, test texts)"] = len(sample) / (time.time() - t0)

    if args.baselines_from:
        M["baselines"] = json.load(open(args.baselines_from))["baselines"]
    elif not args.skip_baselines:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        tr = [e for e in train if e.source in ("online_shopping_10_cats", "waimai_10k")]
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=400000)
        X = vec.fit_transform([e.text for e in tr])
        lr = LogisticRegression(max_iter=2000, C=4.0).fit(X, [e.sent == 2 for e in tr])
        pr = lr.predict(vec.transform([e.text for e in reviews]))
        M["baselines"]["char_ngram_lr: zh_reviews_polarity_acc"] = float((pr == (np.array(y) == 2)).mean())
        pr = lr.predict(vec.transform([t for t, _ in ood]))
        M["baselines"]["char_ngram_lr: zh_reviews_ood_snownlp_corpus_acc"] = float((pr == (np.array([l for _, l in ood]) == 2)).mean())
        from snownlp import SnowNLP
        sn = np.array([SnowNLP(e.text).sentiments for e in reviews[:2000]])
        M["baselines"]["snownlp: zh_reviews_polarity_acc (first 2000 test)"] = float(((sn > 0.5) == (np.array(y[:2000]) == 2)).mean())
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        va = SentimentIntensityAnalyzer()

        def vader3(t):
            c = va.polarity_scores(t)["compound"]
            return 2 if c >= 0.05 else (0 if c <= -0.05 else 1)
        for src, key in [("tweeteval_sentiment", "en_tweets_sent_macro_f1"), ("goemotions", "en_reddit_sent_macro_f1"),
                         ("meld", "en_meld_sent_macro_f1 (eval-only set)")]:
            sub = by(lambda e, s=src: e.source == s and e.sent >= 0)
            M["baselines"][f"vader: {key}"] = float(f1_score([e.sent for e in sub], [vader3(e.text) for e in sub], average="macro"))
        M["baselines"]["vader: en_uss_dissatisfaction_auc (-compound)"] = float(roc_auc_score(yd, [-va.polarity_scores(e.text)["compound"] for e in uss]))
        M["baselines"]["negation_count: en_uss_dissatisfaction_auc"] = float(roc_auc_score(yd, [len(NEG_WORDS.findall(e.text)) for e in uss]))

    M = json.loads(json.dumps(M), parse_float=lambda s: round(float(s), 4))
    json.dump(M, open(args.out, "w"), indent=1, ensure_ascii=False)
    print(json.dumps(M, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
