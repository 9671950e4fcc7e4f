#!/usr/bin/env python3
"""A jet-tagging-shaped int8 MLP (16-64-32-32-5, like hls4ml's jet tagger) with per-channel 31-bit requant
multipliers, as a post-training-quantized PyTorch model would give: the flip-flop benchmark of issue 13
(bench/retime_bench.sh). Random weights with a fixed seed; the figures depend on the shapes and widths only.

    python3 bench/models/make_jet_mlp.py OUT_DIR
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from hwexport import Argmax, Dense, write_model  # noqa: E402

rng = np.random.default_rng(2026)
sizes = [16, 64, 32, 32, 5]
layers = []
for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
    w = rng.integers(-128, 128, size=(n_out, n_in))
    # y = (acc * M) >> S with M a 31-bit multiplier: the real scale acc * 2^-(S-31) * (M / 2^31)
    m = rng.integers(1 << 30, 1 << 31, size=n_out)
    s = np.full(n_out, 31 + 9)
    bias = rng.integers(-2000, 2000, size=n_out)
    last = i == len(sizes) - 2
    layers.append(Dense(f"fc{i + 1}", w, bits=8, encoding="signed", bias=bias, multiplier=m, shift=s,
                        out_signed=True, out_bits=8, clamp=(-128, 127) if last else (0, 127)))
layers.append(Argmax("cls"))
write_model(sys.argv[1], "jet_mlp", input_length=16, input_signed=True, input_bits=8, layers=layers)
