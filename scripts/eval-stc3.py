#!/usr/bin/env python3
"""Independent check of the pipeline on real customer-helpdesk dialogues: does what `convqa score`
says about a conversation track how satisfied the customer was?

Reads NTCIR-14 STC-3 (`../shared/datasets/stc3_customer_helpdesk/train_data_cn.json.gz`: 3,700
Weibo customer–helpdesk dialogues, each rated by 19 annotators for customer Satisfaction S in
−2..2; not used to train the bundled model), writes them as convqa JSONL, scores them with the
release binary, and prints rank correlations and AUCs against the mean S.

    python3 scripts/eval-stc3.py [--datasets DIR] [--bin target/release/convqa] [--keep DIR]

Standard library only (Spearman and ROC AUC are computed here). No thresholds are asserted.
"""
from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else float("nan")


def auc(labels, scores):
    """P(score of a positive > score of a negative), ties half (Mann–Whitney)."""
    r = ranks(scores)
    pos = [ri for ri, y in zip(r, labels) if y]
    n_pos, n_neg = len(pos), len(labels) - len(pos)
    return (sum(pos) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--bin", type=Path, default=ROOT / "target" / "release" / "convqa")
    ap.add_argument("--keep", type=Path, help="keep the converted input and the results here")
    args = ap.parse_args()
    src = args.datasets / "stc3_customer_helpdesk" / "train_data_cn.json.gz"
    if not src.exists():
        sys.exit(f"eval-stc3: {src} not found (pass --datasets DIR)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="convqa-stc3-"))
    work.mkdir(parents=True, exist_ok=True)
    dialogues = json.load(gzip.open(src, "rt", encoding="utf-8"))
    sat = {}
    with open(work / "stc3.jsonl", "w", encoding="utf-8") as f:
        for k, d in enumerate(dialogues):
            turns = []
            for t in d["turns"]:
                text = " ".join(u for u in t["utterances"] if u.strip())
                if text.strip():  # empty utterances were emoji/images that were not crawled
                    turns.append({"speaker": "customer" if t["sender"] == "customer" else "agent", "text": text})
            if not turns:
                continue
            cid = f"stc3-{d.get('id', k)}"
            sat[cid] = sum(a["quality"]["S"] for a in d["annotations"]) / len(d["annotations"])
            f.write(json.dumps({"conversation_id": cid, "agent_id": "helpdesk", "channel": "chat", "turns": turns},
                               ensure_ascii=False) + "\n")
    subprocess.run([str(args.bin), "score", str(work / "stc3.jsonl"), "--out", str(work / "out")], check=True)
    S, risk, qa, sent = [], [], [], []
    for line in open(work / "out" / "conversations.jsonl", encoding="utf-8"):
        r = json.loads(line)
        S.append(sat[r["conversation_id"]])
        risk.append(r["escalation"]["risk"])
        qa.append(r["qa"]["score"] or 0.0)
        cs = r["metrics"].get("customer_sentiment") or {}
        sent.append(cs.get("mean") or 0.0)
    unhappy = [s < 0 for s in S]
    print(f"{len(S)} dialogues, {sum(unhappy)} with mean satisfaction S < 0")
    print(f"customer mean sentiment vs S: Spearman {spearman(sent, S):.3f}; "
          f"AUC for S < 0 (lower sentiment = unhappier) {auc(unhappy, [-x for x in sent]):.3f}")
    print(f"escalation risk vs S:         Spearman {spearman(risk, S):.3f}; AUC for S < 0 {auc(unhappy, risk):.3f}")
    print(f"QA score vs S:                Spearman {spearman(qa, S):.3f} (a call-centre checklist on 2–4-turn "
          "Weibo exchanges: expect little)")


if __name__ == "__main__":
    main()
