"""Sample real agent turns for the "concrete solution" turn classifier's labelled set.

Writes calibration/turns/turns.jsonl (one agent turn per line, with the customer turn before it as
context) and calibration/turns/review/batch*.txt (the same turns as numbered plain text for the
labelling passes, which read them against calibration/turns/RUBRIC.md). The sample is fixed by a
seed, so the file can be rebuilt byte for byte from ../shared/datasets:

    python3 calibration/turns/make_turns.py [--datasets ../shared/datasets]

Dialogues in the reviewer development set (calibration/dev/dialogues.jsonl) are left out, so that
the development set stays an independent check of the classifier. Composition (1,600 turns, at
most two per dialogue so that no thread dominates):
- 1,000 from STC-3 train (Chinese Weibo helpdesk threads);
- 600 from IBM Twitter customer care (dev + test; English brand support threads), including the
  final link reply (agentURL.url_utterance).
"""
import argparse
import gzip
import json
import random
from pathlib import Path

SEED = 20261207
HERE = Path(__file__).resolve().parent
PER_DIALOGUE = 2


def dev_ids():
    ids = set()
    for line in open(HERE.parent / "dev" / "dialogues.jsonl", encoding="utf-8"):
        ids.add(json.loads(line)["conversation_id"])
    return ids


def pick(rng, dialogues, quota):
    """At most PER_DIALOGUE agent turns from each of enough dialogues to reach the quota."""
    rng.shuffle(dialogues)
    out = []
    for conv_id, turns in dialogues:
        agent = [i for i, t in enumerate(turns) if t[0] == "agent" and t[1]]
        for i in sorted(rng.sample(agent, min(PER_DIALOGUE, len(agent)))):
            before = next((turns[j][1] for j in range(i - 1, -1, -1) if turns[j][0] == "customer"), "")
            out.append({"conversation_id": conv_id, "turn": i, "context": before, "text": turns[i][1]})
            if len(out) == quota:
                return out
    return out


def stc3(root, rng, skip):
    data = json.load(gzip.open(root / "stc3_customer_helpdesk" / "train_data_cn.json.gz"))
    dialogues = []
    for d in sorted(data, key=lambda d: d["id"]):
        cid = f"stc3-{d['id']}"
        if cid in skip:
            continue
        turns = []
        for t in d["turns"]:
            text = " ".join(u.strip() for u in t["utterances"] if u.strip())
            turns.append(("customer" if t["sender"] == "customer" else "agent", text))
        dialogues.append((cid, turns))
    return [dict(x, language="zh") for x in pick(rng, dialogues, 1000)]


def ibm(root, rng, skip):
    dialogues = []
    for split in ("dev", "test"):
        for d in json.load(gzip.open(root / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            cid = f"ibm-{d['dialogHeader']['sessionID']}"
            if cid in skip:
                continue
            turns = [("agent" if "agent" in m else "customer", m["message"].strip()) for m in d["dialogContent"]]
            turns.append(("agent", d["agentURL"]["url_utterance"].strip()))
            dialogues.append((cid, turns))
    dialogues.sort(key=lambda x: x[0])
    return [dict(x, language="en") for x in pick(rng, dialogues, 600)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(HERE.parent.parent.parent / "shared" / "datasets"))
    args = ap.parse_args()
    root = Path(args.datasets)
    rng = random.Random(SEED)
    skip = dev_ids()
    turns = stc3(root, rng, skip) + ibm(root, rng, skip)
    random.Random(SEED + 1).shuffle(turns)
    for n, t in enumerate(turns):
        t["id"] = n
    with open(HERE / "turns.jsonl", "w", encoding="utf-8") as f:
        for t in turns:
            f.write(json.dumps(t, ensure_ascii=False, sort_keys=True) + "\n")
    review = HERE / "review"
    review.mkdir(exist_ok=True)
    for b in range(0, len(turns), 400):
        with open(review / f"batch{b // 400 + 1}.txt", "w", encoding="utf-8") as f:
            for t in turns[b:b + 400]:
                f.write(f"#{t['id']}\nCUSTOMER BEFORE: {t['context'][:400] or '(none)'}\nAGENT: {t['text']}\n\n")
    # The second, independent pass: every fifth turn of the whole set (320 turns).
    with open(review / "second_pass.txt", "w", encoding="utf-8") as f:
        for t in turns[::5]:
            f.write(f"#{t['id']}\nCUSTOMER BEFORE: {t['context'][:400] or '(none)'}\nAGENT: {t['text']}\n\n")


if __name__ == "__main__":
    main()
