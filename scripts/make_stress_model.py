#!/usr/bin/env python3
"""A large synthetic model for build-time stress tests (docs/performance.md):
    python3 scripts/make_stress_model.py OUT_DIR N_IN HIDDEN      e.g.  /tmp/big784 784 64
Gaussian int8 weights (sigma 30), 8-bit unsigned inputs, dense N_IN -> HIDDEN (relu) -> 10 -> argmax."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hwexport import Argmax, Dense, write_model  # noqa: E402

rng = np.random.default_rng(1)
n_in, hid = int(sys.argv[2]), int(sys.argv[3])
w1 = np.clip(np.round(rng.normal(0, 30, (hid, n_in))), -128, 127).astype(int)
w2 = np.clip(np.round(rng.normal(0, 30, (10, hid))), -128, 127).astype(int)
write_model(sys.argv[1], "big", n_in, False, 8, [
    Dense("fc1", w1, bits=8, bias=rng.integers(-1000, 1000, hid), multiplier=rng.integers(1000, 30000, hid),
          shift=np.full(hid, 30), out_signed=False, out_bits=8, clamp=(0, 255)),
    Dense("fc2", w2, bits=8, multiplier=1, shift=0, out_signed=True, out_bits=24),
    Argmax("cls")])
