#!/usr/bin/env python3
"""Train the tiny language model (float, then quantization-aware), export it as a hardwire model v2, and
measure held-out cross-entropy of: the float model, the QAT model in floating point, the integer model
(numpy, lm_int.py) and an order-3 character n-gram with add-one smoothing.

    /usr/bin/python3 examples/tiny_lm/train.py --out weights/tiny_lm            # the shipped model (~20 min)
    /usr/bin/python3 examples/tiny_lm/train.py --out /tmp/x --fp-steps 3 --qat-steps 3 --smoke

Deterministic for a given seed and thread count (torch CPU kernels; 2 threads by default).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
import export  # noqa: E402
import lm_int  # noqa: E402
from qat_model import Config, TinyLM  # noqa: E402


def windows(ids, t):
    """Non-overlapping windows of t+1 tokens: inputs [:, :t], targets [:, 1:]."""
    n = len(ids) // (t + 1)
    return np.asarray(ids[: n * (t + 1)], dtype=np.int64).reshape(n, t + 1)


@torch.no_grad()
def eval_ce(model, win, batch=256):
    total, count = 0.0, 0
    for i in range(0, len(win), batch):
        w = torch.from_numpy(win[i:i + batch])
        logits = model(w[:, :-1])
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1), reduction="sum").item()
        count += w[:, 1:].numel()
    return total / count


def ngram_ce(train_ids, win, vocab, order=3):
    """Order-3 (two characters of context) with add-one smoothing, scored on the windows' targets with the
    two characters before each target as context (inside or before the window)."""
    tr = np.asarray(train_ids, dtype=np.int64)
    ctx = tr[:-2] * vocab + tr[1:-1]
    tri = np.bincount(ctx * vocab + tr[2:], minlength=vocab ** 3).astype(np.float64)
    bi = np.bincount(ctx, minlength=vocab ** 2).astype(np.float64)
    flat = win.reshape(-1)
    t = win.shape[1]
    total, count = 0.0, 0
    for r in range(win.shape[0]):
        for j in range(1, t):
            pos = r * t + j
            if pos < 2:
                continue
            a, b, c = flat[pos - 2], flat[pos - 1], flat[pos]
            total -= math.log((tri[(a * vocab + b) * vocab + c] + 1) / (bi[a * vocab + b] + vocab))
            count += 1
    return total / count


def train(model, data, steps, lr, batch, t, rng, log_every, label):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(i, steps) / max(steps, 1))))
    t0 = time.time()
    for step in range(steps):
        starts = rng.randint(0, len(data) - t - 1, size=batch)
        w = torch.from_numpy(np.stack([data[s:s + t + 1] for s in starts]))
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"{label} step {step}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f} s)", flush=True)
    return time.time() - t0


@torch.no_grad()
def calibrate(model, data, t, rng, batches=16, batch=64, percentile=0.9999):
    model.record = {}
    for _ in range(batches):
        starts = rng.randint(0, len(data) - t - 1, size=batch)
        model(torch.from_numpy(np.stack([data[s:s + t] for s in starts])))
    rec, model.record = model.record, None
    scales = {}
    for name in model.quantizer_names():
        v = torch.cat(rec[name])
        if v.numel() > 4_000_000:
            v = v[torch.from_numpy(rng.choice(v.numel(), 4_000_000, replace=False))]
        hi = 32767 if name == "logits" else 127
        a = v.max().item() if name == "logits" else torch.quantile(v, percentile).item()
        scales[name] = max(a, 1e-6) / hi
    return scales


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output model directory (model.json, tensors, training.json)")
    ap.add_argument("--fp-steps", type=int, default=6000)
    ap.add_argument("--qat-steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="few steps, evaluate on 20 windows only (tests)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.RandomState(args.seed)
    cfg = Config(vocab=len(corpus.VOCAB))
    train_text, held_text = corpus.split()
    train_ids = np.asarray(corpus.encode(train_text), dtype=np.int64)
    held = windows(corpus.encode(held_text), cfg.context)
    if args.smoke:
        held = held[:20]
    print(f"text: {len(train_ids)} training characters, {held.size - len(held)} held-out targets "
          f"({len(held)} windows of {cfg.context})", flush=True)

    model = TinyLM(cfg)
    log_every = 0 if args.smoke else 250
    t_fp = train(model, train_ids, args.fp_steps, args.lr, args.batch, cfg.context, rng, log_every, "float")
    ce_fp = eval_ce(model, held)
    print(f"float model: held-out {ce_fp:.4f} nats/char", flush=True)

    model.scales = calibrate(model, train_ids, cfg.context, rng, batches=2 if args.smoke else 16)
    ce_cal = eval_ce(model, held)
    print(f"quantized before QAT: {ce_cal:.4f} nats/char", flush=True)
    t_qat = train(model, train_ids, args.qat_steps, args.lr / 3, args.batch, cfg.context, rng, log_every, "qat")
    ce_qat = eval_ce(model, held)
    print(f"QAT model (float evaluation): {ce_qat:.4f} nats/char", flush=True)

    export.write(model, args.out, name="tiny_lm")
    lm = lm_int.load(os.path.join(args.out, "model.json"))
    ce_int = lm_int.cross_entropy(lm, held)
    print(f"integer model (numpy, lm_int.py): {ce_int:.4f} nats/char", flush=True)
    ce_ngram = ngram_ce(train_ids, held, cfg.vocab)
    print(f"order-3 n-gram, add-one: {ce_ngram:.4f} nats/char", flush=True)

    record = {
        "config": cfg.as_dict(), "seed": args.seed, "threads": args.threads, "fp_steps": args.fp_steps,
        "qat_steps": args.qat_steps, "batch": args.batch, "lr": args.lr,
        "train_characters": int(len(train_ids)), "heldout_targets": int(held.size - len(held)),
        "heldout_windows": int(len(held)),
        "seconds": {"float": round(t_fp, 1), "qat": round(t_qat, 1)},
        "heldout_nats_per_char": {"float": round(ce_fp, 4), "quantized_before_qat": round(ce_cal, 4),
                                  "qat_float": round(ce_qat, 4), "integer": round(ce_int, 4),
                                  "ngram3_add_one": round(ce_ngram, 4)},
        "activation_scales": {k: float(v) for k, v in model.scales.items()},
        "torch": torch.__version__,
    }
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(record, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
