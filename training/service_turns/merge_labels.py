"""Merge the labelling passes of training/service_turns into labels.jsonl and report agreement.

    python3 training/service_turns/merge_labels.py

Reads turns.jsonl, turns_extra.jsonl (the second, train-only sample) and turns_short.jsonl (the
third: short turns only, all in the test split), work/passA_batch*.jsonl (pass A: every turn) and
work/passB*.jsonl (pass B: every tenth turn of the first two samples, every turn of the third;
independent), checks each pass labels every id once with known values, writes
labels.jsonl (the turn, pass A's sentiment and emotion, pass B's where it exists) and prints
Cohen's kappa between the passes, overall and per stratum.
"""
import json
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SENT = {"negative", "neutral", "positive"}
EMO = {"anger", "anxiety", "disappointment", "satisfaction", "neutral"}


def read(paths):
    out = {}
    for p in paths:
        for n, line in enumerate(open(p, encoding="utf-8"), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            if r["id"] in out:
                raise SystemExit(f"{p}:{n}: id {r['id']} labelled twice")
            if r["sentiment"] not in SENT or r["emotion"] not in EMO:
                raise SystemExit(f"{p}:{n}: unknown label {r}")
            out[r["id"]] = (r["sentiment"], r["emotion"])
    return out


def kappa(pairs):
    n = len(pairs)
    if n == 0:
        return None, None
    po = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return po, (po - pe) / (1 - pe) if pe < 1 else None


def main():
    turns = [json.loads(l) for name in ("turns.jsonl", "turns_extra.jsonl", "turns_short.jsonl")
             for l in open(HERE / name, encoding="utf-8")]
    a = read(sorted((HERE / "work").glob("passA_batch*.jsonl")))
    b = read(sorted((HERE / "work").glob("passB*.jsonl")))
    ids = {t["id"] for t in turns}
    if set(a) != ids:
        raise SystemExit(f"pass A: {len(ids - set(a))} turns unlabelled, {len(set(a) - ids)} unknown ids")
    with open(HERE / "labels.jsonl", "w", encoding="utf-8") as f:
        for t in turns:
            row = dict(t, sentiment=a[t["id"]][0], emotion=a[t["id"]][1])
            if t["id"] in b:
                row["sentiment_second_pass"], row["emotion_second_pass"] = b[t["id"]]
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"pass A: {len(a)} turns; sentiment {dict(Counter(v[0] for v in a.values()))}; "
          f"emotion {dict(Counter(v[1] for v in a.values()))}")
    both = [t for t in turns if t["id"] in b]
    for name, k in (("sentiment", 0), ("emotion", 1)):
        po, kp = kappa([(a[t["id"]][k], b[t["id"]][k]) for t in both])
        print(f"A vs B {name} on {len(both)} turns: agreement {po:.3f}, kappa {kp:.3f}")
    first = {json.loads(l)["id"] for l in open(HERE / "turns.jsonl", encoding="utf-8")}
    third = {json.loads(l)["id"] for l in open(HERE / "turns_short.jsonl", encoding="utf-8")}
    for t in both:
        t["sample"] = "first" if t["id"] in first else ("third" if t["id"] in third else "second")
    for key in ("source", "short", "sample"):
        for val in sorted({str(t[key]) for t in both}):
            sub = [t for t in both if str(t[key]) == val]
            po, kp = kappa([(a[t["id"]][0], b[t["id"]][0]) for t in sub])
            print(f"  sentiment, {key}={val}: n {len(sub)}, agreement {po:.3f}, kappa "
                  f"{'n/a' if kp is None else f'{kp:.3f}'}")


if __name__ == "__main__":
    main()
