"""Second sample of real service turns for the team-labelled set: training turns only (issue: model v2).

The first sample (make_turns.py, 3,101 turns) fixed the test split. The model still called a
quarter of the short calm test turns negative, and plain service requests ("请问怎么退货") read
like complaints to a model trained mostly on reviews. This sample adds turns where that matters:
short turns, plain requests and questions, and agents' service turns, from STC-3 train
(zh-Hans Weibo helpdesk) and IBM Twitter customer care (en). Rules:

- only conversations that make_turns.py's `split_of` puts in **train** and that no earlier turn
  came from, so the test split and its conversations are unchanged;
- dialogues of the reviewer sets (calibration/dev, calibration/heldout) are left out;
- at most 3 turns per conversation (make_turns.stratified).

Writes turns_extra.jsonl (ids continue after turns.jsonl) and review/extra_batch*.txt plus
review/extra_second_pass.txt (every tenth turn) for the labelling passes. Fixed seed:

    python3 training/service_turns/make_turns_extra.py [--datasets ../shared/datasets]
"""
import argparse
import gzip
import json
import random
import re
from collections import Counter
from pathlib import Path

import make_turns as mt

SEED = 20261206
QUESTION = re.compile(r"[?？]|请问|請問|怎么|怎麼|如何|能不能|可以.*吗|\b(how|can you|could you|what|when|where|why|is there)\b", re.I)


def reviewer_ids():
    ids = set()
    for p in ("calibration/dev/dialogues.jsonl", "calibration/heldout/dialogues.jsonl"):
        ids |= {json.loads(l)["conversation_id"] for l in open(mt.ROOT / p, encoding="utf-8")}
    return ids


def pools(root, skip):
    """Candidate turns by (source, speaker), only from unused train-split conversations."""
    out = {}

    def add(source, cid, turns):
        if cid in skip or mt.split_of(cid) != "train":
            return
        for r in mt.turns_of(cid, source, turns):
            out.setdefault((source, r["speaker"]), []).append(r)

    for d in json.load(gzip.open(root / "stc3_customer_helpdesk" / "train_data_cn.json.gz")):
        add("stc3_customer_helpdesk", f"stc3-{d['id']}",
            [("customer" if t["sender"] == "customer" else "agent",
              " ".join(u.strip() for u in t["utterances"] if u.strip())) for t in d["turns"]])
    for split in ("dev", "test"):
        for d in json.load(gzip.open(root / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            turns = [("agent" if "agent" in m else "customer", m["message"]) for m in d["dialogContent"]]
            turns.append(("agent", d["agentURL"]["url_utterance"]))
            add("ibm_twitter_customer_care", f"ibm-{d['dialogHeader']['sessionID']}", turns)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(mt.ROOT.parent / "shared" / "datasets"))
    root = Path(ap.parse_args().datasets)
    first = [json.loads(l) for l in open(mt.HERE / "turns.jsonl", encoding="utf-8")]
    skip = reviewer_ids() | {r["conversation_id"] for r in first}
    pool = pools(root, skip)
    rng = random.Random(SEED)
    question = (lambda r: bool(QUESTION.search(r["text"])), 0.25)
    quotas = [  # (source, speaker, turns, short share)
        ("stc3_customer_helpdesk", "customer", 650, 0.55),
        ("stc3_customer_helpdesk", "agent", 250, 0.3),
        ("ibm_twitter_customer_care", "customer", 300, 0.5),
        ("ibm_twitter_customer_care", "agent", 100, 0.3),
    ]
    rows = []
    for source, speaker, n, short in quotas:
        rows += mt.stratified(rng, pool[(source, speaker)], n, short, question)
    random.Random(SEED + 1).shuffle(rows)
    for n, r in enumerate(rows, start=1 + max(r["id"] for r in first)):
        r["id"] = n
        r["short"] = mt.is_short(r["text"])
        r["variety"] = mt.variety(r["text"])
        r["split"] = "train"
    with open(mt.HERE / "turns_extra.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")

    mt.write_review(rows, "extra_", 6)
    print(len(rows), "turns;", Counter(r["source"] for r in rows))
    print("short", sum(r["short"] for r in rows), Counter(r["variety"] for r in rows))
    print("speaker", Counter(r["speaker"] for r in rows))


if __name__ == "__main__":
    main()
