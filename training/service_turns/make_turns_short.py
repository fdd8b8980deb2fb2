"""Third sample of real service turns: short turns, with the unhappy ones well represented (issue: model v2).

After two samples the model still missed a third of the short negative test turns, and the test
split held only 17 of them, too few to steer by. This sample draws only short turns
(make_turns.is_short: <= 6 Han characters or <= 3 words) from STC-3 train (zh-Hans Weibo
helpdesk) and IBM Twitter customer care (en), from conversations no earlier sample used and
never from the reviewer sets. Half of the STC-3 customer turns come from dialogues whose raters
gave low satisfaction (mean S <= -0.5 over the 19 raters; the dataset's own rating, not a label
of the turn), where short complaints live. Each turn keeps its conversation's split
(make_turns.split_of), so test turns come from test conversations and grow the test split.

Labels come from reading each turn against docs/LABELLING.md, never from a model or rule.
Writes turns_short.jsonl (ids continue after turns_extra.jsonl) and review/short_all.txt, which
both labelling passes read in full. Fixed seed:

    python3 training/service_turns/make_turns_short.py [--datasets ../shared/datasets]
"""
import argparse
import gzip
import json
import random
from collections import Counter
from pathlib import Path

import make_turns as mt
import make_turns_extra as mx

SEED = 20261207


def pools(root, skip):
    """Short candidate turns by (source, speaker, low-satisfaction dialogue)."""
    out = {}

    def add(source, cid, turns, low):
        if cid in skip:
            return
        for r in mt.turns_of(cid, source, turns):
            if mt.is_short(r["text"]):
                out.setdefault((source, r["speaker"], low), []).append(r)

    for d in json.load(gzip.open(root / "stc3_customer_helpdesk" / "train_data_cn.json.gz")):
        s = [a["quality"]["S"] for a in d["annotations"]]
        add("stc3_customer_helpdesk", f"stc3-{d['id']}",
            [("customer" if t["sender"] == "customer" else "agent",
              " ".join(u.strip() for u in t["utterances"] if u.strip())) for t in d["turns"]],
            sum(s) / len(s) <= -0.5)
    for split in ("dev", "test"):
        for d in json.load(gzip.open(root / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            turns = [("agent" if "agent" in m else "customer", m["message"]) for m in d["dialogContent"]]
            turns.append(("agent", d["agentURL"]["url_utterance"]))
            add("ibm_twitter_customer_care", f"ibm-{d['dialogHeader']['sessionID']}", turns, False)
    return out


def take(rng, rows, n, used):
    """n rows, at most 2 per conversation, no conversation used by another stratum here."""
    rows = sorted(rows, key=lambda r: (r["conversation_id"], r["turn"]))
    rng.shuffle(rows)
    picked, per = [], Counter()
    for r in rows:
        if len(picked) >= n:
            break
        if per[r["conversation_id"]] >= 2 or r["conversation_id"] in used:
            continue
        per[r["conversation_id"]] += 1
        picked.append(r)
    used |= set(per)
    return picked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(mt.ROOT.parent / "shared" / "datasets"))
    root = Path(ap.parse_args().datasets)
    earlier = [json.loads(l) for f in ("turns.jsonl", "turns_extra.jsonl")
               for l in open(mt.HERE / f, encoding="utf-8")]
    skip = mx.reviewer_ids() | {r["conversation_id"] for r in earlier}
    pool = pools(root, skip)
    rng = random.Random(SEED)
    used = set()
    quotas = [  # (source, speaker, low satisfaction, turns)
        ("stc3_customer_helpdesk", "customer", True, 400),
        ("stc3_customer_helpdesk", "customer", False, 300),
        ("stc3_customer_helpdesk", "agent", True, 60),
        ("stc3_customer_helpdesk", "agent", False, 60),
        ("ibm_twitter_customer_care", "customer", False, 150),
        ("ibm_twitter_customer_care", "agent", False, 30),
    ]
    rows = []
    for source, speaker, low, n in quotas:
        rows += take(rng, pool.get((source, speaker, low), []), n, used)
    random.Random(SEED + 1).shuffle(rows)
    for n, r in enumerate(rows, start=1 + max(r["id"] for r in earlier)):
        r["id"] = n
        r["short"] = True
        r["variety"] = mt.variety(r["text"])
        r["split"] = mt.split_of(r["conversation_id"])
    with open(mt.HERE / "turns_short.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    review = mt.HERE / "review"

    def block(r):
        return f"#{r['id']}  [{r['speaker'].upper()}]\nBEFORE: {r['context'] or '(none)'}\nTURN: {r['text']}\n\n"

    # Few turns are left (the earlier samples took most short turns of these sources), so both
    # passes read all of them.
    (review / "short_all.txt").write_text("".join(block(r) for r in rows), encoding="utf-8")
    print(len(rows), "turns;", Counter((r["source"], r["speaker"]) for r in rows))
    print("split", Counter(r["split"] for r in rows), Counter(r["variety"] for r in rows))


if __name__ == "__main__":
    main()
