"""Load the public datasets in ../shared/datasets, map their labels to convqa's label sets, and
split them into train / validation / test without leakage.

Label sets (the model's two heads):
  sentiment: negative / neutral / positive
  emotion:   anger / anxiety / disappointment / satisfaction / neutral

Every source's mapping is the dict next to its loader (SENTIMENT_MAP / EMOTION_MAP below) and is
printed into the model card by `model_card.py`. A missing label (e.g. a polarity-only review has no
emotion) is -1 and masked out of that head's loss.

Splits: a text's split is a hash of its normalised form (whitespace removed, traditional folded to
simplified, lower-cased), so duplicates — e.g. the ChnSentiCorp hotel reviews that also sit in
online_shopping_10_cats — always land in the same split. Dialogue sets are split by dialogue id so
turns of one dialogue never straddle splits. Sets used for evaluation only (licence: MELD GPL-3.0,
DailyDialog CC BY-NC-SA) are never in train.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

SENT_LABELS = ["negative", "neutral", "positive"]
EMO_LABELS = ["anger", "anxiety", "disappointment", "satisfaction", "neutral"]
S = {l: i for i, l in enumerate(SENT_LABELS)}
E = {l: i for i, l in enumerate(EMO_LABELS)}

DATA_DIR = Path(os.environ.get("CONVQA_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))

# ---------------------------------------------------------------------------------------------
# Label mappings (source label -> convqa label; None = not used for that head)
# ---------------------------------------------------------------------------------------------
SENTIMENT_MAP = {
    "reviews (chnsenticorp_htl_all, waimai_10k, online_shopping_10_cats)": {"0": "negative", "1": "positive"},
    "chinese_conversation_sentiment": {"negative": "negative", "positive": "positive"},
    "cantonese_forum_sentiment": {"negative": "negative", "neutral": "neutral", "positive": "positive"},
    "cped (Sentiment column)": {"negative": "negative", "neutral": "neutral", "positive": "positive"},
    "smp2020_ewect_virus": {"happy": "positive", "neural": "neutral", "angry": "negative", "sad": "negative",
                            "fear": "negative", "surprise": None},
    "clue_emotion2020": {"like": "positive", "happiness": "positive", "sadness": "negative", "anger": "negative",
                         "disgust": "negative", "fear": "negative", "surprise": None},
    "goemotions (group)": {"positive": "positive", "negative": "negative", "neutral": "neutral", "ambiguous": None},
    "tweeteval/sentiment": {"0 negative": "negative", "1 neutral": "neutral", "2 positive": "positive"},
    "tweeteval/emotion": {"anger": "negative", "joy": "positive", "optimism": "positive", "sadness": "negative"},
    "tweeteval/offensive": {"offensive": "negative", "not-offensive": None},
    "uss_user_satisfaction (mean of raters)": {"< 2.5": "negative", "2.5 – 3.5": "neutral", ">= 3.5": "positive"},
    "meld (eval only)": {"negative": "negative", "neutral": "neutral", "positive": "positive"},
}

EMOTION_MAP = {
    "smp2020_ewect_virus": {"happy": "satisfaction", "neural": "neutral", "angry": "anger", "sad": "disappointment",
                            "fear": "anxiety", "surprise": None},
    "clue_emotion2020": {"like": "satisfaction", "happiness": "satisfaction", "sadness": "disappointment",
                         "anger": "anger", "disgust": "anger", "fear": "anxiety", "surprise": None},
    "cped": {"happy": "satisfaction", "grateful": "satisfaction", "relaxed": "satisfaction",
             "positive-other": "satisfaction", "neutral": "neutral", "anger": "anger", "disgust": "anger",
             "sadness": "disappointment", "depress": "disappointment", "fear": "anxiety", "worried": "anxiety",
             "astonished": None, "negative-other": None},
    "cantonese_forum_sentiment (strongest non-zero intensity; all zero and neutral sentiment = neutral)": {
        "anger": "anger", "sorrow": "disappointment", "delight": "satisfaction", "happiness": "satisfaction"},
    # GoEmotions original 28 labels; a multi-label row is used only when its mapped labels agree.
    "goemotions (original 28)": {
        "anger": "anger", "annoyance": "anger", "disgust": "anger", "disapproval": "anger",
        "fear": "anxiety", "nervousness": "anxiety",
        "sadness": "disappointment", "disappointment": "disappointment", "grief": "disappointment",
        "remorse": "disappointment",
        "joy": "satisfaction", "gratitude": "satisfaction", "relief": "satisfaction", "admiration": "satisfaction",
        "approval": "satisfaction", "amusement": "satisfaction", "love": "satisfaction", "optimism": "satisfaction",
        "pride": "satisfaction", "excitement": "satisfaction", "caring": "satisfaction",
        "neutral": "neutral",
        "confusion": None, "curiosity": None, "desire": None, "embarrassment": None, "realization": None,
        "surprise": None},
    "tweeteval/emotion": {"anger": "anger", "joy": "satisfaction", "optimism": "satisfaction",
                          "sadness": "disappointment"},
    "meld (eval only)": {"anger": "anger", "disgust": "anger", "fear": "anxiety", "sadness": "disappointment",
                         "joy": "satisfaction", "neutral": "neutral", "surprise": None},
    "dailydialog (eval only)": {"anger": "anger", "disgust": "anger", "fear": "anxiety",
                                "sadness": "disappointment", "happiness": "satisfaction", "no emotion": "neutral",
                                "surprise": None},
}


@dataclass
class Example:
    text: str
    sent: int  # index into SENT_LABELS or -1
    emo: int  # index into EMO_LABELS or -1
    source: str
    lang: str  # zh-Hans | zh-Hant | en
    split: str  # train | val | test
    extra: dict = field(default_factory=dict)


def _open(path: Path):
    return io.TextIOWrapper(gzip.open(path), encoding="utf-8-sig") if path.suffix == ".gz" else open(
        path, encoding="utf-8-sig")


_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


def clean(text: str) -> str:
    text = text.replace("\ufeff", "").replace("\u200b", "")
    return re.sub(r"\s+", " ", text).strip()


def unsegment(text: str) -> str:
    """Undo jieba segmentation: drop spaces between CJK characters/punctuation, keep them
    between Latin words."""
    return _CJK_SPACE.sub("", text)


_t2s = None


def _fold(text: str) -> str:
    global _t2s
    if _t2s is None:
        import opencc
        _t2s = opencc.OpenCC("t2s")
    return _t2s.convert(re.sub(r"\s+", "", text.lower()))


def split_of(key: str, val: float = 0.1, test: float = 0.1, salt: str = "convqa-v1") -> str:
    h = int(hashlib.sha1((salt + key).encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if h < test else ("val" if h < test + val else "train")


def text_split(text: str, **kw) -> str:
    return split_of(_fold(text), **kw)


# ---------------------------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------------------------
def load_reviews() -> list[Example]:
    out = []
    seen: dict[str, set] = {}
    rows = []
    for name, fn, col in [("chnsenticorp_htl_all", "ChnSentiCorp_htl_all.csv.gz", "review"),
                          ("waimai_10k", "waimai_10k.csv.gz", "review"),
                          ("online_shopping_10_cats", "online_shopping_10_cats.csv.gz", "review")]:
        with _open(DATA_DIR / name / fn) as f:
            for r in csv.DictReader(f):
                t = clean(r[col] or "")
                if not t:
                    continue
                rows.append((name, t, r["label"]))
                seen.setdefault(_fold(t), set()).add(r["label"])
    done = set()
    for name, t, lab in rows:
        k = _fold(t)
        if len(seen[k]) > 1 or k in done:  # conflicting labels or duplicate: drop
            continue
        done.add(k)
        out.append(Example(t, S[SENTIMENT_MAP["reviews (chnsenticorp_htl_all, waimai_10k, online_shopping_10_cats)"][lab]],
                           -1, name, "zh-Hans", split_of(k)))
    return out


def load_chinese_conversation() -> list[Example]:
    out = []
    for fn, manual in [("sentiment_XS_30k.csv.gz", False), ("sentiment_XS_test.csv.gz", True)]:
        with _open(DATA_DIR / "chinese_conversation_sentiment" / fn) as f:
            for r in csv.DictReader(f):
                t = clean(unsegment(r["text"] or ""))
                if not t:
                    continue
                sp = text_split(t)
                # The 30k file is auto-labelled (noisy): train only. The manual file gives val/test.
                if not manual and sp != "train":
                    continue
                out.append(Example(t, S[r["labels"]], -1,
                                   "chinese_conversation_manual" if manual else "chinese_conversation_auto",
                                   "zh-Hans", sp))
    return out


def load_cantonese() -> list[Example]:
    out = []
    with _open(DATA_DIR / "cantonese_forum_sentiment" / "cantonese_sentiment.jsonl.gz") as f:
        for line in f:
            r = json.loads(line)
            t = clean(r["text"])
            if not t:
                continue
            inten = {k: r.get(k, 0) or 0 for k in ("anger", "sorrow", "delight", "happiness")}
            best = max(inten.items(), key=lambda kv: (kv[1], kv[0]))
            if best[1] > 0:
                emo = E[EMOTION_MAP["cantonese_forum_sentiment (strongest non-zero intensity; all zero and neutral sentiment = neutral)"][best[0]]]
            elif r["sentiment"] == "neutral":
                emo = E["neutral"]
            else:
                emo = -1
            out.append(Example(t, S[r["sentiment"]], emo, "cantonese_forum", "zh-Hant", text_split(t)))
    return out


def load_cped() -> list[Example]:
    out = []
    for fn in ("valid_split.csv.gz", "test_split.csv.gz"):
        with _open(DATA_DIR / "cped" / fn) as f:
            for r in csv.DictReader(f):
                t = clean(r["Utterance"] or "")
                if not t:
                    continue
                emo = EMOTION_MAP["cped"].get(r["Emotion"])
                out.append(Example(t, S[r["Sentiment"]], E[emo] if emo else -1, "cped", "zh-Hans",
                                   split_of("cped:" + r["Dialogue_ID"])))
    return out


def load_smp() -> list[Example]:
    out = []
    with _open(DATA_DIR / "smp2020_ewect_virus" / "virus_train.jsonl.gz") as f:
        for line in f:
            r = json.loads(line)
            t = clean(r["content"])
            if not t:
                continue
            s = SENTIMENT_MAP["smp2020_ewect_virus"][r["label"]]
            e = EMOTION_MAP["smp2020_ewect_virus"][r["label"]]
            out.append(Example(t, S[s] if s else -1, E[e] if e else -1, "smp2020_virus", "zh-Hans", text_split(t)))
    return out


def load_clue() -> list[Example]:
    out = []
    for fn in ("valid.jsonl.gz", "test.jsonl.gz"):
        with _open(DATA_DIR / "clue_emotion2020" / fn) as f:
            for line in f:
                r = json.loads(line)
                t = clean(r["content"])
                if not t:
                    continue
                s = SENTIMENT_MAP["clue_emotion2020"][r["label"]]
                e = EMOTION_MAP["clue_emotion2020"][r["label"]]
                out.append(Example(t, S[s] if s else -1, E[e] if e else -1, "clue_emotion", "zh-Hans", text_split(t)))
    return out


def load_goemotions() -> list[Example]:
    d = DATA_DIR / "goemotions"
    orig = [l.strip() for l in open(d / "original" / "labels.txt", encoding="utf-8") if l.strip()]
    group = [l.strip() for l in open(d / "group" / "labels.txt", encoding="utf-8") if l.strip()]
    out = []
    for split_file, sp in [("train", "train"), ("dev", "val"), ("test", "test")]:
        gl = {}
        with _open(d / "group" / f"{split_file}.tsv.gz") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                gl[parts[2]] = {group[int(i)] for i in parts[1].split(",")}
        with _open(d / "original" / f"{split_file}.tsv.gz") as f:
            for line in f:
                text, ids, cid = line.rstrip("\n").split("\t")
                t = clean(text)
                if not t:
                    continue
                emos = {EMOTION_MAP["goemotions (original 28)"][orig[int(i)]] for i in ids.split(",")}
                emos.discard(None)
                emo = E[emos.pop()] if len(emos) == 1 else -1
                g = {SENTIMENT_MAP["goemotions (group)"][x] for x in gl.get(cid, set())}
                g.discard(None)
                sent = S[g.pop()] if len(g) == 1 else -1
                if sent < 0 and emo < 0:
                    continue
                out.append(Example(t, sent, emo, "goemotions", "en", sp))
    return out


def _tweeteval(task: str, split_file: str):
    d = DATA_DIR / "tweeteval" / task
    mapping = {}
    for l in open(d / "mapping.txt", encoding="utf-8"):
        if l.strip():
            i, name = l.strip().split("\t")
            mapping[int(i)] = name
    with _open(d / f"{split_file}_text.txt.gz") as ft, _open(d / f"{split_file}_labels.txt.gz") as fl:
        for t, l in zip(ft, fl):
            yield clean(t), int(l.strip()), mapping


def load_tweeteval() -> list[Example]:
    out = []
    # Only the validation file of tweeteval/sentiment is staged: split it 60/20/20 by text hash.
    for t, l, m in _tweeteval("sentiment", "val"):
        if t:
            out.append(Example(t, l, -1, "tweeteval_sentiment", "en", split_of(t, val=0.2, test=0.2)))
    for sf, sp in [("train", "train"), ("val", "val"), ("test", "test")]:
        for t, l, m in _tweeteval("emotion", sf):
            name = m[l]
            out.append(Example(t, S[SENTIMENT_MAP["tweeteval/emotion"][name]], E[EMOTION_MAP["tweeteval/emotion"][name]],
                               "tweeteval_emotion", "en", sp))
    for sf, sp in [("train", "train"), ("val", "val")]:
        for t, l, m in _tweeteval("offensive", sf):
            if m[l] == "offensive":
                out.append(Example(t, S["negative"], -1, "tweeteval_offensive", "en", sp))
    return out


def load_uss(files=("MWOZ", "CCPE", "ReDial")) -> list[Example]:
    """User turns with their mean satisfaction. SGD is held back for acceptance: never loaded."""
    out = []
    for name in files:
        with _open(DATA_DIR / "uss_user_satisfaction" / f"{name}.txt.gz") as f:
            dialog = 0
            system = ""  # the system turn the user is answering (for uss_context.py)
            for line in f:
                line = line.rstrip("\n")
                if not line.strip():
                    dialog += 1
                    system = ""
                    continue
                parts = line.split("\t")
                if parts[0] == "SYSTEM" and len(parts) > 1:
                    system = clean(parts[1])
                    continue
                if len(parts) < 4 or parts[0] != "USER" or parts[1] == "OVERALL":
                    continue
                scores = [int(x) for x in parts[3].split(",") if x.strip()]
                if not scores:
                    continue
                mean = sum(scores) / len(scores)
                s = "negative" if mean < 2.5 else ("positive" if mean >= 3.5 else "neutral")
                t = clean(parts[1])
                out.append(Example(t, S[s], -1, f"uss_{name.lower()}", "en", split_of(f"uss:{name}:{dialog}"),
                                   {"mean": mean, "system_before": system}))
    return out


def load_meld() -> list[Example]:
    out = []
    for fn, sp in [("train_sent_emo.csv.gz", "train"), ("dev_sent_emo.csv.gz", "val"), ("test_sent_emo.csv.gz", "test")]:
        with _open(DATA_DIR / "meld" / fn) as f:
            for r in csv.DictReader(f):
                t = clean(r["Utterance"].replace("\x92", "'").replace("\x91", "'"))
                e = EMOTION_MAP["meld (eval only)"].get(r["Emotion"])
                out.append(Example(t, S[r["Sentiment"]], E[e] if e else -1, "meld", "en", sp))
    return out


def load_dailydialog() -> list[Example]:
    out = []
    with _open(DATA_DIR / "dailydialog" / "dailydialog_utterances.tsv.gz") as f:
        rd = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        for r in rd:
            e = EMOTION_MAP["dailydialog (eval only)"].get(r["emotion"])
            sp = {"validation": "val"}.get(r["split"], r["split"])
            out.append(Example(clean(r["text"]), -1, E[e] if e else -1, "dailydialog", "en", sp))
    return out


def load_service_turns() -> list[Example]:
    """The team-labelled real service turns (training/service_turns, docs/LABELLING.md): the
    domain the product exists for, with neutral as the common case. Their own split is by
    conversation (train / test); a tenth of the train conversations are held out for validation.
    Turns sampled from CPED and the Cantonese forum set come from those sets' test splits, so they
    are evaluation only here (training on them would leak into those sets' test figures)."""
    path = Path(__file__).resolve().parent / "service_turns" / "labels.jsonl"
    lang = {"en": "en", "und": "en", "yue": "zh-Hant", "yue+en": "zh-Hant", "zh-Hant": "zh-Hant",
            "zh-Hant+en": "zh-Hant"}
    out = []
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        if r["split"] == "test" or r["source"] in ("cped", "cantonese_forum_sentiment"):
            sp = "test"
        else:
            sp = "val" if split_of("service:" + r["conversation_id"], val=0.1, test=0.0) == "val" else "train"
        out.append(Example(clean(r["text"]), S[r["sentiment"]], E[r["emotion"]], "service_turns",
                           lang.get(r["variety"], "zh-Hans"), sp,
                           {"speaker": r["speaker"], "short": r["short"], "origin": r["source"],
                            "turn_split": r["split"]}))
    return out


# The second round of written turns (WRITING.md) trains the service-turn head only: the network
# never sees it, so it can validate the head against the network (service_head.py --second-round).
SECOND_ROUND = ("d", "e")


def load_written_turns() -> list[Example]:
    """The team-written short service turns (training/service_turns/WRITING.md): written where the
    real dialogues run out of short turns, labelled by the writer and kept only where a blind reader
    agreed on the sentiment. Files a and b train (a tenth held out for validation); file c, by a
    third writer, is test only. Empty when written/labels.jsonl is absent."""
    path = Path(__file__).resolve().parent / "service_turns" / "written" / "labels.jsonl"
    if not path.exists():
        return []
    lang = {"en": "en", "yue": "zh-Hant", "zh-Hant": "zh-Hant", "zh-Hans": "zh-Hans", "mixed": "zh-Hans"}
    out = []
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        if r["id"][0] in SECOND_ROUND:
            continue
        if r["split"] == "test":
            sp = "test"
        else:
            sp = "val" if split_of("written:" + r["id"], val=0.1, test=0.0) == "val" else "train"
        out.append(Example(clean(r["text"]), S[r["sentiment"]], E[r["emotion"]] if r["emotion"] else -1,
                           "service_written", lang.get(r["variety"], "zh-Hans"), sp,
                           {"speaker": r["speaker"], "short": r["short"], "origin": "team_written",
                            "turn_split": r["split"]}))
    return out


TRAIN_SOURCES = [load_reviews, load_chinese_conversation, load_cantonese, load_cped, load_smp, load_clue,
                 load_goemotions, load_tweeteval, load_uss, load_service_turns, load_written_turns]
EVAL_ONLY_SOURCES = [load_meld, load_dailydialog]


def to_traditional(examples: list[Example], share: float = 0.3) -> list[Example]:
    """Convert a deterministic share of the simplified-Chinese examples to traditional script
    (OpenCC s2twp / s2hk alternately), so the model sees both scripts. The copy replaces the
    original (no duplicate across scripts), and keeps the original's split."""
    import opencc
    tw, hk = opencc.OpenCC("s2twp"), opencc.OpenCC("s2hk")
    out = []
    for ex in examples:
        if ex.lang == "zh-Hans":
            h = int(hashlib.md5(("trad" + ex.text).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
            if h < share:
                conv = tw if h < share / 2 else hk
                out.append(Example(conv.convert(ex.text), ex.sent, ex.emo, ex.source, "zh-Hant", ex.split,
                                   dict(ex.extra, converted=True)))
                continue
        out.append(ex)
    return out


def load_all(include_eval_only: bool = False) -> list[Example]:
    exs = []
    for fn in TRAIN_SOURCES:
        exs.extend(fn())
    exs = to_traditional(exs)
    if include_eval_only:
        for fn in EVAL_ONLY_SOURCES:
            exs.extend(fn())
    return exs


if __name__ == "__main__":
    from collections import Counter
    exs = load_all(include_eval_only=True)
    c = Counter((e.source, e.split) for e in exs)
    for k in sorted(c):
        print(k, c[k])
    print("total", len(exs))
