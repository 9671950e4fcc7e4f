#!/usr/bin/env python3
"""Float-oracle check of `hardwire import` (docs/import.md).

Runs the original QONNX graph with qonnx's executor (float32; the Quant / BipolarQuant custom ops in numpy,
standard ops in onnxruntime) on N input vectors that cover the input quantizer's whole code range, and checks
against `hardwire ref` on the imported model:

  * every quantized activation of the float graph (each layer's output quantizer), as integer codes, equals the
    imported layer's integer output mapped back by the import report (code = alpha * (value - offset) + beta);
  * the final output: identical argmax, and for float logits value * scale + offset equal to the float logits
    (relative 1e-5) when the report says the map is exact.

Needs the venv of scripts/setup.sh (qonnx, onnxruntime, numpy): .venv/bin/python tests/onnx/check_import.py ...
Prints 'N passed, M failed' (one check per vector) and exits 1 on any failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def q_is_bipolar(q):
    return q["op"] == "BipolarQuant" or q.get("hardwire_value", "").startswith("y = (code + 1)")


def op_known(pre):
    return all(step.get("op") in ("add", "sub", "sub_from", "mul", "div") for step in pre)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hardwire", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--imported", required=True, help="directory written by hardwire import")
    ap.add_argument("--vectors", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save-inputs", help="also write the hardwire input vectors here (for hardwire sim --inputs)")
    ap.add_argument("--save-float-inputs", help="also write the real-valued input vectors here (for hardwire sim --float-inputs)")
    a = ap.parse_args()

    import warnings

    import onnxruntime

    warnings.filterwarnings("ignore")  # qonnx warns that the batch dimension differs from the inferred shapes
    onnxruntime.set_default_logger_severity(3)
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    rep = json.load(open(os.path.join(a.imported, "import.json")))
    from qonnx.transformation.infer_shapes import InferShapes

    model = ModelWrapper(a.onnx)
    inp = model.graph.input[0].name
    shape = rep["input"]["onnx_input"]["shape"]
    # Batch all vectors in one run: the batch dimension of the input becomes n.
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = a.vectors
    model = model.transform(InferShapes())
    rng = np.random.default_rng(a.seed)
    n = a.vectors
    qin = rep["input"]["quantizer"]
    x = np.empty([n] + shape[1:], dtype=np.float32)
    if rep["input"]["preprocessing"]:
        # Images with preprocessing (TFC: 2x - 1): per vector a random mix of dark, middle and bright pixels in
        # [-0.1, 1.1], plus all-dark and all-bright vectors, so that every input code and a wide range of
        # accumulator values occur.
        lo, hi = -0.1, 1.1
        for i in range(n):
            if i < 2:
                x[i] = lo if i == 0 else hi
                continue
            p = rng.dirichlet([1.0, 1.0, 1.0])
            choice = rng.choice(3, size=shape[1:], p=p)
            x[i] = np.where(choice == 0, rng.uniform(lo, 0.25, shape[1:]),
                            np.where(choice == 1, rng.uniform(0.25, 0.75, shape[1:]), rng.uniform(0.75, hi, shape[1:])))
    else:
        # The input quantizer's whole real range and a little beyond (clamped codes): per vector a random
        # sub-interval, plus all-minimum and all-maximum vectors.
        s, z = float(np.max(qin["scale"])), float(np.max(qin["zero_point"]))
        lo, hi = (qin["code_min"] - z - 1) * s, (qin["code_max"] - z + 1) * s
        for i in range(n):
            if i < 2:
                x[i] = lo if i == 0 else hi
                continue
            a1, a2 = np.sort(rng.uniform(lo, hi, 2))
            x[i] = rng.uniform(a1, a2, shape[1:])
    # Exact ties of the input quantizer (x / scale + zero point = k + 1/2, mapped back through the preprocessing)
    # in the last vectors: round half to even must pick the same code as the graph's quantizer.
    if not q_is_bipolar(qin) and n >= 8:
        s, z = float(np.max(qin["scale"])), float(np.max(qin["zero_point"]))
        ties = (np.arange(qin["code_min"], qin["code_max"]) + 0.5 - z) * s
        for step in reversed(rep["input"]["preprocessing"]):
            c = float(np.asarray(step["const"]).ravel()[0])
            op = step.get("op", "")
            ties = {"add": ties - c, "sub": ties + c, "sub_from": c - ties, "mul": ties / c, "div": ties * c}.get(op, ties)
        if op_known(rep["input"]["preprocessing"]):
            for k in range(4):
                x[n - 1 - k] = np.resize(np.roll(ties, k), shape[1:]).astype(np.float32)
    ctx = execute_onnx(model, {inp: x}, return_full_exec_context=True)

    def codes_of(tensor, q):
        if q["op"] in ("QuantizeLinear", "QLinearMatMul"):  # the tensor holds the integer codes themselves
            return ctx[tensor].reshape(n, -1).astype(np.int64)
        s = np.asarray(q["scale"], dtype=np.float64)
        z = np.asarray(q["zero_point"], dtype=np.float64)
        c = ctx[tensor].reshape(n, -1).astype(np.float64) / s + z
        r = np.round(c)
        assert np.all(np.abs(c - r) < 1e-3), f"{tensor}: float values are not on the quantizer grid"
        return r.astype(np.int64)

    def value_of(codes, q, offset):
        if q["op"] == "BipolarQuant" or q.get("hardwire_value", "").startswith("y = (code + 1)"):
            return (codes + 1) // 2 + offset
        return codes + offset

    xin = value_of(codes_of(rep["input"]["tensor"], qin), qin, 0)
    fd, path = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as f:
        for row in xin:
            f.write(" ".join(str(v) for v in row) + "\n")
    if a.save_inputs:
        np.savetxt(a.save_inputs, xin, fmt="%d")
    manifest = os.path.join(a.imported, "model.json")
    ok = np.ones(n, dtype=bool)
    checked = []
    # Real-unit inputs: hardwire's own input quantizer (manifest input.quantizer) on the same float vectors must
    # give the codes the graph's quantizer gave.
    fd, fpath = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as f:
        for row in x.reshape(n, -1):
            f.write(" ".join(repr(float(v)) for v in row) + "\n")
    out = subprocess.run([a.hardwire, "ref", manifest, "--float-inputs", fpath, "--quantized-inputs"], check=True,
                         capture_output=True, text=True).stdout
    if a.save_float_inputs:
        os.replace(fpath, a.save_float_inputs)
    else:
        os.unlink(fpath)
    yq = np.array([[int(v) for v in line.split()] for line in out.splitlines()], dtype=np.int64)
    bad = np.any(yq != xin, axis=1)
    checked.append(f"--float-inputs: {xin.size} input elements quantized by hardwire vs {rep['input']['tensor']}, {int(bad.sum())} vectors differ")
    ok &= ~bad
    for li, layer in enumerate(rep["layers"]):
        out = subprocess.run([a.hardwire, "ref", manifest, "--inputs", path, "--layer", str(li)], check=True,
                             capture_output=True, text=True).stdout
        y = np.array([[int(v) for v in line.split()] for line in out.splitlines()], dtype=np.int64)
        if "output_quantizer" in layer:
            q = layer["output_quantizer"]
            want = value_of(codes_of(layer["output_tensor"], q), q, layer["output"]["offset"])
            bad = np.any(y != want, axis=1)
            checked.append(f"{layer['name']}: {want.size} activations vs {layer['output_tensor']}, {int(bad.sum())} vectors differ")
            ok &= ~bad
        else:  # float logits
            o = rep["output"]
            logits = ctx[o.get("tensor", model.graph.output[0].name)].reshape(n, -1).astype(np.float64)
            real = y * o["scale"] + o["offset"]
            if o["exact_affine"]:
                bad = ~np.all(np.abs(real - logits) <= 1e-5 * np.maximum(1.0, np.abs(logits)), axis=1)
                checked.append(f"{layer['name']}: logits = value * {o['scale']:.6g} + {o['offset']:.6g}, {int(bad.sum())} vectors differ")
                ok &= ~bad
            am_f = np.argmax(logits, axis=1)
            am_h = np.argmax(y, axis=1)
            bad = am_f != am_h
            checked.append(f"argmax: {int(bad.sum())} vectors differ")
            ok &= ~bad
    os.unlink(path)
    for c in checked:
        print(c)
    print(f"{int(ok.sum())} passed, {int((~ok).sum())} failed")
    return 0 if ok.all() else 1


if __name__ == "__main__":
    sys.exit(main())
