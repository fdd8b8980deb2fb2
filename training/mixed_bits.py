"""Mixed 7/8-bit weights for an exported model: requantise the weight MatMuls of an 8-bit export
(uint8 storage, U8U8 kernels) to 7-bit int8 (|w| <= 64, U8S8 kernels), except the ones whose
7-bit version moves the model's output most on validation text, which keep their 8 bits.

Why: ONNX Runtime's U8S8 kernels are the fast ones (they use VNNI where the CPU has it, and are
faster on AVX2 too), but they saturate with full 8-bit weights on CPUs without VNNI, so an 8-bit
export is stored as uint8 for the slower, never-saturating U8U8 kernels (u8_weights.py). 7-bit
weights cannot saturate (2 x 255 x 64 = 32,640 fits in int16), so they are as portable as U8U8,
but every weight loses half its resolution: the default model with all of them at 7 bits lost
0.013 English tweet F1. Most of that comes from a few MatMuls, so those keep 8 bits.

How the 8-bit ones are chosen (validation split only, never test):
1. each weight MatMul is requantised alone and scored by how far it moves the two heads'
   probabilities from the 8-bit model's (mean KL over a fixed validation sample);
2. the MatMuls are ranked by that; for k = 0, 1, 2, ... all but the k worst are 7-bit;
3. the smallest k (bisection; agreement grows with k) whose sentiment and emotion labels agree
   with the all-8-bit graph's on at least as many validation texts as the 8-bit graph's agree
   with the fp32 graph's (config.json, label_agreement_with_fp32): the 7-bit step may move
   labels no more than the 8-bit quantisation did. Label agreement over all 23,000 validation
   texts, not the task metrics: those rest on a few hundred texts per set (414 English tweets,
   582 Cantonese posts) and move by more than the differences being judged. The metrics
   (lexical.summarise) are reported beside it.

The requantisation starts from the stored 8-bit integers (the fp32 weights are the same numbers
times the scale): per output channel, q7 = round(q8 * 64 / max|q8|), scale7 = scale8 * max|q8| / 64.

    .venv/bin/python mixed_bits.py ../models        # rewrites model.onnx and config.json in place

Outcome on the default model (2026-12-05, results/e5/mixed_bits.json): the rule kept 10 of the 36
MatMuls at 8 bits; the result ran 1.46x faster in convqa on a VNNI CPU, but on the test splits
(results/e5/metrics-mixed-bits.json) English tweet F1 fell from 0.6546 to 0.6487, under the 0.65
target, and written Cantonese sentiment F1 by 0.014, so it is not shipped and run.sh does not call
this script. Choosing a larger k now would be choosing by the test split.
"""
import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

import lexical as LX
import train as T

# How the chosen split is described in config.json's quantization.method.
METHOD_NOTE = ("; weights of {n7} of the {n} weight MatMuls are then requantised to 7 bits (|w| <= 64, int8: "
               "ONNX Runtime's faster U8S8 kernels, which cannot saturate with them), the {n8} whose 7-bit "
               "version moved validation output most keep 8 bits (uint8, U8U8 kernels); both give the same "
               "integers on every x86 CPU")


def weight_nodes(m):
    """The DequantizeLinear nodes of 8-bit uint8 weights (zero point 128), in graph order."""
    from onnx import TensorProto
    from onnx import numpy_helper as nh

    inits = {i.name: i for i in m.graph.initializer}
    out = []
    for node in m.graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in inits:
            continue
        if inits[node.input[0]].data_type != TensorProto.UINT8:
            continue
        if not (nh.to_array(inits[node.input[2]]) == 128).all():
            continue
        out.append(node)
    return out


def requantise(m, names):
    """Return a copy of model `m` with the weights of the DequantizeLinear nodes in `names` at 7 bits."""
    import onnx
    from onnx import numpy_helper as nh

    m = onnx.ModelProto.FromString(m.SerializeToString())
    inits = {i.name: i for i in m.graph.initializer}
    for node in weight_nodes(m):
        if node.name not in names:
            continue
        w, s, z = (inits[node.input[i]] for i in range(3))
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        q = nh.to_array(w).astype(np.int32) - 128
        scale = nh.to_array(s).astype(np.float64)
        # Per-channel scales run along `axis`; reduce over every other axis.
        other = tuple(i for i in range(q.ndim) if i != axis) if scale.ndim else None
        peak = np.abs(q).max(axis=other, keepdims=True) if scale.ndim else np.abs(q).max()
        peak = np.maximum(peak, 1)
        q7 = np.clip(np.round(q * 64.0 / peak), -64, 64).astype(np.int8)
        s7 = (scale * (np.squeeze(peak, axis=other) if scale.ndim else peak) / 64.0).astype(np.float32)
        w.CopyFrom(nh.from_array(q7, w.name))
        s.CopyFrom(nh.from_array(s7.reshape(nh.to_array(s).shape), s.name))
        z.CopyFrom(nh.from_array(np.zeros(nh.to_array(z).shape, np.int8), z.name))
    return m


class Scorer:
    """Runs a model variant on fixed validation token ids (sorted by length, batches of 32)."""

    def __init__(self, ids):
        order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
        self.order = order
        self.ids = [ids[i] for i in order]

    def logits(self, m, threads=2):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
        outs = [[], []]
        t0 = time.perf_counter()
        for k in range(0, len(self.ids), 32):
            x, mask = T.pad(self.ids[k:k + 32])
            a, b = sess.run(None, {"input_ids": x, "attention_mask": mask})
            outs[0].append(a)
            outs[1].append(b)
        secs = time.perf_counter() - t0
        back = np.argsort(self.order)
        return np.concatenate(outs[0])[back], np.concatenate(outs[1])[back], secs


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def kl(ref, new):
    """Mean KL(ref || new) of the softmaxed logits, summed over the two heads."""
    total = 0.0
    for a, b in zip(ref, new):
        p, q = softmax(a.astype(np.float64)), softmax(b.astype(np.float64))
        total += float((p * (np.log(p + 1e-12) - np.log(q + 1e-12))).sum(1).mean())
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path, help="an 8-bit export: model.onnx, tokenizer.json, config.json")
    ap.add_argument("--sample", type=int, default=3000, help="validation texts for the per-MatMul ranking")
    ap.add_argument("--min-agreement", type=float, default=None,
                    help="share of validation labels (each head) that must match the 8-bit model's "
                         "(default: config.json's label_agreement_with_fp32, per head)")
    ap.add_argument("--report", type=Path, default=None, help="write the ranking and the search as json")
    ap.add_argument("--dry-run", action="store_true", help="search and report, do not rewrite the model")
    args = ap.parse_args()
    import onnx
    from tokenizers import Tokenizer

    onnx_path, cfg_path = args.model_dir / "model.onnx", args.model_dir / "config.json"
    m8 = onnx.load(str(onnx_path))
    nodes = [n.name for n in weight_nodes(m8)]
    if not nodes:
        raise SystemExit(f"{onnx_path}: no 8-bit uint8 weights (already converted, or not an 8-bit export)")
    tok = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(T.MAX_LEN)
    val = [e for e in T.examples() if e.split == "val" and e.source not in T.EVAL_ONLY]
    rng = np.random.default_rng(11)
    sample = [val[i] for i in sorted(rng.choice(len(val), size=min(args.sample, len(val)), replace=False))]
    small = Scorer(T.encode(tok, sample, T.MAX_LEN))
    full = Scorer(T.encode(tok, val, T.MAX_LEN))

    ref_small = small.logits(m8)[:2]
    sens = {}
    for i, name in enumerate(nodes):
        sens[name] = kl(ref_small, small.logits(requantise(m8, {name}))[:2])
        print(f"[{i + 1}/{len(nodes)}] {name}: KL {sens[name]:.3e}", flush=True)
    ranked = sorted(nodes, key=lambda n: (-sens[n], n))

    s8, e8, t8 = full.logits(m8)
    base = LX.summarise(val, s8, e8)
    print("8-bit:", base, f"{t8:.1f} s", flush=True)
    cfg = json.load(open(cfg_path))
    fp32 = cfg.get("quantization", {}).get("label_agreement_with_fp32", {})
    need = [args.min_agreement or fp32.get(h) for h in ("sentiment", "emotion")]
    if None in need:
        raise SystemExit(f"{cfg_path}: no label_agreement_with_fp32; pass --min-agreement")
    search = {}

    def trial(k):
        mk = requantise(m8, set(nodes) - set(ranked[:k]))
        s, e, secs = full.logits(mk)
        agree = [float((a.argmax(1) == b.argmax(1)).mean()) for a, b in ((s8, s), (e8, e))]
        search[k] = {"keep_8_bit": k, "val": LX.summarise(val, s, e), "seconds": round(secs, 1),
                     "agreement": {"sentiment": round(agree[0], 4), "emotion": round(agree[1], 4)}}
        print(f"k={k}: {search[k]}", flush=True)
        return all(x >= n for x, n in zip(agree, need)), mk

    lo, hi, best = 0, len(nodes), None  # all 8-bit (k = len) passes by definition
    while lo < hi:
        mid = (lo + hi) // 2
        ok, mk = trial(mid)
        if ok:
            hi, best = mid, mk
        else:
            lo = mid + 1
    k = hi
    mk = best if best is not None else requantise(m8, set(nodes) - set(ranked[:k]))
    chosen = search.get(k, {"keep_8_bit": k, "agreement": {"sentiment": 1.0, "emotion": 1.0}})
    report = {"min_agreement": dict(zip(("sentiment", "emotion"), need)), "validation_texts": len(val), "ranking_sample": len(sample),
              "val_8_bit": base, "ranking": [{"node": n, "kl": round(sens[n], 6)} for n in ranked],
              "search": [search[j] for j in sorted(search)], "chosen": chosen, "keep_8_bit": ranked[:k]}
    if args.report:
        json.dump(report, open(args.report, "w"), indent=1)
    if args.dry_run:
        return
    onnx.save(mk, str(onnx_path))
    q = cfg.get("quantization")
    if q is not None:
        q["method"] += METHOD_NOTE.format(n7=len(nodes) - k, n=len(nodes), n8=k)
        q["weights_kept_8_bit"] = ranked[:k]
        q["label_agreement_with_8_bit"] = {**chosen["agreement"], "validation_texts": len(val)}
    cfg["onnx_sha256"] = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"{onnx_path}: {len(nodes) - k} of {len(nodes)} weight MatMuls at 7 bits, {k} kept at 8")


if __name__ == "__main__":
    main()
