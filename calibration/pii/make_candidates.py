"""Real service turns that may hold personal data, for the redaction measurement set.

    python3 calibration/pii/make_candidates.py [--datasets ../shared/datasets]

Writes calibration/pii/real_candidates.jsonl: every STC-3 (train, Chinese) and IBM Twitter
customer-care turn with a run of 7 or more digits and dashes or spaces (outside URLs), an @ inside
a word followed by a dot (e-mail-like) or a dotted quad; at most 250, in a fixed order. Reviewers
then mark which spans are personal data of which type (calibration/pii/RUBRIC.md).
"""
import argparse
import gzip
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
URL = re.compile(r"https?://\S+")
LIKELY = re.compile(r"\d(?:[\d \-]{5,})\d|[\w.+-]+@[\w-]+\.[\w.]+|\d{1,3}(?:\.\d{1,3}){3}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(HERE.parent.parent.parent / "shared" / "datasets"))
    root = Path(ap.parse_args().datasets)
    out = []
    for d in json.load(gzip.open(root / "stc3_customer_helpdesk" / "train_data_cn.json.gz")):
        for i, t in enumerate(d["turns"]):
            text = " ".join(u.strip() for u in t["utterances"] if u.strip())
            if LIKELY.search(URL.sub(" ", text)):
                out.append({"source": "stc3_customer_helpdesk/train_data_cn", "conversation_id": f"stc3-{d['id']}",
                            "turn": i, "text": text})
    for split in ("dev", "test"):
        for d in json.load(gzip.open(root / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            msgs = [m["message"] for m in d["dialogContent"]] + [d["agentURL"]["url_utterance"]]
            for i, text in enumerate(msgs):
                if LIKELY.search(URL.sub(" ", text)):
                    out.append({"source": f"ibm_twitter_customer_care/{split}",
                                "conversation_id": f"ibm-{d['dialogHeader']['sessionID']}", "turn": i, "text": text})
    out.sort(key=lambda r: (r["conversation_id"], r["turn"]))
    rng = random.Random(20261210)
    picked = sorted(rng.sample(out, min(250, len(out))), key=lambda r: (r["conversation_id"], r["turn"]))
    with open(HERE / "real_candidates.jsonl", "w", encoding="utf-8") as f:
        for k, r in enumerate(picked):
            f.write(json.dumps(dict(r, id=f"real-{k:03d}"), ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(out)} candidate turns, {len(picked)} written")


if __name__ == "__main__":
    main()
