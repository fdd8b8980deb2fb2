"""Build two reviewer sets beside the development set, from threads no other set uses.

    python3 calibration/make_outcome_sets.py [--datasets ../shared/datasets]

- calibration/heldout/: 300 dialogues labelled on the whole rubric and never used to tune or
  train anything: the project's own held-out check of what calibration/dev was tuned on.
  150 STC-3 train (Chinese Weibo threads; raters' mean A/S/E in metadata), 80 IBM Twitter
  customer care (English brand threads), 70 MultiWOZ (English task-oriented chats from the USS
  set; its raters' OVERALL satisfaction in metadata). Every fourth dialogue gets a second pass.
- calibration/outcome/: English dialogues labelled for `resolved` and `qa_grade` only, the
  English training labels of the conversation outcome model (Chinese uses the STC-3 raters'
  own scores): the other IBM threads and 250 other MultiWOZ dialogues.

Left out everywhere: the dialogues of calibration/dev and the threads of calibration/turns (the
solution-turn classifier trained on their agent turns). The sample is fixed by a seed, so the
files are rebuilt byte for byte; review/*.txt are the reviewers' reading copies (not committed).
"""
import argparse
import gzip
import json
import random
from pathlib import Path

from make_devset import as_text  # the reviewers' reading copy, same layout as calibration/dev

SEED = 20261209
HERE = Path(__file__).resolve().parent


def used_ids():
    ids = set()
    for path in (HERE / "dev" / "dialogues.jsonl", HERE / "turns" / "turns.jsonl"):
        for line in open(path, encoding="utf-8"):
            ids.add(json.loads(line)["conversation_id"])
    return ids


def stc3(root, skip):
    out = []
    for d in sorted(json.load(gzip.open(root / "stc3_customer_helpdesk" / "train_data_cn.json.gz")),
                    key=lambda d: d["id"]):
        cid = f"stc3-{d['id']}"
        if cid in skip:
            continue
        turns = []
        for t in d["turns"]:
            text = " ".join(u.strip() for u in t["utterances"] if u.strip())
            if text:
                turns.append({"speaker": "customer" if t["sender"] == "customer" else "agent", "text": text})
        q = [a["quality"] for a in d["annotations"]]
        meta = {"source": "stc3_customer_helpdesk/train_data_cn", "stc3_id": d["id"]}
        for key, name in (("A", "accomplishment"), ("S", "satisfaction"), ("E", "effectiveness")):
            meta["stc3_" + name] = round(sum(x[key] for x in q) / len(q), 4)
        out.append({"conversation_id": cid, "agent_id": "stc3-helpdesk", "channel": "social",
                    "language": "zh-Hans", "turns": turns, "metadata": meta})
    return out


def ibm(root, skip):
    out = []
    for split in ("dev", "test"):
        for d in json.load(gzip.open(root / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            h = d["dialogHeader"]
            cid = f"ibm-{h['sessionID']}"
            if cid in skip:
                continue
            turns = [{"speaker": "agent" if "agent" in m else "customer", "text": m["message"].strip()}
                     for m in d["dialogContent"]]
            turns.append({"speaker": "agent", "text": d["agentURL"]["url_utterance"].strip()})
            out.append({"conversation_id": cid, "agent_id": h["company"], "channel": "social", "language": "en",
                        "started_at": h["conversationDateTime"], "turns": turns,
                        "metadata": {"source": f"ibm_twitter_customer_care/{split}", "company": h["company"]}})
    out.sort(key=lambda c: c["conversation_id"])
    return out


def mwoz(root):
    out = []
    session, n = [], 0
    lines = gzip.open(root / "uss_user_satisfaction" / "MWOZ.txt.gz", "rt", encoding="utf-8").read().split("\n")
    for line in lines + [""]:
        if not line.strip():
            if session:
                n += 1
                turns, overall = [], None
                for role, text, _action, sat in session:
                    if text == "OVERALL":
                        scores = [int(s) for s in sat.split(",") if s.strip()]
                        overall = round(sum(scores) / len(scores), 4)
                        continue
                    turns.append({"speaker": "customer" if role == "USER" else "agent", "text": text.strip()})
                out.append({"conversation_id": f"mwoz-{n:04d}", "agent_id": "mwoz-wizard", "channel": "chat",
                            "language": "en", "turns": turns,
                            "metadata": {"source": "uss_user_satisfaction/MWOZ", "uss_overall": overall}})
            session = []
            continue
        parts = line.split("\t")
        session.append((parts + ["", "", "", ""])[:4])
    return out


def write(folder, convs, batch, second_every):
    (folder / "review").mkdir(parents=True, exist_ok=True)
    with open(folder / "dialogues.jsonl", "w", encoding="utf-8") as f:
        for c in convs:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n")
    for b in range(0, len(convs), batch):
        with open(folder / "review" / f"batch{b // batch + 1}.txt", "w", encoding="utf-8") as f:
            f.writelines(as_text(c) + "\n" for c in convs[b:b + batch])
    if second_every:
        with open(folder / "review" / "second_pass.txt", "w", encoding="utf-8") as f:
            f.writelines(as_text(c) + "\n" for c in convs[::second_every])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(HERE.parent.parent / "shared" / "datasets"))
    args = ap.parse_args()
    root = Path(args.datasets)
    rng = random.Random(SEED)
    skip = used_ids()
    zh, en, wz = stc3(root, skip), ibm(root, skip), mwoz(root)
    zh_held = rng.sample(zh, 150)
    en_held = rng.sample(en, 80)
    wz_pick = rng.sample(wz, 320)
    held = zh_held + en_held + wz_pick[:70]
    held_ids = {c["conversation_id"] for c in held}
    outcome = [c for c in en if c["conversation_id"] not in held_ids] + wz_pick[70:]
    random.Random(SEED + 1).shuffle(held)
    random.Random(SEED + 2).shuffle(outcome)
    write(HERE / "heldout", held, 75, 4)
    write(HERE / "outcome", outcome, 130, 5)
    print(f"heldout {len(held)} (second pass {len(held[::4])}), outcome {len(outcome)}"
          f" (second pass {len(outcome[::5])})")


if __name__ == "__main__":
    main()
