"""A smaller sentence embedder for `convqa topics`, distilled from the 12-layer one (issue 29: topics
must cost at most half of `score`, and the 12-layer e5 at 256 tokens costs 2.4-2.8x).

Called by embedder.py with `--distil-layers N --distil-minutes M`: the student keeps the teacher's
pruned token table and positions and N of its 12 layers (DistilBERT-style layer dropping, spread
over the depth: for 4, layers 0, 4, 7, 11), and learns to reproduce the teacher's unit vectors
(cosine loss) on conversation texts of our domain, built as `convqa topics` builds them (the
customer's side, and all turns) from STC-3 (Chinese, and its English translations) and IBM Twitter
customer care, plus single turns of the training examples for breadth. The held-out hash bucket,
the reviewer sets and the contact-reason set (calibration/topics, on which NMI is measured) are
never trained on.

Teacher vectors are computed once and cached beside the checkpoints: by the fp32 torch teacher, or,
with `--distil-teacher-onnx models/embed/model.onnx`, by the shipped int8 model (about 3x faster on
two threads, and the vectors the student replaces); the ONNX model must use the same pruned
vocabulary, which is checked (cosine to the fp32 teacher on the held-out texts); training runs for
a wall-clock budget with a cosine learning-rate decay over that budget, a checkpoint every 5
minutes (RESUME continues), and a held-out cosine report at the end. Two threads.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import e5 as E5
import embedder as EM
import train as T


def student_from(teacher: EM.Embedder, keep, layers: int) -> tuple[EM.Embedder, list[int]]:
    picked = E5.spread_layers(12, layers)
    m = E5.E5Model(len(keep), layers=layers, drop=0.0, keep=None)
    m.drop_positions_beyond(EM.MAX_LEN)
    sd = {k: v.clone() for k, v in teacher.bert.state_dict().items()}
    missing, unexpected = m.bert.load_state_dict(E5.keep_layers(sd, picked, "encoder.layer."), strict=False)
    missing = [x for x in missing if "position_ids" not in x]
    assert not missing and not unexpected, (missing, unexpected)
    return EM.Embedder(m.bert), picked


def training_texts(rng, exclude: set[str], max_texts: int) -> tuple[list[str], list[str]]:
    """(train, check) texts: conversation texts (customer side; all turns) of non-held-out STC-3
    (zh, en) and IBM conversations outside the reviewer and contact-reason sets, and turns of the
    training examples; `check` is 500 conversations of the held-out bucket, never trained on."""
    skip = EM.reviewer_ids() | {c["id"] for c in EM.topic_conversations()}
    convs = EM.stc3("cn") + EM.stc3("en") + EM.ibm()
    train, check = [], []
    for c in convs:
        if c["id"] in skip:
            continue
        cust = EM.customer_text(c)
        whole = " ".join(t for _, t in c["turns"])
        if EM.is_heldout(c["id"]):
            if cust:
                check.append(cust)
            continue
        train += [t for t in (cust, whole) if t]
    exs = [e.text for e in T.examples() if e.split == "train" and e.source not in EM.LICENCE_EXCLUDED]
    extra = [exs[i] for i in rng.choice(len(exs), size=min(len(exs), max(0, max_texts - len(train))), replace=False)]
    train = [t for t in train + extra if t not in exclude]
    if len(train) > max_texts:
        train = [train[i] for i in sorted(rng.choice(len(train), size=max_texts, replace=False))]
    check = [check[i] for i in sorted(rng.choice(len(check), size=min(500, len(check)), replace=False))]
    return train, check


def batches(ids, order, bs):
    """Batches of texts of similar length (sorted within shuffled chunks), little padding."""
    for k in range(0, len(order), bs * 50):
        chunk = sorted(order[k:k + bs * 50], key=lambda i: len(ids[i]))
        groups = [chunk[j:j + bs] for j in range(0, len(chunk), bs)]
        yield from groups


def distil(teacher: EM.Embedder, keep, tok, prefix: str, layers: int, minutes: float, run: Path,
           max_texts: int = 20000, bs: int = 32, lr: float = 1e-4, threads: int = 2,
           resume: bool = False, exclude: set[str] = frozenset(),
           teacher_onnx: Path | None = None) -> tuple[EM.Embedder, dict]:
    """The trained student (eval mode) and what to record of its training."""
    torch.set_num_threads(threads)
    rng = np.random.default_rng(EM.SEED)
    run.mkdir(parents=True, exist_ok=True)
    train, check = training_texts(rng, set(exclude), max_texts)
    ids = EM.encode(tok, train, prefix)
    cids = EM.encode(tok, check, prefix)
    teacher.eval()
    if teacher_onnx:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(teacher_onnx), so, providers=["CPUExecutionProvider"])
        # Same vocabulary, or the ids mean other pieces: the int8 vectors must match fp32's.
        probe = EM.cos_rows(EM.ort_embed(sess, cids[:64], bs=32), EM.torch_embed(teacher, cids[:64], bs=32))
        assert probe.min() > 0.95, f"{teacher_onnx} does not match the fp32 teacher (min cosine {probe.min():.3f})"
        print(f"distil: teacher {teacher_onnx}, cosine to fp32 on 64 held-out texts mean {probe.mean():.4f}",
              flush=True)
        embed_teacher = lambda x: EM.ort_embed(sess, x, bs=32)
        cache = run / f"teacher-onnx-{len(ids)}.npy"
    else:
        embed_teacher = lambda x: EM.torch_embed(teacher, x, bs=32)
        cache = run / f"teacher-{len(ids)}.npy"
    t0 = time.time()
    if cache.exists():
        tv = np.load(cache)
    else:
        tv = embed_teacher(ids)
        np.save(cache, tv)
    print(f"distil: {len(ids)} texts, teacher vectors in {time.time() - t0:.0f} s", flush=True)
    tcheck = embed_teacher(cids)
    student, picked = student_from(teacher, keep, layers)
    student.train()
    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.01)
    state = {"step": 0, "elapsed": 0.0, "epoch": 0}
    ck = run / "ckpt.pt"
    if resume and ck.exists():
        saved = torch.load(ck)
        student.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
    budget = minutes * 60
    start = time.time() - state["elapsed"]
    last_ck = time.time()
    tvt = torch.from_numpy(tv)
    done = False
    while not done:
        state["epoch"] += 1
        order = list(rng.permutation(len(ids)))
        for b in batches(ids, order, bs):
            progress = min(1.0, (time.time() - start) / budget)
            cur = lr * min(1.0, (state["step"] + 1) / 100) * max(0.05, 0.5 * (1 + math.cos(math.pi * progress)))
            for g in opt.param_groups:
                g["lr"] = cur
            x, m = EM.pad([ids[i] for i in b])
            v = student(torch.from_numpy(x), torch.from_numpy(m))
            loss = (1 - (v * tvt[b]).sum(1)).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            if state["step"] % 100 == 0:
                print(f"step {state['step']} epoch {state['epoch']} loss {loss.item():.4f} lr {cur:.2e} "
                      f"elapsed {(time.time() - start) / 60:.1f}m", flush=True)
            now = time.time()
            out_of_time = now - start > budget
            if now - last_ck > 300 or out_of_time:
                state["elapsed"] = now - start
                torch.save({"model": student.state_dict(), "opt": opt.state_dict(), "state": state}, ck)
                last_ck = time.time()
            if out_of_time:
                done = True
                break
    student.eval()
    got = EM.torch_embed(student, cids, bs=32)
    c = EM.cos_rows(got, tcheck)
    record = {"teacher_layers": picked, "layers": layers, "texts": len(ids), "steps": state["step"],
              "teacher_vectors": f"int8 ONNX ({teacher_onnx})" if teacher_onnx else "fp32 torch",
              "epochs": state["epoch"], "minutes": round((time.time() - start) / 60, 1), "lr": lr, "batch": bs,
              "threads": threads, "loss": "1 - cosine to the 12-layer teacher's unit vector",
              "heldout_cosine_to_teacher": {"texts": len(cids), "mean": round(float(c.mean()), 4),
                                            "p5": round(float(np.percentile(c, 5)), 4)}}
    print("distil:", json.dumps(record), flush=True)
    return student, record
