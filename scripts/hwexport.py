#!/usr/bin/env python3
"""Write a hardwire model (docs/model-format.md) from numpy arrays. Needs only numpy.

Example:
    import numpy as np
    from hwexport import Dense, Argmax, write_model
    w = np.array([[3, -1], [0, 2]], dtype=np.int64)
    write_model("out/tiny", "tiny", input_length=2, input_signed=False, input_bits=8, layers=[
        Dense("fc1", w, bits=4, encoding="signed", bias=np.array([1, -2]),
              multiplier=np.array([5, 3]), shift=np.array([2, 1]),
              out_signed=False, out_bits=8, clamp=(0, 255)),
        Argmax("cls"),
    ])

Writes DIR/model.json and DIR/<name>.safetensors. Integer tensors are stored in the smallest of I8/I16/I32
that holds them. The manifest is validated by `hardwire` when it is loaded, not here.
"""
import json
import os
import struct

import numpy as np


class Dense:
    def __init__(self, name, weight, bits, encoding="signed", bias=None, multiplier=1, shift=0,
                 out_signed=True, out_bits=8, clamp=None):
        self.name = name
        self.weight = np.asarray(weight, dtype=np.int64)
        if self.weight.ndim != 2:
            raise ValueError(f"layer {name}: weight must be 2-D [out, in]")
        self.bits = int(bits)
        self.encoding = encoding
        self.bias = None if bias is None else np.asarray(bias, dtype=np.int64).reshape(-1)
        out = self.weight.shape[0]
        self.multiplier = np.broadcast_to(np.asarray(multiplier, dtype=np.int64), (out,)).copy()
        self.shift = np.broadcast_to(np.asarray(shift, dtype=np.int64), (out,)).copy()
        self.out_signed = bool(out_signed)
        self.out_bits = int(out_bits)
        if clamp is None:
            lo = -(1 << (out_bits - 1)) if out_signed else 0
            hi = (1 << (out_bits - 1)) - 1 if out_signed else (1 << out_bits) - 1
            clamp = (lo, hi)
        self.clamp = (int(clamp[0]), int(clamp[1]))


class Argmax:
    def __init__(self, name):
        self.name = name


def _dtype(a):
    lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
    for tag, np_t, a_lo, a_hi in (("I8", "<i1", -128, 127), ("I16", "<i2", -32768, 32767),
                                  ("I32", "<i4", -(1 << 31), (1 << 31) - 1)):
        if a_lo <= lo and hi <= a_hi:
            return tag, np_t
    raise ValueError("values do not fit in I32")


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name], dtype=np.int64)
        tag, np_t = _dtype(a)
        data = a.astype(np_t).tobytes()
        header[name] = {"dtype": tag, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_model(directory, name, input_length, input_signed, input_bits, layers):
    os.makedirs(directory, exist_ok=True)
    tensors, manifest_layers = {}, []
    for layer in layers:
        if isinstance(layer, Argmax):
            manifest_layers.append({"kind": "argmax", "name": layer.name})
            continue
        n = layer.name
        tensors[f"{n}.weight"] = layer.weight
        entry = {"kind": "dense", "name": n,
                 "weight": {"tensor": f"{n}.weight", "encoding": layer.encoding, "bits": layer.bits}}
        if layer.bias is not None:
            tensors[f"{n}.bias"] = layer.bias
            entry["bias"] = {"tensor": f"{n}.bias"}
        tensors[f"{n}.multiplier"] = layer.multiplier
        tensors[f"{n}.shift"] = layer.shift
        entry["requant"] = {"multiplier": {"tensor": f"{n}.multiplier"}, "shift": {"tensor": f"{n}.shift"}}
        entry["output"] = {"signed": layer.out_signed, "bits": layer.out_bits, "clamp": list(layer.clamp)}
        manifest_layers.append(entry)
    tensors_file = f"{name}.safetensors"
    write_safetensors(os.path.join(directory, tensors_file), tensors)
    manifest = {"format": "hardwire-model", "version": 1, "name": name, "tensors": tensors_file,
                "input": {"length": int(input_length), "signed": bool(input_signed), "bits": int(input_bits)},
                "layers": manifest_layers}
    with open(os.path.join(directory, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
