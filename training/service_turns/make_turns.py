"""Sample real service-dialogue turns for the team-labelled sentiment/emotion set (issue: model v2).

Writes training/service_turns/turns.jsonl (one customer or agent turn per line, with the turn
before it as context) and training/service_turns/review/*.txt (numbered plain text for the
labelling passes, which read them against docs/LABELLING.md). Fixed seed: rebuilds byte for
byte from ../shared/datasets and samples/:

    python3 training/service_turns/make_turns.py [--datasets ../shared/datasets]

Strata (see PROVENANCE.md): STC-3 train (Weibo helpdesk, zh-Hans), IBM Twitter customer care
(en), CPED (zh-Hans TV dialogue; only dialogues in the model's own test split, so that no turn
was trained on), ABCD sample and the bundled samples (all their customer and agent turns: the only
traditional-Chinese, Cantonese and code-mixed service talk staged), and Cantonese forum posts
from the model's test split (colloquial Cantonese; not service talk, kept as its own stratum).
Short turns (<= 6 Han characters or <= 3 words) are over-sampled to about a third, and
code-mixed zh/en turns are over-sampled within STC-3. Dialogues of the reviewer development set
(calibration/dev) are left out. Each turn's `split` (train/test) is by conversation.
"""
import argparse
import csv
import gzip
import hashlib
import io
import json
import random
import re
from pathlib import Path

SEED = 20261208
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[A-Za-z0-9]+")
CANTONESE = re.compile(r"[係佢嘅咗喺啲冇唔咁哋嚟乜嘢睇㗎囉噃嗰]")
TRAD_ONLY = re.compile(r"[這個們說話還沒會為對時麼點開關問題電號單買賣錢帳戶務實應該謝讓請]")


def is_short(t):
    return len(HAN.findall(t)) <= 6 and len(WORD.findall(HAN.sub(" ", t))) <= 3


def variety(t):
    han = len(HAN.findall(t))
    words = len(WORD.findall(t))
    if han == 0:
        return "en" if words else "und"
    if CANTONESE.search(t):
        v = "yue"
    elif TRAD_ONLY.search(t):
        v = "zh-Hant"
    else:
        v = "zh-Hans"
    latin_words = [w for w in WORD.findall(t) if re.search(r"[A-Za-z]{2,}", w)]
    return v + "+en" if latin_words else v


def split_of(conversation_id):
    h = int(hashlib.sha1(("service-turns:" + conversation_id).encode()).hexdigest()[:8], 16)
    return "test" if h % 3 == 0 else "train"


def model_split(key):
    # training/data.py's split_of: the model's own train/val/test assignment.
    h = int(hashlib.sha1(("convqa-v1" + key).encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < 0.1 else ("val" if h < 0.2 else "train")


def dev_ids():
    return {json.loads(l)["conversation_id"] for l in open(ROOT / "calibration/dev/dialogues.jsonl", encoding="utf-8")}


def turns_of(conv_id, source, turns):
    """(speaker, text) list → candidate rows for customer and agent turns."""
    out = []
    for i, (spk, text) in enumerate(turns):
        if spk not in ("customer", "agent") or not text.strip():
            continue
        prev = turns[i - 1] if i > 0 else None
        out.append({"source": source, "conversation_id": conv_id, "turn": i, "speaker": spk,
                    "text": text.strip(),
                    "context": f"{prev[0]}: {prev[1].strip()[:300]}" if prev else ""})
    return out


def stratified(rng, rows, quota, short_share, extra=None):
    """`quota` rows, about `short_share` of them short; `extra` = (predicate, share) also over-sampled."""
    rows = sorted(rows, key=lambda r: (r["conversation_id"], r["turn"]))
    rng.shuffle(rows)
    picked, seen = [], set()

    def take(pred, n):
        for r in rows:
            if len(picked) >= quota or n <= 0:
                return
            key = (r["conversation_id"], r["turn"])
            if key in seen or not pred(r):
                continue
            # At most 3 turns per conversation, so that no thread dominates.
            if sum(1 for p in picked if p["conversation_id"] == r["conversation_id"]) >= 3:
                continue
            seen.add(key)
            picked.append(r)
            n -= 1

    take(lambda r: is_short(r["text"]), int(quota * short_share))
    if extra:
        take(extra[0], int(quota * extra[1]))
    take(lambda r: True, quota - len(picked))
    return picked


def stc3(root, rng, skip):
    data = json.load(gzip.open(root / "stc3_customer_helpdesk" / "train_data_cn.json.gz"))
    cust, agent = [], []
    for d in data:
        cid = f"stc3-{d['id']}"
        if cid in skip:
            continue
        turns = [("customer" if t["sender"] == "customer" else "agent",
                  " ".join(u.strip() for u in t["utterances"] if u.strip())) for t in d["turns"]]
        for r in turns_of(cid, "stc3_customer_helpdesk", turns):
            (cust if r["speaker"] == "customer" else agent).append(r)
    mixed = (lambda r: "+en" in variety(r["text"]), 0.15)
    return stratified(rng, cust, 700, 0.35, mixed) + stratified(rng, agent, 400, 0.3, mixed)


def ibm(root, rng, skip):
    cust, agent = [], []
    for split in ("dev", "test"):
        for d in json.load(gzip.open(root / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            cid = f"ibm-{d['dialogHeader']['sessionID']}"
            if cid in skip:
                continue
            turns = [("agent" if "agent" in m else "customer", m["message"]) for m in d["dialogContent"]]
            turns.append(("agent", d["agentURL"]["url_utterance"]))
            for r in turns_of(cid, "ibm_twitter_customer_care", turns):
                (cust if r["speaker"] == "customer" else agent).append(r)
    return stratified(rng, cust, 420, 0.25) + stratified(rng, agent, 230, 0.2)


def cped(root, rng):
    by_dialogue = {}
    for fn in ("valid_split.csv.gz", "test_split.csv.gz"):
        with gzip.open(root / "cped" / fn, "rt", encoding="utf-8-sig") as f:
            for r in csv.DictReader(f):
                if model_split("cped:" + r["Dialogue_ID"]) != "test":
                    continue
                by_dialogue.setdefault(r["Dialogue_ID"], []).append((r["Speaker"], r["Utterance"] or ""))
    rows = []
    for did, utts in by_dialogue.items():
        # TV dialogue has no customer or agent: the first speaker is "customer", others "agent",
        # only so that the labelling text reads the same way; the speaker is not a label.
        first = utts[0][0]
        turns = [("customer" if s == first else "agent", t) for s, t in utts]
        rows += turns_of(f"cped-{did}", "cped", turns)
    return stratified(rng, rows, 500, 0.4)


def cantonese(root, rng):
    rows = []
    with gzip.open(root / "cantonese_forum_sentiment" / "cantonese_sentiment.jsonl.gz", "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            t = json.loads(line)["text"].strip()
            # The model's own split for this set is by text (training/data.py text_split).
            fold = re.sub(r"\s+", "", t).lower()
            if t and model_split(fold) == "test":
                rows.append({"source": "cantonese_forum_sentiment", "conversation_id": f"yue-{n}", "turn": 0,
                             "speaker": "customer", "text": t, "context": ""})
    return stratified(rng, rows, 250, 0.3)


def local(paths, source):
    rows = []
    for p in paths:
        text = (ROOT / p).read_text(encoding="utf-8")
        if p.endswith(".csv"):
            by = {}
            for r in csv.DictReader(io.StringIO(text)):
                by.setdefault(r["conversation_id"], []).append((r["speaker"], r["text"]))
            for cid, turns in by.items():
                rows += turns_of(cid, source, turns)
        else:
            for line in text.splitlines():
                c = json.loads(line)
                rows += turns_of(c["conversation_id"], source, [(t["speaker"], t["text"]) for t in c["turns"]])
    return rows


def abcd(root):
    rows = []
    for d in json.load(open(root / "abcd_sample" / "abcd_sample.json")):
        rows += turns_of(f"abcd-{d['convo_id']}", "abcd_sample", [(s, t) for s, t in d["original"]])
    return rows


def write_review(rows, prefix, batches):
    """The labellers' reading copies: review/{prefix}batch1..N.txt (every turn, with the turn
    before it) and review/{prefix}second_pass.txt (every tenth turn, for pass B)."""
    review = HERE / "review"
    review.mkdir(exist_ok=True)

    def block(r):
        ctx = r["context"] or "(none)"
        return f"#{r['id']}  [{r['speaker'].upper()}]\nBEFORE: {ctx}\nTURN: {r['text']}\n\n"

    size = -(-len(rows) // batches)
    for b in range(batches):
        with open(review / f"{prefix}batch{b + 1}.txt", "w", encoding="utf-8") as f:
            f.writelines(block(r) for r in rows[b * size:(b + 1) * size])
    with open(review / f"{prefix}second_pass.txt", "w", encoding="utf-8") as f:
        f.writelines(block(r) for r in rows[::10])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(ROOT.parent / "shared" / "datasets"))
    root = Path(ap.parse_args().datasets)
    rng = random.Random(SEED)
    skip = dev_ids()
    rows = (stc3(root, rng, skip) + ibm(root, rng, skip) + cped(root, rng) + cantonese(root, rng)
            + abcd(root)
            + local(["samples/conversations_zh.jsonl", "samples/conversations_zh_hant.jsonl",
                     "samples/conversations_en.jsonl", "samples/conversations.csv"], "samples"))
    random.Random(SEED + 1).shuffle(rows)
    for n, r in enumerate(rows):
        r["id"] = n
        r["short"] = is_short(r["text"])
        r["variety"] = variety(r["text"])
        r["split"] = split_of(r["conversation_id"])
    with open(HERE / "turns.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    write_review(rows, "", 7)
    from collections import Counter
    print(len(rows), "turns;", Counter(r["source"] for r in rows))
    print("short", sum(r["short"] for r in rows), Counter(r["variety"] for r in rows))
    print("speaker", Counter(r["speaker"] for r in rows), "split", Counter(r["split"] for r in rows))


if __name__ == "__main__":
    main()
