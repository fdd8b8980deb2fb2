"""How much of USS user dissatisfaction can one turn show on its own? Writes
training/results/uss_context.json, which model_card.py quotes under "Known weaknesses".

The issue's dissatisfaction target is scored per user turn, without the dialogue around it, and the
bundled model reads one turn at a time. But USS raters judged each user turn in context: in the
MultiWOZ part, "Does the hotel have a lift?" is rated dissatisfied because of what the system had
just failed to do. To measure that ceiling without the neural model, the same text classifier
(word 1–2-gram TF-IDF + logistic regression, trained on the USS train split) is fitted twice: on
the user turn alone, and on the system turn before it plus the user turn. Both are scored on the
USS test split with the issue's rule (mean rating < 2.5 = dissatisfied), per part and pooled.

    .venv/bin/python uss_context.py          # < 1 minute
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import data as D

OUT = Path(__file__).resolve().parent / "results" / "uss_context.json"


def auc_by_part(rows, scores):
    y = np.array([r.extra["mean"] < 2.5 for r in rows])
    parts = np.array([r.source for r in rows])
    out = {"pooled": round(float(roc_auc_score(y, scores)), 4)}
    for p in sorted(set(parts)):
        k = parts == p
        out[p] = round(float(roc_auc_score(y[k], scores[k])), 4)
    return out


def main():
    rows = D.load_uss()
    train = [r for r in rows if r.split == "train"]
    test = [r for r in rows if r.split == "test"]
    views = {
        "user_turn": lambda r: r.text,
        # Prefixed words keep the two speakers' vocabularies apart ("sorry" from the system is not
        # "sorry" from the user).
        "system_turn_before_and_user_turn": lambda r: " ".join(
            ["s_" + w for w in r.extra["system_before"].split()] + [r.text]),
    }
    result = {"classifier": "word 1-2-gram TF-IDF (sublinear, min_df 2) + logistic regression "
                            "(C 2, balanced classes), trained on the USS train split",
              "test_turns": len(test),
              "dissatisfied_test_turns": sum(r.extra["mean"] < 2.5 for r in test)}
    for name, view in views.items():
        vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x = vec.fit_transform([view(r) for r in train])
        lr = LogisticRegression(C=2.0, max_iter=2000, class_weight="balanced")
        lr.fit(x, [r.extra["mean"] < 2.5 for r in train])
        result[name] = auc_by_part(test, lr.predict_proba(vec.transform([view(r) for r in test]))[:, 1])
    OUT.parent.mkdir(exist_ok=True)
    json.dump(result, open(OUT, "w"), indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
