#!/usr/bin/env python3
"""Writes tests/data/tiny: the small hand-written model behind the golden Verilog test.
Run: python3 tests/data/make_tiny.py   (needs numpy)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from hwexport import Argmax, Dense, write_model  # noqa: E402

w1 = np.array([[3, -1, 0, 7], [0, 0, 0, 0], [-8, 5, 2, -3]])
w2 = np.array([[1, -2, 3], [-1, 1, 0]])
write_model(os.path.join(os.path.dirname(__file__), "tiny"), "tiny", input_length=4, input_signed=False, input_bits=4,
            layers=[Dense("fc1", w1, bits=4, bias=np.array([2, -1, 5]), multiplier=np.array([5, 1, 3]),
                          shift=np.array([2, 0, 1]), out_signed=False, out_bits=6, clamp=(0, 63)),
                    Dense("fc2", w2, bits=3, multiplier=1, shift=0, out_signed=True, out_bits=8),
                    Argmax("cls")])
