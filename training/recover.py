"""Recover a design (c) state dict from an exported, statically quantised model.onnx.

Used once, when a run's fp32 checkpoint did not survive a move to a fresh machine but its
exported model did: the weights come back on their int8 grid (per-channel scales, error under
half a quantisation step), the LayerNorm, bias and head parameters exactly. The result is a
`model.state_dict()` of `e5.E5Model` that `train.py --init-from` continues from. Beside it go
the lexical n-gram model (lex.pt, from its int8 table: re-quantising it gives the same table) and
the model's tokenizer.json, so `export.py --run` can export the run again (e.g. with another
quantisation).

  python recover.py --onnx ../models/model.onnx --out runs/e5-recovered/best.pt
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import torch


def dequantised_initializers(g):
    """name -> fp32 array for every initializer, with DequantizeLinear of a weight folded in."""
    from onnx import numpy_helper
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    out = dict(init)
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in init:
            q = init[n.input[0]].astype(np.float32)
            s = init[n.input[1]]
            z = init[n.input[2]].astype(np.float32) if len(n.input) > 2 and n.input[2] else np.zeros_like(s)
            axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
            if s.size > 1:
                shape = [1] * q.ndim
                shape[axis] = -1
                s, z = s.reshape(shape), z.reshape(shape)
            out[n.output[0]] = ((q - z) * s).astype(np.float32)
    return out


def state_dict_from_onnx(path: Path) -> dict[str, torch.Tensor]:
    import onnx
    g = onnx.load(str(path)).graph
    vals = dequantised_initializers(g)
    sd = {}
    for name, a in vals.items():
        if name.startswith("m.") and not name.endswith((".q", ".scale")):
            sd[name[2:]] = a
    # The token table is int8 with one scale per row (export.QuantTable).
    sd["bert.embeddings.word_embeddings.weight"] = (vals["m.bert.embeddings.word_embeddings.q"].astype(np.float32)
                                                   * vals["m.bert.embeddings.word_embeddings.scale"])
    # Weight MatMuls are named after their torch module; ONNX stores the transposed weight.
    for n in g.node:
        if n.op_type == "MatMul" and n.name.startswith("/m/bert/") and n.name.endswith("/MatMul"):
            w = next((vals[x] for x in n.input if x in vals), None)
            if w is None:
                continue  # attention products: no weight
            module = n.name[len("/m/"):-len("/MatMul")].replace("/", ".")
            sd[module + ".weight"] = np.ascontiguousarray(w.T)
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def lexical_state_from_onnx(path: Path) -> dict[str, torch.Tensor] | None:
    """The state dict of lexical.Lexical from export.LexicalTerm's buffers (None without one)."""
    import onnx
    from onnx import numpy_helper
    init = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    if "lex.qlex.q" not in init:
        return None
    emb = init["lex.qlex.q"].astype(np.float32) * init["lex.qlex.scale"].astype(np.float32)
    return {"emb.weight": torch.from_numpy(emb), "bias": torch.from_numpy(init["lex.lex_bias"].copy())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", type=Path, required=True)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--train-info", type=Path, default=None,
                    help="the exported run's train_info.json (e.g. results/e5/): copied beside --out, marked "
                         "with where the weights were recovered from, for export.py and the model card")
    ap.add_argument("--recovered-from", default=None,
                    help="how to name the source model in train_info (default: the --onnx path)")
    args = ap.parse_args()
    import e5 as E5
    sd = state_dict_from_onnx(args.onnx)
    vocab = sd["bert.embeddings.word_embeddings.weight"].shape[0]
    model = E5.E5Model(vocab, layers=args.layers)
    model.fit_positions_to(sd)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if "position_ids" not in m and "token_type_ids" not in m]
    assert not missing and not unexpected, (missing, unexpected)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    print(f"recovered {len(sd)} tensors, vocabulary {vocab} -> {args.out}")
    lex = lexical_state_from_onnx(args.onnx)
    if lex is not None:
        torch.save(lex, args.out.parent / "lex.pt")
        print(f"recovered the lexical table {tuple(lex['emb.weight'].shape)} -> {args.out.parent / 'lex.pt'}")
    if args.train_info:
        info = json.load(open(args.train_info))
        info["weights_recovered_from"] = args.recovered_from or str(args.onnx)
        with open(args.out.parent / "train_info.json", "w") as f:
            json.dump(info, f, indent=1)
    tok = args.onnx.parent / "tokenizer.json"
    if tok.exists():
        shutil.copyfile(tok, args.out.parent / "tokenizer.json")


if __name__ == "__main__":
    main()
