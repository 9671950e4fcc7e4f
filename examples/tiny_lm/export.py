"""Export the QAT model as a hardwire model v2 (docs/model-format.md, "Graph models"): integer tensors,
tables computed once from floats here, and a manifest listing the ops in evaluation order."""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import corpus  # noqa: E402
from hwexport import write_safetensors  # noqa: E402
from qat_model import PROB_BITS, W_LEVELS  # noqa: E402

EXP_FRAC_BITS = 6       # exp2 table: 64 entries, 2^-(f/64) in units of 2^-15
ONE = 1 << 15


def multiplier_shift(m):
    """(M, S) with M / 2^S ~= m and M in [2^14, 2^15) (so |acc| * M stays far below 2^62)."""
    if m <= 0:
        raise ValueError(f"scale {m} must be positive")
    s = 14 - math.floor(math.log2(m))
    M = int(round(m * 2.0 ** s))
    if M >= 1 << 15:
        s, M = s - 1, int(round(m * 2.0 ** (s - 1)))
    if not 0 <= s <= 62:
        raise ValueError(f"scale {m} needs shift {s} outside 0..62")
    return M, s


def exp2_table():
    return np.array([round(ONE * 2.0 ** (-f / (1 << EXP_FRAC_BITS))) for f in range(1 << EXP_FRAC_BITS)])


def reciprocal_table():
    return np.array([round(2.0 ** 24 / (256 + i + 0.5)) for i in range(256)])


def rsqrt_table(d, s_out):
    """RS[j] ~= 2^F * sqrt(d) / s_out / sqrt(64 + j + 0.5), j = 0..191, with the largest F that keeps
    every entry below 2^16."""
    c = math.sqrt(d) / s_out
    f = math.floor(math.log2(65535 / (c / math.sqrt(64.5))))
    table = np.array([round(2.0 ** f * c / math.sqrt(64 + j + 0.5)) for j in range(192)])
    return table, f


def _gelu(x):
    return 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0)))


def write(model, out_dir, name):
    cfg, sc = model.cfg, model.scales
    d, hd = cfg.d, cfg.d // cfg.heads
    tensors, ops = {}, []
    sx = sc["x"]

    def q8(a, s):
        return np.clip(np.round(a / s), -128, 127).astype(np.int64)

    tensors["tok_emb"] = q8(model.tok.detach().double().numpy(), sx)
    tensors["pos_emb"] = q8(model.pos.detach().double().numpy(), sx)
    tensors["exp2"] = exp2_table()
    tensors["reciprocal"] = reciprocal_table()
    ops.append({"op": "embedding", "name": "tok_emb", "index": "token", "table": {"tensor": "tok_emb"}})
    ops.append({"op": "embedding", "name": "pos_emb", "index": "position", "table": {"tensor": "pos_emb"}})
    ops.append({"op": "add", "name": "x0", "inputs": ["tok_emb", "pos_emb"], "clamp": [-128, 127]})

    def dense(opname, wname, src, s_in, s_out, out_bits=8):
        w = model.w[wname].detach().double().numpy()
        s_w = np.maximum(np.abs(w).max(axis=1) / W_LEVELS, 1e-8)
        wi = np.clip(np.round(w / s_w[:, None]), -W_LEVELS, W_LEVELS).astype(np.int64)
        ms = [multiplier_shift(s_in * s / s_out) for s in s_w]
        tensors[f"{opname}.weight"] = wi
        tensors[f"{opname}.multiplier"] = np.array([m for m, _ in ms])
        tensors[f"{opname}.shift"] = np.array([s for _, s in ms])
        hi = (1 << (out_bits - 1)) - 1
        ops.append({"op": "dense", "name": opname, "input": src,
                    "weight": {"tensor": f"{opname}.weight", "encoding": "signed", "bits": 4},
                    "requant": {"multiplier": {"tensor": f"{opname}.multiplier"},
                                "shift": {"tensor": f"{opname}.shift"}},
                    "clamp": [-hi - 1, hi]})

    def rmsnorm(opname, src, s_out):
        table, f = rsqrt_table(d, s_out)
        tensors[f"{opname}.rsqrt"] = table
        ops.append({"op": "rmsnorm", "name": opname, "input": src, "rsqrt": {"tensor": f"{opname}.rsqrt"},
                    "frac_bits": f, "clamp": [-128, 127]})

    x = "x0"
    log2e = 1.0 / math.log(2.0)
    for b in range(cfg.blocks):
        p = f"b{b}_"
        rmsnorm(p + "norm1", x, sc[p + "norm1"])
        for n in ("q", "k", "v"):
            dense(p + n, p + n, p + "norm1", sc[p + "norm1"], sc[p + n])
        ms = multiplier_shift(sc[p + "q"] * sc[p + "k"] / math.sqrt(hd) * log2e * (1 << EXP_FRAC_BITS))
        mo = multiplier_shift(2.0 ** -PROB_BITS * sc[p + "v"] / sc[p + "att"])
        ops.append({"op": "attention", "name": p + "attn", "q": p + "q", "k": p + "k", "v": p + "v",
                    "heads": cfg.heads, "score": {"multiplier": ms[0], "shift": ms[1]},
                    "exp2": {"tensor": "exp2"}, "reciprocal": {"tensor": "reciprocal"}, "prob_bits": PROB_BITS,
                    "requant": {"multiplier": mo[0], "shift": mo[1]}, "clamp": [-128, 127]})
        dense(p + "o", p + "o", p + "attn", sc[p + "att"], sx)
        ops.append({"op": "add", "name": p + "res1", "inputs": [x, p + "o"], "clamp": [-128, 127]})
        rmsnorm(p + "norm2", p + "res1", sc[p + "norm2"])
        dense(p + "ffn1", p + "ffn1", p + "norm2", sc[p + "norm2"], sc[p + "ffn1"])
        sh, sa = sc[p + "ffn1"], sc[p + "act"]
        tensors[p + "act.table"] = np.array([min(127, max(-128, round(_gelu(i * sh) / sa)))
                                             for i in range(-128, 128)])
        ops.append({"op": "table", "name": p + "act", "input": p + "ffn1", "table": {"tensor": p + "act.table"}})
        dense(p + "ffn2", p + "ffn2", p + "act", sa, sx)
        ops.append({"op": "add", "name": p + "res2", "inputs": [p + "res1", p + "ffn2"], "clamp": [-128, 127]})
        x = p + "res2"
    rmsnorm("final_norm", x, sc["final_norm"])
    dense("logits", "logits", "final_norm", sc["final_norm"], sc["logits"], out_bits=16)
    mt = multiplier_shift(sc["logits"] * log2e * (1 << EXP_FRAC_BITS))
    ops.append({"op": "sample", "name": "next", "input": "logits", "score": {"multiplier": mt[0], "shift": mt[1]},
                "exp2": {"tensor": "exp2"}})

    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, f"{name}.safetensors"), tensors)
    manifest = {"format": "hardwire-model", "version": 2, "name": name, "tensors": f"{name}.safetensors",
                "vocab": list(corpus.VOCAB), "context": cfg.context, "ops": ops, "output": "next"}
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
