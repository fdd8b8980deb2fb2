"""Build the contact-reason development set for `convqa topics` (issue: contact drivers).

Writes calibration/topics/conversations.jsonl (convqa's input format, one conversation per line)
and calibration/topics/review/*.txt (the same conversations as numbered plain text for the
labellers, who assign each one contact reason by reading it against docs/TOPIC_LABELLING.md).
Fixed seed: rebuilds byte for byte from ../shared/datasets:

    python3 calibration/topics/make_topic_set.py [--datasets ../shared/datasets]

Composition (440 conversations, real customer text only):
- 220 STC-3 train (Chinese Weibo helpdesk threads, zh-Hans), uniform over the 3,700 threads;
- 220 IBM Twitter customer care (English brand support threads, dev + test), uniform over threads;
both leaving out every conversation of the reviewer sets (calibration/dev, calibration/heldout),
so that topics and the QA calibration are judged on different conversations. The second
labelling pass reads every fourth conversation of each language (110).
"""
import argparse
import gzip
import json
import random
from pathlib import Path

SEED = 20261207
HERE = Path(__file__).resolve().parent
PER_LANGUAGE = 220


def reviewer_ids():
    ids = set()
    for p in ("dev/dialogues.jsonl", "heldout/dialogues.jsonl"):
        ids |= {json.loads(l)["conversation_id"] for l in open(HERE.parent / p, encoding="utf-8")}
    return ids


def stc3(root, rng, skip):
    data = json.load(gzip.open(root / "stc3_customer_helpdesk" / "train_data_cn.json.gz"))
    pool = sorted((d for d in data if f"stc3-{d['id']}" not in skip), key=lambda d: d["id"])
    out = []
    for d in rng.sample(pool, PER_LANGUAGE):
        turns = []
        for t in d["turns"]:
            text = " ".join(u.strip() for u in t["utterances"] if u.strip())
            if text:
                turns.append({"speaker": "customer" if t["sender"] == "customer" else "agent", "text": text})
        out.append({"conversation_id": f"stc3-{d['id']}", "agent_id": "stc3-helpdesk", "channel": "social",
                    "language": "zh-Hans", "turns": turns,
                    "metadata": {"source": "stc3_customer_helpdesk/train_data_cn"}})
    return out


def ibm(root, rng, skip):
    pool = []
    for split in ("dev", "test"):
        for d in json.load(gzip.open(root / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            if f"ibm-{d['dialogHeader']['sessionID']}" not in skip:
                pool.append((split, d))
    pool.sort(key=lambda sd: sd[1]["dialogHeader"]["sessionID"])
    out = []
    for split, d in rng.sample(pool, PER_LANGUAGE):
        h = d["dialogHeader"]
        turns = [{"speaker": "agent" if "agent" in m else "customer", "text": m["message"].strip()}
                 for m in d["dialogContent"]]
        turns.append({"speaker": "agent", "text": d["agentURL"]["url_utterance"].strip()})
        out.append({"conversation_id": f"ibm-{h['sessionID']}", "agent_id": h["company"], "channel": "social",
                    "language": "en", "started_at": h["conversationDateTime"], "turns": turns,
                    "metadata": {"source": f"ibm_twitter_customer_care/{split}", "company": h["company"]}})
    return out


def as_text(n, conv):
    lines = [f"=== #{n} {conv['conversation_id']}"]
    for i, t in enumerate(conv["turns"]):
        lines.append(f"[{i}] {t['speaker'].upper()}: {' '.join(t['text'].split())}")
    return "\n".join(lines) + "\n\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(HERE.parent.parent.parent / "shared" / "datasets"))
    root = Path(ap.parse_args().datasets)
    rng = random.Random(SEED)
    skip = reviewer_ids()
    zh, en = stc3(root, rng, skip), ibm(root, rng, skip)
    review = HERE / "review"
    review.mkdir(exist_ok=True)
    with open(HERE / "conversations.jsonl", "w", encoding="utf-8") as f:
        for c in zh + en:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    numbered = list(enumerate(zh + en, start=1))
    for lang, rows in (("zh", numbered[:PER_LANGUAGE]), ("en", numbered[PER_LANGUAGE:])):
        (review / f"{lang}_all.txt").write_text("".join(as_text(n, c) for n, c in rows), encoding="utf-8")
        (review / f"{lang}_second_pass.txt").write_text("".join(as_text(n, c) for n, c in rows[::4]), encoding="utf-8")
    print(len(zh) + len(en), "conversations")


if __name__ == "__main__":
    main()
