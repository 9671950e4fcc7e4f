"""The tiny decoder-only transformer and its quantization-aware (fake-quant) forward pass (PyTorch, CPU).

Float mode is the full-precision baseline. QAT mode puts a quantizer at every point where the integer model
(docs/semantics.md, "Language-model ops") rounds: 4-bit per-row weights, int8 embeddings / residual stream /
norm outputs / q, k, v / attention outputs / FFN activations, 12-bit attention probabilities and int16 logits.
Everything between quantizers is float, so the remaining gap to the integer model is only the tables
(rsqrt, exp2, reciprocal) and the M/2^S approximation of each scale.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

W_LEVELS = 7           # weights in [-7, 7] (4-bit signed, symmetric)
PROB_BITS = 12         # attention probabilities in units of 2^-12


class Config:
    def __init__(self, vocab=96, d=64, heads=2, context=64, ffn=256, blocks=2):
        self.vocab, self.d, self.heads, self.context, self.ffn, self.blocks = vocab, d, heads, context, ffn, blocks

    def as_dict(self):
        return dict(vocab=self.vocab, d=self.d, heads=self.heads, context=self.context, ffn=self.ffn,
                    blocks=self.blocks)


def _ste_round(x):
    return x + (torch.round(x) - x).detach()


def fake_quant(x, scale, lo, hi):
    """x -> scale * clamp(round(x / scale), lo, hi), gradient straight through."""
    return torch.clamp(_ste_round(x / scale), lo, hi) * scale


def weight_scale(w):
    return (w.detach().abs().amax(dim=1, keepdim=True) / W_LEVELS).clamp_min(1e-8)


def quant_weight(w):
    s = weight_scale(w)
    return torch.clamp(_ste_round(w / s), -W_LEVELS, W_LEVELS) * s


def rms_normalize(x):
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + 1e-12)


class TinyLM(nn.Module):
    # Names of the activation quantizers (each gets one scale from calibration).
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d, f = cfg.d, cfg.ffn
        self.tok = nn.Parameter(torch.randn(cfg.vocab, d) * 0.5)
        self.pos = nn.Parameter(torch.randn(cfg.context, d) * 0.1)
        self.w = nn.ParameterDict()
        for b in range(cfg.blocks):
            for n, shape in (("q", (d, d)), ("k", (d, d)), ("v", (d, d)), ("o", (d, d)), ("ffn1", (f, d)),
                             ("ffn2", (d, f))):
                self.w[f"b{b}_{n}"] = nn.Parameter(torch.randn(*shape) / math.sqrt(shape[1]))
        self.w["logits"] = nn.Parameter(torch.randn(cfg.vocab, d) / math.sqrt(d))
        self.scales = None      # dict name -> float; None = float mode
        self.record = None      # dict name -> list of |activation| samples during calibration
        mask = torch.tril(torch.ones(cfg.context, cfg.context, dtype=torch.bool))
        self.register_buffer("mask", mask, persistent=False)

    def quantizer_names(self):
        names = ["x"]
        for b in range(self.cfg.blocks):
            names += [f"b{b}_norm1", f"b{b}_q", f"b{b}_k", f"b{b}_v", f"b{b}_att", f"b{b}_norm2", f"b{b}_ffn1",
                      f"b{b}_act"]
        return names + ["final_norm", "logits"]

    def _q(self, name, x, bits=8):
        if self.record is not None:
            self.record.setdefault(name, []).append(x.detach().abs().flatten())
        if self.scales is None:
            return x
        hi = (1 << (bits - 1)) - 1
        return fake_quant(x, self.scales[name], -hi - 1, hi)

    def _wt(self, name):
        w = self.w[name]
        return quant_weight(w) if self.scales is not None else w

    def _residual_add(self, x, y):
        x = x + y
        if self.scales is not None:  # both on the grid of scale s_x: saturate like the integer add
            s = self.scales["x"]
            x = torch.clamp(x, -128 * s, 127 * s)
        return self._q("x", x)

    def forward(self, idx):
        cfg = self.cfg
        t = idx.shape[1]
        if self.scales is not None:
            s = self.scales["x"]
            x = fake_quant(self.tok, s, -128, 127)[idx] + fake_quant(self.pos[:t], s, -128, 127)
            x = torch.clamp(x, -128 * s, 127 * s)
        else:
            x = self.tok[idx] + self.pos[:t]
        self._q("x", x)
        hd = cfg.d // cfg.heads
        for b in range(cfg.blocks):
            n = self._q(f"b{b}_norm1", rms_normalize(x))
            q = self._q(f"b{b}_q", n @ self._wt(f"b{b}_q").t())
            k = self._q(f"b{b}_k", n @ self._wt(f"b{b}_k").t())
            v = self._q(f"b{b}_v", n @ self._wt(f"b{b}_v").t())
            B = x.shape[0]
            qh = q.view(B, t, cfg.heads, hd).transpose(1, 2)
            kh = k.view(B, t, cfg.heads, hd).transpose(1, 2)
            vh = v.view(B, t, cfg.heads, hd).transpose(1, 2)
            att = (qh @ kh.transpose(-1, -2)) / math.sqrt(hd)
            att = att.masked_fill(~self.mask[:t, :t], float("-inf"))
            p = torch.softmax(att, dim=-1)
            if self.scales is not None:
                p = fake_quant(p, 2.0 ** -PROB_BITS, 0, 1 << PROB_BITS)
            o = (p @ vh).transpose(1, 2).reshape(B, t, cfg.d)
            o = self._q(f"b{b}_att", o)
            proj = o @ self._wt(f"b{b}_o").t()
            if self.scales is not None:
                proj = fake_quant(proj, self.scales["x"], -128, 127)
            x = self._residual_add(x, proj)
            n2 = self._q(f"b{b}_norm2", rms_normalize(x))
            h = self._q(f"b{b}_ffn1", n2 @ self._wt(f"b{b}_ffn1").t())
            a = self._q(f"b{b}_act", F.gelu(h))
            f = a @ self._wt(f"b{b}_ffn2").t()
            if self.scales is not None:
                f = fake_quant(f, self.scales["x"], -128, 127)
            x = self._residual_add(x, f)
        n = self._q("final_norm", rms_normalize(x))
        logits = n @ self._wt("logits").t()
        return self._q("logits", logits, bits=16)
