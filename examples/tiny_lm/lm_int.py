#!/usr/bin/env python3
"""Integer forward pass of a hardwire graph model (docs/semantics.md, "Language-model ops"), numpy only.

This is the second, independent implementation of the integer semantics: it evaluates every position of a
sequence at once (causal attention as a masked matrix), where the C++ reference steps token by token with a
per-stream KV cache. tests/lm/ checks that both give identical logits and tokens.

    python3 lm_int.py MODEL.json --prompt "Hello" --tokens 40 --seed 1 [--stream 0]
"""
import argparse
import json
import math
import os
import struct

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    types = {"I8": "<i1", "U8": "<u1", "I16": "<i2", "U16": "<u2", "I32": "<i4"}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=types[e["dtype"]]).astype(np.int64).reshape(e["shape"])
    return out


def load(manifest_path):
    with open(manifest_path) as f:
        m = json.load(f)
    if m.get("version") != 2:
        raise ValueError(f"{manifest_path}: not a graph model (version 2)")
    m["tensors_data"] = read_safetensors(os.path.join(os.path.dirname(manifest_path), m["tensors"]))
    return m


def _t(lm, ref):
    return lm["tensors_data"][ref["tensor"]] if isinstance(ref, dict) else np.int64(ref)


def requant(acc, mult, shift):
    mult, shift = np.asarray(mult, np.int64), np.asarray(shift, np.int64)
    rounding = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)
    return (acc * mult + rounding) >> shift


def bit_length(v):
    return np.frexp(v.astype(np.float64))[1].astype(np.int64)   # exact below 2^53; 0 for 0


def exp2_weights(u, table):
    g = int(round(math.log2(len(table))))
    return table[u & ((1 << g) - 1)] >> np.minimum(u >> g, 31)


def rmsnorm(x, table, frac_bits, lo, hi):
    ss = (x * x).sum(axis=-1)
    b = bit_length(ss)
    e = b - 8
    e = e + (e & 1)
    m = np.where(e >= 0, ss >> np.maximum(e, 0), ss << np.maximum(-e, 0))
    m = np.where(ss == 0, 64, m)
    shift = frac_bits + e // 2
    y = (x * table[m - 64][..., None] + (np.int64(1) << (shift - 1))[..., None]) >> shift[..., None]
    return np.clip(y, lo, hi)


def attention(lm, op, q, k, v):
    bsz, t, d = q.shape
    h = op["heads"]
    hd = d // h
    qh, kh, vh = (a.reshape(bsz, t, h, hd).transpose(0, 2, 1, 3) for a in (q, k, v))
    s = qh @ kh.transpose(0, 1, 3, 2)                       # [B, H, t, t], exact
    causal = np.tril(np.ones((t, t), dtype=bool))
    mx = np.where(causal, s, np.iinfo(np.int64).min).max(axis=-1, keepdims=True)
    u = requant(np.where(causal, mx - s, 0), op["score"]["multiplier"], op["score"]["shift"])
    e = np.where(causal, exp2_weights(u, _t(lm, op["exp2"])), 0)
    total = e.sum(axis=-1, keepdims=True)
    b = bit_length(total)
    m = np.where(b >= 9, total >> np.maximum(b - 9, 0), total << np.maximum(9 - b, 0))
    rc = _t(lm, op["reciprocal"])[m - 256]
    sh = b + 15 - op["prob_bits"]
    p = (e * rc + (np.int64(1) << (sh - 1))) >> sh
    o = (p @ vh).transpose(0, 2, 1, 3).reshape(bsz, t, d)
    lo, hi = op["clamp"]
    return np.clip(requant(o, _t(lm, op["requant"]["multiplier"]), _t(lm, op["requant"]["shift"])), lo, hi)


def forward(lm, tokens):
    """All values of the graph for token ids [B, t] at positions 0..t-1: dict name -> int64 [B, t, n]."""
    tokens = np.asarray(tokens, dtype=np.int64)
    bsz, t = tokens.shape
    vals = {"token": tokens, "position": np.broadcast_to(np.arange(t), (bsz, t))}
    lo_of = {}
    for op in lm["ops"]:
        kind, name = op["op"], op["name"]
        if kind == "embedding":
            y = _t(lm, op["table"])[vals[op["index"]]]
        elif kind == "add":
            a, b = (vals[n] for n in op["inputs"])
            y = np.clip(a + b, *op["clamp"])
        elif kind == "rmsnorm":
            y = rmsnorm(vals[op["input"]], _t(lm, op["rsqrt"]), op["frac_bits"], *op["clamp"])
        elif kind == "dense":
            acc = vals[op["input"]] @ _t(lm, op["weight"]).T
            y = np.clip(requant(acc, _t(lm, op["requant"]["multiplier"]), _t(lm, op["requant"]["shift"])),
                        *op["clamp"])
        elif kind == "attention":
            y = attention(lm, op, vals[op["q"]], vals[op["k"]], vals[op["v"]])
        elif kind == "table":
            y = _t(lm, op["table"])[vals[op["input"]] - lo_of[op["input"]]]
        elif kind == "sample":
            continue  # the token choice is made by generate()
        else:
            raise ValueError(f"op '{name}': unknown kind '{kind}'")
        vals[name] = y
        if "clamp" in op:
            lo_of[name] = op["clamp"][0]
    return vals


def _sample_op(lm):
    return next(op for op in lm["ops"] if op["op"] == "sample")


def logits_of(lm, tokens):
    return forward(lm, tokens)[_sample_op(lm)["input"]]


def cross_entropy(lm, windows, batch=128):
    """Mean -ln p(target) over windows [N, t+1], p = softmax of the logits times the sample op's scale
    (M / 2^S / 2^G per logit unit in base 2), computed in float64 for measurement only."""
    op = _sample_op(lm)
    g = int(round(math.log2(len(_t(lm, op["exp2"])))))
    scale = op["score"]["multiplier"] / 2.0 ** op["score"]["shift"] / (1 << g) * math.log(2.0)
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        w = np.asarray(windows[i:i + batch], dtype=np.int64)
        z = logits_of(lm, w[:, :-1]).astype(np.float64) * scale
        z -= z.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        total -= np.take_along_axis(logp, w[:, 1:, None], axis=-1).sum()
        count += w[:, 1:].size
    return total / count


def xorshift32(x):
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


def seed_state(seed, stream):
    s = (seed ^ (((stream + 1) * 0x9E3779B9) & 0xFFFFFFFF)) & 0xFFFFFFFF
    return s if s != 0 else 0x6D2B79F5


def choose(lm, logits, state):
    """(token, new_state): greedy when state is None (argmax, lowest index on ties), else sampled."""
    logits = [int(v) for v in logits]
    if state is None:
        return logits.index(max(logits)), None
    op = _sample_op(lm)
    mx = max(logits)
    u = requant(np.array([mx - v for v in logits], dtype=np.int64), op["score"]["multiplier"], op["score"]["shift"])
    e = [int(v) for v in exp2_weights(u, _t(lm, op["exp2"]))]
    state = xorshift32(state)
    threshold = (state * sum(e)) >> 32
    acc = 0
    for j, ej in enumerate(e):
        acc += ej
        if acc > threshold:
            return j, state
    raise AssertionError("unreachable: threshold < sum")


def generate(lm, prompt_ids, n_tokens, seed=None, stream=0):
    """Prompt tokens, then up to n_tokens chosen tokens (fewer if the context fills)."""
    ids = list(prompt_ids)
    state = None if seed is None else seed_state(seed, stream)
    if state is not None:  # the generator advances once per step, prefill included (docs/semantics.md)
        for _ in range(len(ids) - 1):
            state = xorshift32(state)
    out = []
    while len(out) < n_tokens and len(ids) <= lm["context"]:
        logits = logits_of(lm, np.array([ids]))[0, -1]
        tok, state = choose(lm, logits, state)
        out.append(tok)
        if len(ids) == lm["context"]:
            break
        ids.append(tok)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--seed", type=int, help="sample with this seed (default: greedy)")
    ap.add_argument("--stream", type=int, default=0)
    args = ap.parse_args()
    lm = load(args.model)
    index = {ch: i for i, ch in enumerate(lm["vocab"])}
    ids = [index[c] for c in args.prompt]
    out = generate(lm, ids, args.tokens, args.seed, args.stream)
    print(args.prompt + "".join(lm["vocab"][i] for i in out))


if __name__ == "__main__":
    main()
