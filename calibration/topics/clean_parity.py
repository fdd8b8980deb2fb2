"""Parity of src/topics/text.rs `clean` with study.py's `clean` (the function the study measured).

    python3 calibration/topics/clean_parity.py --dump /tmp/py_clean.jsonl   # every turn
    python3 calibration/topics/clean_parity.py --fixture                      # rewrite the fixture

--dump writes study.py's `clean` of every turn of conversations.jsonl (with the conversation's
language, as the study called it) for a full comparison with the Rust output
(`cargo test --release --lib topics::text::tests::parity_with_study_py_on_every_turn -- --ignored`
reads it from CONVQA_CLEAN_PARITY). --fixture rewrites src/topics/clean_parity.jsonl: the turns
whose cleaning is least trivial (numbers glued or not, handles, URLs, emoticons, repost markers,
signatures), plus handmade edge cases, each with study.py's output as the expected value; the unit
test checks the Rust port against it on every run. Needs only the standard library (numpy, which
study.py imports for its other parts, is stubbed).
"""
from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.modules.setdefault("numpy", types.ModuleType("numpy"))
sys.path.insert(0, str(HERE))
import study  # noqa: E402

# Edge cases of the number rule and the handle rules that the data may not hold.
HANDMADE = [
    ("en", "RT @user: 12.5M users, ps4 at 8:07 for $20 (12.5%) in 2020 ^JS"),
    ("en", "1,000abc and 3-4 days, 50M plan, 4G/5G, v2.0, 1.5.6x, ３号"),
    ("en", "@AppleSupport's reply: see example.com/help or www.apple.com and t.cn/abc"),
    ("en", "call 1-800-275-2273 or visit apple.co/3xyz [happy] ①② ²"),
    ("zh-Hans", "回复@中国联通客服:你们的50M宽带2020年就坏了 //@某人:转发微博 [哈哈] #宽带#"),
    ("zh-Hans", "对@小米客服说：手机12点开不了机 (来自iPhone客户端) 分享自@微博 抄送@联通"),
    ("zh-Hans", "花了￥299.00买的，订单号123456789，8:07分发货 http://t.cn/z859d9f"),
    ("zh-Hans", "@张三说：3G网络12.5M？ 第1次 ２０２０年 [可怜]"),
]


def turns():
    with open(HERE / "conversations.jsonl", encoding="utf-8") as f:
        for line in f:
            conv = json.loads(line)
            for t in conv["turns"]:
                yield conv["language"], t["text"]


def tricky(lang: str, text: str) -> int:
    """How many cleaning rules touch the text (a rough score to pick fixture rows)."""
    import re

    rules = [study.URL, study.HANDLE_ZH if lang.startswith("zh") else study.HANDLE_EN,
             study.REPOST, study.EMOTICON, study.NUM, re.compile(r"\^\w+\s*$"),
             re.compile(r"\d[A-Za-z]|[A-Za-z]\d"), re.compile("#")]
    return sum(1 for r in rules if r.search(text))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump")
    ap.add_argument("--fixture", action="store_true")
    args = ap.parse_args()
    rows = [(lang, text) for lang, text in turns()]
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for lang, text in rows:
                out = study.clean(text, lang)
                f.write(json.dumps({"lang": lang, "text": text, "clean": out}, ensure_ascii=False) + "\n")
        print(f"{len(rows)} turns -> {args.dump}")
    if args.fixture:
        seen = set()
        picked = []
        # The most rule-laden turns per language, ties by text so the pick is stable.
        for lang in ("zh-Hans", "en"):
            cand = sorted({t for l, t in rows if l == lang and len(t) <= 240},
                          key=lambda t: (-tricky(lang, t), t))
            for t in cand[:24]:
                if (lang, t) not in seen:
                    seen.add((lang, t))
                    picked.append((lang, t))
        picked += HANDMADE
        dest = ROOT / "src" / "topics" / "clean_parity.jsonl"
        with open(dest, "w", encoding="utf-8") as f:
            for lang, text in picked:
                out = study.clean(text, lang)
                f.write(json.dumps({"lang": lang, "text": text, "clean": out}, ensure_ascii=False) + "\n")
        print(f"{len(picked)} turns -> {dest}")


if __name__ == "__main__":
    main()
