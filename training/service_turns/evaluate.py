"""Score a model on the team-labelled service turns (training/service_turns/labels.jsonl).

    python3 training/service_turns/evaluate.py [--model models/] [--split test|train|all] [--out FILE.json]

Runs the release binary's `convqa classify` (build it first: `cargo build --release`; the ONNX
Runtime library is found as `convqa` finds it) on every labelled turn and reports, against the
labels (pass A): sentiment accuracy and macro-F1, emotion macro-F1, per stratum (source, speaker,
script/variety, short vs longer), and the two figures of the model issue: the share of gold-neutral
or -positive short turns the model calls negative, and the share of gold-negative short turns it
calls negative. Pure standard library.
"""
import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SENT = ["negative", "neutral", "positive"]
EMO = ["anger", "anxiety", "disappointment", "satisfaction", "neutral"]


def macro_f1(pairs, labels):
    f1s = []
    for c in labels:
        tp = sum(1 for g, p in pairs if g == c and p == c)
        fp = sum(1 for g, p in pairs if g != c and p == c)
        fn = sum(1 for g, p in pairs if g == c and p != c)
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s) if f1s else None


def summary(rows):
    sp = [(r["gold_sentiment"], r["pred_sentiment"]) for r in rows]
    # A written turn whose writer and reader disagreed on the emotion has none (None): left out.
    ep = [(r["gold_emotion"], r["pred_emotion"]) for r in rows if r["gold_emotion"] is not None]
    return {"n": len(rows),
            "sentiment_accuracy": round(sum(g == p for g, p in sp) / len(sp), 4) if sp else None,
            "sentiment_macro_f1": round(macro_f1(sp, SENT), 4) if sp else None,
            "emotion_macro_f1": round(macro_f1(ep, EMO), 4) if ep else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--split", default="all", choices=["test", "train", "all"])
    ap.add_argument("--out", default=None)
    ap.add_argument("--set", default="real", choices=["real", "written"],
                    help="real: labels.jsonl (real turns); written: the team-written short turns "
                         "(written/labels.jsonl, WRITING.md), reported apart")
    ap.add_argument("--exclude-source", action="append", default=[],
                    help="leave out the turns of this source (e.g. cantonese_forum_sentiment: see PROVENANCE.md)")
    a = ap.parse_args()
    if a.set == "written":
        rows = [dict(r, source="team_written")
                for r in map(json.loads, open(HERE / "written" / "labels.jsonl", encoding="utf-8"))]
    else:
        rows = [json.loads(l) for l in open(HERE / "labels.jsonl", encoding="utf-8")]
    if a.split != "all":
        rows = [r for r in rows if r["split"] == a.split]
    rows = [r for r in rows if r["source"] not in a.exclude_source]
    texts = "\n".join(" ".join(r["text"].split()) for r in rows) + "\n"
    cmd = [str(ROOT / "target/release/convqa"), "classify", "--threads", "2"]
    if a.model:
        cmd += ["--model", a.model]
    out = subprocess.run(cmd, input=texts.encode(), capture_output=True, check=True).stdout.decode()
    preds = [json.loads(l) for l in out.splitlines()]
    assert len(preds) == len(rows), (len(preds), len(rows))
    for r, p in zip(rows, preds):
        r["gold_sentiment"], r["gold_emotion"] = r["sentiment"], r["emotion"]
        r["pred_sentiment"] = p.get("sentiment", {}).get("label", "neutral")
        r["pred_emotion"] = p.get("emotion", {}).get("label", "neutral")
    report = {"model": a.model or "models/ (default)", "set": a.set, "split": a.split, "excluded_sources": a.exclude_source,
              "all": summary(rows)}
    for key in ("source", "speaker", "variety", "short"):
        groups = defaultdict(list)
        for r in rows:
            groups[str(r[key])].append(r)
        report["by_" + key] = {k: summary(v) for k, v in sorted(groups.items())}
    short = [r for r in rows if r["short"]]
    calm = [r for r in short if r["gold_sentiment"] != "negative"]
    neg = [r for r in short if r["gold_sentiment"] == "negative"]
    report["short_calm_called_negative"] = {
        "n": len(calm), "share": round(sum(r["pred_sentiment"] == "negative" for r in calm) / len(calm), 4) if calm else None,
        "examples": [r["text"] for r in calm if r["pred_sentiment"] == "negative"][:15]}
    report["short_negative_called_negative"] = {
        "n": len(neg), "share": round(sum(r["pred_sentiment"] == "negative" for r in neg) / len(neg), 4) if neg else None}
    report["confusion_sentiment"] = dict(Counter(f"{r['gold_sentiment']}->{r['pred_sentiment']}" for r in rows))
    text = json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True)
    if a.out:
        Path(a.out).write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
