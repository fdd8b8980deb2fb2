"""Merge the labelling passes of calibration/turns into labels.jsonl and report agreement.

    python3 calibration/turns/merge_labels.py

Reads work/passA_batch*.jsonl (pass A: every turn) and work/passB.jsonl (pass B: every fifth
turn, independent), checks every id is labelled exactly once per pass, writes labels.jsonl
(turn text, context, pass A's label, and pass B's where it exists) and prints Cohen's kappa
between the passes.
"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def read(paths):
    out = {}
    for p in paths:
        for n, line in enumerate(open(p, encoding="utf-8"), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            if r["id"] in out:
                raise SystemExit(f"{p}:{n}: id {r['id']} labelled twice")
            out[r["id"]] = bool(r["solution"])
    return out


def kappa(pairs):
    n = len(pairs)
    po = sum(a == b for a, b in pairs) / n
    pa = sum(a for a, _ in pairs) / n
    pb = sum(b for _, b in pairs) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return po, (po - pe) / (1 - pe)


def main():
    turns = [json.loads(l) for l in open(HERE / "turns.jsonl", encoding="utf-8")]
    a = read(sorted((HERE / "work").glob("passA_batch*.jsonl")))
    b = read([HERE / "work" / "passB.jsonl"])
    ids = {t["id"] for t in turns}
    if set(a) != ids:
        raise SystemExit(f"pass A: {len(ids - set(a))} turns unlabelled, {len(set(a) - ids)} unknown ids")
    if not set(b) <= ids:
        raise SystemExit("pass B: unknown ids")
    with open(HERE / "labels.jsonl", "w", encoding="utf-8") as f:
        for t in turns:
            row = dict(t, solution=a[t["id"]])
            if t["id"] in b:
                row["solution_second_pass"] = b[t["id"]]
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    pairs = [(a[i], b[i]) for i in sorted(b)]
    po, k = kappa(pairs)
    print(f"pass A: {len(a)} turns, {sum(a.values())} true; pass B: {len(b)} turns, {sum(b.values())} true")
    print(f"A vs B on {len(pairs)} turns: agreement {po:.3f}, kappa {k:.3f}")
    for lang in ("zh", "en"):
        lp = [(a[t["id"]], b[t["id"]]) for t in turns if t["id"] in b and t["language"] == lang]
        po, k = kappa(lp)
        print(f"  {lang}: {len(lp)} turns, agreement {po:.3f}, kappa {k:.3f}")


if __name__ == "__main__":
    main()
