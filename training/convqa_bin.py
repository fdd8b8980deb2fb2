"""The release binary as the training scripts measure through it: `convqa classify` on texts, and
a copy of a model directory whose config.json lacks some entries, to measure what a side file
(the review-polarity model, the service-turn head) changes. Build the binary first
(`cargo build --release`); the ONNX Runtime library is found as `convqa` finds it.
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_line(t: str) -> str:
    """A text as one input line of `convqa classify` (whitespace runs, newlines included, to one space)."""
    return " ".join(t.split())


def classify(model_dir: Path, texts: list[str]) -> list[dict]:
    """`convqa classify --model model_dir` on the texts: one output object per text, in order."""
    out = subprocess.run([str(ROOT / "target/release/convqa"), "classify", "--model", str(model_dir), "--threads", "2"],
                         input=("\n".join(one_line(t) for t in texts) + "\n").encode(), capture_output=True,
                         check=True).stdout.decode()
    preds = [json.loads(l) for l in out.splitlines()]
    assert len(preds) == len(texts), (len(preds), len(texts))
    return preds


@contextlib.contextmanager
def without_entries(model_dir: Path, *keys: str):
    """A temporary copy of a model directory whose config.json lacks `keys`: links to every other
    file (side files included, so the entries kept still load), the config rewritten."""
    with tempfile.TemporaryDirectory(prefix="convqa-model-") as tmp:
        d = Path(tmp)
        for f in Path(model_dir).iterdir():
            if f.is_file() and f.name != "config.json":
                (d / f.name).symlink_to(f.resolve())
        cfg = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
        for k in keys:
            cfg.pop(k, None)
        (d / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
        yield d
