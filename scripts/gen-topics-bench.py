#!/usr/bin/env python3
"""Conversations for the topics benchmark (scripts/bench-topics.sh), not a test set.

Builds N distinct conversations from the 440 real ones of the topic development set
(calibration/topics/conversations.jsonl): conversation i is real conversation i mod 440 with the
opening customer turn of another one appended as a last customer turn (pair unique for
i < 193,600), a made-up agent (50 of them) and a start time spread over 90 days, so the texts are
realistic in length and language mix and no two are identical (identical texts would be embedded
once and flatter the speed).

    python3 scripts/gen-topics-bench.py N > conversations.jsonl
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    n = int(sys.argv[1])
    if n > 440 * 440:
        sys.exit("at most 193,600 distinct conversations")
    base = [json.loads(l) for l in (ROOT / "calibration/topics/conversations.jsonl").open(encoding="utf-8")]
    openings = []
    for c in base:
        first = next((t["text"] for t in c["turns"] if t["speaker"] == "customer"), c["turns"][0]["text"])
        openings.append(first)
    m = len(base)
    out = sys.stdout
    for i in range(n):
        a, q = i % m, i // m
        b = (q + a) % m
        c = base[a]
        turns = list(c["turns"]) + [{"speaker": "customer", "text": openings[b]}]
        day, sec = (i * 7) % 90, (i * 7919) % 86400
        rec = {
            "conversation_id": f"bench-{i:06d}",
            "agent_id": f"agent-{i % 50:02d}",
            "channel": c.get("channel", "chat"),
            "started_at": f"2026-{1 + day // 30:02d}-{1 + day % 30:02d}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z",
            "turns": turns,
        }
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
