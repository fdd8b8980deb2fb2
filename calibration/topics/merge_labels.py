"""Merge the contact-reason labelling passes into calibration/topics/labels.jsonl and report agreement.

    python3 calibration/topics/merge_labels.py

Reads labels/{zh,en}_passA.jsonl (pass A: every conversation) and labels/{zh,en}_passB.jsonl
(pass B: every fourth, blind to pass A), checks ids and reasons against conversations.jsonl and
docs/TOPIC_LABELLING.md, writes labels.jsonl ({"conversation_id", "language", "reason",
"confidence", "reason_second_pass"?}) with pass A's reason, and prints agreement and Cohen's kappa
per language.
"""
import json
import re
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
GUIDE = HERE.parent.parent / "docs" / "TOPIC_LABELLING.md"


def reasons():
    # The taxonomy's ids are the backquoted snake_case headings of section 2.
    text = GUIDE.read_text(encoding="utf-8")
    return set(re.findall(r"^#+\s*\d*\.?\d*\s*`([a-z_]+)`", text, re.M))


def read(path, known, ids):
    out = {}
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        r = json.loads(line)
        if r["reason"] not in known:
            raise SystemExit(f"{path}:{n}: unknown reason {r['reason']!r}")
        if r["conversation_id"] not in ids or r["conversation_id"] in out:
            raise SystemExit(f"{path}:{n}: unknown or repeated conversation {r['conversation_id']}")
        out[r["conversation_id"]] = r
    return out


def kappa(pairs):
    n = len(pairs)
    po = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return po, (po - pe) / (1 - pe)


def main():
    known = reasons()
    convs = [json.loads(l) for l in open(HERE / "conversations.jsonl", encoding="utf-8")]
    ids = {c["conversation_id"] for c in convs}
    a, b = {}, {}
    for lang in ("zh", "en"):
        a.update(read(HERE / "labels" / f"{lang}_passA.jsonl", known, ids))
        b.update(read(HERE / "labels" / f"{lang}_passB.jsonl", known, ids))
    missing = ids - set(a)
    if missing:
        raise SystemExit(f"pass A: {len(missing)} conversations unlabelled")
    with open(HERE / "labels.jsonl", "w", encoding="utf-8") as f:
        for c in convs:
            cid = c["conversation_id"]
            row = {"conversation_id": cid, "language": c["language"], "reason": a[cid]["reason"],
                   "confidence": a[cid]["confidence"]}
            if cid in b:
                row["reason_second_pass"] = b[cid]["reason"]
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(known)} reasons; pass A {len(a)}, pass B {len(b)}")
    for lang in ("zh-Hans", "en"):
        sub = [c["conversation_id"] for c in convs if c["language"] == lang]
        print(lang, dict(Counter(a[i]["reason"] for i in sub).most_common()))
        both = [i for i in sub if i in b]
        po, k = kappa([(a[i]["reason"], b[i]["reason"]) for i in both])
        hi = [i for i in both if a[i]["confidence"] == "high" and b[i]["confidence"] == "high"]
        po_hi, _ = kappa([(a[i]["reason"], b[i]["reason"]) for i in hi]) if hi else (float("nan"), 0)
        print(f"  A vs B on {len(both)}: agreement {po:.3f}, kappa {k:.3f}; "
              f"both high confidence ({len(hi)}): agreement {po_hi:.3f}")


if __name__ == "__main__":
    main()
