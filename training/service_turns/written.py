"""The team-written short service turns (WRITING.md): the blind reading copy and the merge.

    python3 training/service_turns/written.py blind   # written/blind_{train1,train2,test}.txt: ids and texts, no labels
    python3 training/service_turns/written.py blind2  # the second round (train_d, train_e): blind_train{3,4}.txt
    python3 training/service_turns/written.py merge   # written/labels.jsonl + agreement

Writers label what they write (written/train_a.jsonl, train_b.jsonl: training; test_c.jsonl: a
test set by a third writer; train_d.jsonl, train_e.jsonl: the second round, training only, see
WRITING.md). An independent reader labels the blind copies by docs/LABELLING.md without seeing the
writers' labels (written/reader_train1.jsonl, reader_train2.jsonl, reader_test.jsonl, and
reader_train3.jsonl, reader_train4.jsonl for the second round: {"id", "sentiment", "emotion"}). A turn is kept when writer and reader agree on its sentiment; its
emotion is kept when they agree on that too, else it is unknown (-1 in training, left out of
emotion scores). Ids are "<file letter>-<line number>", stable as long as the files are.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

from merge_labels import kappa  # the real turns' merge: the same Cohen's kappa

HERE = Path(__file__).resolve().parent / "written"
SENT = {"negative", "neutral", "positive"}
EMO = {"anger", "anxiety", "disappointment", "satisfaction", "neutral"}
FILES = {"a": ("train_a.jsonl", "train"), "b": ("train_b.jsonl", "train"), "c": ("test_c.jsonl", "test"),
         # Second round (2026-12-07), training only: mostly short turns, with the hard short cases of
         # both sides stressed (the service-turn head learns from them; WRITING.md, "Second round").
         "d": ("train_d.jsonl", "train"), "e": ("train_e.jsonl", "train")}
FIRST_ROUND = ("a", "b", "c")
READERS = ("reader_train1.jsonl", "reader_train2.jsonl", "reader_test.jsonl", "reader_train3.jsonl", "reader_train4.jsonl")


def written():
    rows = []
    for letter, (name, split) in FILES.items():
        seen = set()
        for n, line in enumerate(open(HERE / name, encoding="utf-8"), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            text = " ".join(r["text"].split())
            if not text or text in seen:
                continue  # a writer's duplicate: keep the first
            seen.add(text)
            if r["sentiment"] not in SENT or r["emotion"] not in EMO or r["speaker"] not in ("customer", "agent"):
                raise SystemExit(f"{name}:{n}: unknown label or speaker {r}")
            rows.append(dict(r, text=text, id=f"{letter}-{n}", split=split, writer=letter))
    return rows


def blind():
    """Reading copies in a shuffled order (writers write in runs of one kind, which would prime
    the reader); the training turns in two halves, for two readers."""
    import random
    rows = [r for r in written() if r["writer"] in FIRST_ROUND]
    random.Random(20261207).shuffle(rows)
    train = [r for r in rows if r["split"] == "train"]
    parts = {"test": [r for r in rows if r["split"] == "test"],
             "train1": train[:len(train) // 2], "train2": train[len(train) // 2:]}
    for name, sub in parts.items():
        with open(HERE / f"blind_{name}.txt", "w", encoding="utf-8") as f:
            f.writelines(f"#{r['id']} [{r['speaker'].upper()}] {r['text']}\n" for r in sub)
    print({k: len(v) for k, v in parts.items()})


def blind2():
    """The second round's reading copies: its turns shuffled, in two halves for two readers (the
    first round's copies stay as they were)."""
    import random
    rows = [r for r in written() if r["writer"] not in FIRST_ROUND]
    random.Random(20261208).shuffle(rows)
    half = len(rows) // 2
    for name, sub in (("train3", rows[:half]), ("train4", rows[half:])):
        with open(HERE / f"blind_{name}.txt", "w", encoding="utf-8") as f:
            f.writelines(f"#{r['id']} [{r['speaker'].upper()}] {r['text']}\n" for r in sub)
    print({"train3": half, "train4": len(rows) - half})


def merge():
    rows = written()
    reader = {}
    for name in READERS:
        if not (HERE / name).exists():
            continue
        for n, line in enumerate(open(HERE / name, encoding="utf-8"), 1):
            if line.strip():
                r = json.loads(line)
                if r["sentiment"] not in SENT or r["emotion"] not in EMO:
                    raise SystemExit(f"{name}:{n}: unknown label {r}")
                reader[r["id"]] = r
    missing = [r["id"] for r in rows if r["id"] not in reader]
    if missing:
        raise SystemExit(f"reader: {len(missing)} turns unlabelled, e.g. {missing[:5]}")
    kept = []
    for split in ("train", "test"):
        sub = [r for r in rows if r["split"] == split]
        for name in ("sentiment", "emotion"):
            po, k = kappa([(r[name], reader[r["id"]][name]) for r in sub])
            print(f"{split}: writer vs reader {name} on {len(sub)} turns: agreement {po:.3f}, kappa {k:.3f}")
            second = [r for r in sub if r["writer"] not in FIRST_ROUND]
            if second:
                po, k = kappa([(r[name], reader[r["id"]][name]) for r in second])
                print(f"  of which the second round: {len(second)} turns: agreement {po:.3f}, kappa {k:.3f}")
        for r in sub:
            rd = reader[r["id"]]
            if rd["sentiment"] != r["sentiment"]:
                continue
            kept.append({"id": r["id"], "text": r["text"], "speaker": r["speaker"], "variety": r["variety"],
                         "split": split, "sentiment": r["sentiment"],
                         "emotion": r["emotion"] if rd["emotion"] == r["emotion"] else None,
                         "short": is_short(r["text"])})
    # Short stock phrases recur across writers ("hey", "好的呢"): a test turn whose text (letters and
    # digits, case folded) is also a training turn would be measured on what was trained, so it
    # leaves the test; and a training turn that is also a real test turn (labels.jsonl) leaves the
    # training, so the real test split stays unseen.
    def norm(t):
        # Letters and digits, case folded; a turn of only emoji or punctuation ("🙄", "……") is
        # compared whole instead, or every such turn would match every other.
        return re.sub(r"[\W_]+", "", t.lower()) or t
    trained = {norm(r["text"]) for r in kept if r["split"] == "train"}
    real_test = {norm(json.loads(l)["text"]) for l in open(HERE.parent / "labels.jsonl", encoding="utf-8")
                 if json.loads(l)["split"] == "test"}
    before = len(kept)
    kept = [r for r in kept if not (r["split"] == "test" and norm(r["text"]) in trained)
            and not (r["split"] == "train" and norm(r["text"]) in real_test)]
    print(f"dropped {before - len(kept)} turns that repeat a turn of the other split")
    with open(HERE / "labels.jsonl", "w", encoding="utf-8") as f:
        for r in kept:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    print("kept", Counter((r["split"], r["sentiment"]) for r in kept))
    print("short", Counter((r["split"], r["short"]) for r in kept), "varieties", Counter(r["variety"] for r in kept))


def is_short(text):
    sys.path.insert(0, str(HERE.parent))
    import make_turns
    return make_turns.is_short(text)


if __name__ == "__main__":
    {"blind": blind, "blind2": blind2, "merge": merge}[sys.argv[1]]()
