"""Where a fast model disagrees with the default model on the bundled sample calls.

    python3 training/vs_default.py --fast models/fast --out training/results/$RUN/vs_default.json

Runs the release binary's `convqa classify` with the default model (models/) and with --fast on
every turn of samples/conversations_*.jsonl and writes how many sentiment labels differ (all
turns, customer turns) with each differing turn (file, conversation, speaker, text, both labels),
for the fast model's card and for reading by hand. Pure standard library; build the binary first.
"""
import argparse
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def labels(model, texts):
    cmd = [str(ROOT / "target/release/convqa"), "classify", "--threads", "2"]
    if model:
        cmd += ["--model", model]
    out = subprocess.run(cmd, input=("\n".join(texts) + "\n").encode(), capture_output=True,
                         check=True).stdout.decode()
    preds = [json.loads(l) for l in out.splitlines()]
    assert len(preds) == len(texts), (len(preds), len(texts))
    return [p.get("sentiment", {}).get("label", "neutral") for p in preds]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fast", required=True, help="the candidate fast model directory")
    ap.add_argument("--default", default=None, help="the default model (default: models/)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    turns = []
    for f in sorted((ROOT / "samples").glob("conversations_*.jsonl")):
        for line in open(f, encoding="utf-8"):
            c = json.loads(line)
            for t in c["turns"]:
                text = " ".join(t["text"].split())
                if text:
                    turns.append({"file": f.name, "conversation_id": c["conversation_id"],
                                  "speaker": t["speaker"], "text": text})
    texts = [t["text"] for t in turns]
    for t, d, s in zip(turns, labels(a.default, texts), labels(a.fast, texts)):
        t["default"], t["fast"] = d, s
    changed = [t for t in turns if t["default"] != t["fast"]]
    report = {"default": a.default or "models/", "fast": a.fast, "turns": len(turns),
              "customer_turns": sum(t["speaker"] == "customer" for t in turns),
              "changed": len(changed),
              "changed_customer": sum(t["speaker"] == "customer" for t in changed),
              "changed_to_negative": sum(t["fast"] == "negative" for t in changed),
              "changed_from_negative": sum(t["default"] == "negative" for t in changed),
              "turns_changed": changed}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
    print({k: v for k, v in report.items() if k != "turns_changed"})


if __name__ == "__main__":
    main()
