"""Build the reviewer development set's dialogues from the staged real datasets.

Writes calibration/dev/dialogues.jsonl (convqa's input format, one conversation per line) and
calibration/dev/review/*.txt (the same dialogues as plain numbered text, for the reviewers who
label them against docs/REVIEW_RUBRIC.md). The sample is fixed by a seed, so the file can be
rebuilt byte for byte from ../shared/datasets:

    python3 calibration/make_devset.py [--datasets ../shared/datasets]

Composition (300 dialogues):
- 200 STC-3 train (Chinese Weibo helpdesk threads), stratified by length: 34 each of 2-6 turns
  and 30 of 7 turns; channel "social". The 19 raters' mean A/S/E go into metadata
  (stc3_accomplishment, stc3_satisfaction, stc3_effectiveness; -2..2).
- 97 IBM Twitter customer care (English brand support threads, dev + test): sampled from the
  threads with two or more turns before the agent's link reply (single-turn threads only if
  there are fewer than 97); channel "social".
  The transcript is dialogContent + agentURL.url_utterance, as the dataset's PROVENANCE says.
- 3 ABCD sample (English live chats by crowd workers); channel "chat"; 'action' lines become
  system turns.
"""
import argparse
import gzip
import json
import random
from pathlib import Path

SEED = 20261206
HERE = Path(__file__).resolve().parent


def stc3(root, rng):
    data = json.load(gzip.open(root / "stc3_customer_helpdesk" / "train_data_cn.json.gz"))
    by_len = {}
    for d in data:
        by_len.setdefault(len(d["turns"]), []).append(d)
    quota = {2: 34, 3: 34, 4: 34, 5: 34, 6: 34, 7: 30}
    out = []
    for n, k in sorted(quota.items()):
        pool = sorted(by_len[n], key=lambda d: d["id"])
        for d in rng.sample(pool, k):
            turns = []
            for t in d["turns"]:
                text = " ".join(u.strip() for u in t["utterances"] if u.strip())
                if not text:
                    continue
                turns.append({"speaker": "customer" if t["sender"] == "customer" else "agent", "text": text})
            q = [a["quality"] for a in d["annotations"]]
            meta = {"source": "stc3_customer_helpdesk/train_data_cn", "stc3_id": d["id"]}
            for key, name in (("A", "accomplishment"), ("S", "satisfaction"), ("E", "effectiveness")):
                meta["stc3_" + name] = round(sum(x[key] for x in q) / len(q), 4)
            out.append({"conversation_id": f"stc3-{d['id']}", "agent_id": "stc3-helpdesk",
                        "channel": "social", "language": "zh-Hans", "turns": turns, "metadata": meta})
    return out


def ibm(root, rng):
    convs = []
    for split in ("dev", "test"):
        for d in json.load(gzip.open(root / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            convs.append((split, d))
    convs.sort(key=lambda sd: sd[1]["dialogHeader"]["sessionID"])
    multi = [c for c in convs if len(c[1]["dialogContent"]) >= 2]
    single = [c for c in convs if len(c[1]["dialogContent"]) < 2]
    picked = multi[:] if len(multi) <= 97 else rng.sample(multi, 97)
    picked += rng.sample(single, 97 - len(picked))
    out = []
    for split, d in picked:
        h = d["dialogHeader"]
        turns = []
        for m in d["dialogContent"]:
            speaker = "agent" if "agent" in m else "customer"
            turns.append({"speaker": speaker, "text": m["message"].strip()})
        turns.append({"speaker": "agent", "text": d["agentURL"]["url_utterance"].strip()})
        out.append({"conversation_id": f"ibm-{h['sessionID']}", "agent_id": h["company"],
                    "channel": "social", "language": "en", "started_at": h["conversationDateTime"],
                    "turns": turns,
                    "metadata": {"source": f"ibm_twitter_customer_care/{split}", "company": h["company"]}})
    return out


def abcd(root):
    out = []
    for d in json.load(open(root / "abcd_sample" / "abcd_sample.json")):
        turns = [{"speaker": {"action": "system"}.get(s, s), "text": t.strip()} for s, t in d["original"]]
        out.append({"conversation_id": f"abcd-{d['convo_id']}", "agent_id": "abcd-agent", "channel": "chat",
                    "language": "en", "turns": turns,
                    "metadata": {"source": "abcd_sample/abcd_sample.json",
                                 "flow": d["scenario"]["flow"], "subflow": d["scenario"]["subflow"]}})
    return out


def as_text(conv):
    lines = [f"=== {conv['conversation_id']} (channel: {conv['channel']})"]
    for i, t in enumerate(conv["turns"]):
        lines.append(f"[{i}] {t['speaker'].upper()}: {t['text']}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(HERE.parent.parent / "shared" / "datasets"))
    args = ap.parse_args()
    root = Path(args.datasets)
    rng = random.Random(SEED)
    convs = stc3(root, rng) + ibm(root, rng) + abcd(root)
    # Interleave sources so that any contiguous review batch holds both languages.
    random.Random(SEED + 1).shuffle(convs)
    dev = HERE / "dev"
    (dev / "review").mkdir(parents=True, exist_ok=True)
    with open(dev / "dialogues.jsonl", "w", encoding="utf-8") as f:
        for c in convs:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    # Review batches of 50 dialogues; the double-labelled subset is every third dialogue.
    for b in range(0, len(convs), 50):
        with open(dev / "review" / f"batch{b // 50 + 1}.txt", "w", encoding="utf-8") as f:
            f.writelines(as_text(c) + "\n" for c in convs[b:b + 50])
    second = convs[::3]
    for h in range(0, len(second), 50):
        with open(dev / "review" / f"second_pass_{h // 50 + 1}.txt", "w", encoding="utf-8") as f:
            f.writelines(as_text(c) + "\n" for c in second[h:h + 50])
    print(f"{len(convs)} dialogues, {len(convs[::3])} in the second pass")


if __name__ == "__main__":
    main()
