"""Store a QDQ model's int8 weights as uint8 (value + 128, zero point 128): the same numbers, so
ONNX Runtime runs the weight MatMuls with its U8U8 kernels instead of U8S8.

Why: on x86 CPUs without AVX-512 VNNI (AVX2 machines, such as AMD EPYC before Zen 4), ONNX
Runtime's U8S8 kernels use VPMADDUBSW, which adds pairs of uint8 x int8 products in SATURATING
16-bit arithmetic. With activations near 255 and weights near +-127 a pair overflows, so those
machines computed a different (wrong) model: on the 564 sample turns, probabilities moved by up to
0.3 and labels changed, against a VNNI machine. The U8U8 kernels widen to 16 bits before
multiplying and never saturate, so every x86 CPU computes the same integers (ONNX Runtime's
quantisation guide names U8U8 as the remedy for this).
Measured on an AVX2 machine: the sample goldens written on a VNNI machine are reproduced except
for 31 numbers in 3 turns (fp32 rounding differences, largest 0.14), and no label changed.

Used by export.py after quantising; can also convert an already exported model directory:

    .venv/bin/python u8_weights.py ../models      # rewrites model.onnx and config.json in place
"""
import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

METHOD_NOTE = ("; the int8 weights are stored as uint8 with zero point 128 (the same values), so ONNX Runtime "
               "uses its U8U8 kernels, which give the same integers on every x86 CPU (its U8S8 kernels saturate "
               "on CPUs without AVX-512 VNNI)")


def convert(path: Path) -> int:
    """Rewrite `path` in place; returns how many weight tensors were converted (0 when the model
    has no int8 weights, e.g. it was converted already)."""
    import onnx
    from onnx import TensorProto
    from onnx import numpy_helper as nh

    m = onnx.load(str(path))
    inits = {i.name: i for i in m.graph.initializer}
    n = 0
    for node in m.graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in inits:
            continue
        w = inits[node.input[0]]
        if w.data_type != TensorProto.INT8:
            continue
        zp = nh.to_array(inits[node.input[2]])
        # Symmetric int8 (zero point 0) is what quantize_static writes for weights; anything else
        # would need its own shift and is refused rather than guessed.
        if not (zp == 0).all():
            raise SystemExit(f"{path}: weight {w.name} has a non-zero int8 zero point; not converting")
        w.CopyFrom(nh.from_array((nh.to_array(w).astype(np.int16) + 128).astype(np.uint8), w.name))
        inits[node.input[2]].CopyFrom(nh.from_array(np.full(zp.shape, 128, np.uint8), node.input[2]))
        n += 1
    onnx.save(m, str(path))
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path, help="directory with model.onnx and config.json")
    args = ap.parse_args()
    onnx_path, cfg_path = args.model_dir / "model.onnx", args.model_dir / "config.json"
    n = convert(onnx_path)
    cfg = json.load(open(cfg_path))
    if n:
        q = cfg.get("quantization")
        if q and METHOD_NOTE not in q["method"]:
            q["method"] += METHOD_NOTE
        cfg["onnx_sha256"] = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2, ensure_ascii=False)
            f.write("\n")
    print(f"{onnx_path}: {n} weight tensors int8 -> uint8")


if __name__ == "__main__":
    main()
