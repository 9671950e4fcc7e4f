#!/usr/bin/env python3
"""ONNX's own node tests for the standard quantized ops (Debian's libonnx-testdata) through `hardwire import`
and `hardwire ref`.

A node test is a one-node graph whose every operand is a graph input, with input_k.pb / output_0.pb pairs.
hardwire builds constant weights into hardware, so the harness keeps operand 0 (the data: x, A or a) as the
graph input and turns every other operand into an initializer holding its test value. Rows of a batched data
operand ([M, K] or [..., M, K] for the MatMuls) become separate input vectors of length K (hardwire runs one
vector at a time). The imported model is run by `hardwire ref` (`--float-inputs` for float data, `--real` for
the output in real units: the manifest's output scale) and every output element is compared with
output_0.pb exactly (integers equal; float32 values equal as float32).

A test that hardwire refuses must be listed in EXPECTED_REFUSALS with the reason (none is today); an unexpected
refusal or any differing element fails the run.

  node_tests.py --hardwire build/hardwire [--data /usr/share/libonnx-testdata/data/node] [--out DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

TESTS = [
    "test_quantizelinear",
    "test_quantizelinear_axis",
    "test_dequantizelinear",
    "test_dequantizelinear_axis",
    "test_matmulinteger",
    "test_qlinearmatmul_2D",
    "test_qlinearmatmul_3D",
]

# Refused on purpose, with the part of the error message that must appear.
EXPECTED_REFUSALS = {}


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def run_test(hw, data_dir, name, out_dir):
    model = onnx.load(os.path.join(data_dir, name, "model.onnx"))
    g = model.graph
    case = os.path.join(data_dir, name, "test_data_set_0")
    ins = [load_pb(os.path.join(case, f"input_{i}.pb")) for i in range(len(g.input))]
    expected = load_pb(os.path.join(case, "output_0.pb"))
    node = g.node[0]
    data = ins[0]
    matmul = node.op_type in ("MatMulInteger", "QLinearMatMul")
    if matmul:
        rows = data.reshape(-1, data.shape[-1])
    else:
        rows = data.reshape(1, -1)
    # Freeze operands 1.. as initializers; the data input becomes one vector [1, K].
    for i, vi in enumerate(list(g.input)[1:], start=1):
        g.initializer.append(numpy_helper.from_array(ins[i], vi.name))
    keep = g.input[0]
    del g.input[:]
    g.input.append(keep)
    dims = g.input[0].type.tensor_type.shape.dim
    if matmul:
        del dims[:]
        dims.add().dim_value = 1
        dims.add().dim_value = rows.shape[1]
    model_path = os.path.join(out_dir, name + ".onnx")
    onnx.save(model, model_path)
    imported = os.path.join(out_dir, name)
    r = subprocess.run([hw, "import", model_path, "-o", imported], capture_output=True, text=True)
    if r.returncode != 0:
        return "refused", r.stderr.strip()
    is_float_in = data.dtype.kind == "f"
    vec_path = os.path.join(out_dir, name + ".inputs.txt")
    with open(vec_path, "w") as f:
        for row in rows:
            f.write(" ".join(repr(float(np.float32(v))) if is_float_in else str(int(v)) for v in row) + "\n")
    cmd = [hw, "ref", os.path.join(imported, "model.json"), "--float-inputs" if is_float_in else "--inputs", vec_path]
    cmd.append("--real")  # real = scale * value + offset (integer outputs: the codes or the int32 accumulator)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return "failed", "hardwire ref: " + r.stderr.strip()
    got = [[float(x) for x in line.split()] for line in r.stdout.splitlines() if line.strip()]
    got = np.array(got)
    if matmul:
        # output [..., M, N]: the rows of the data operand in order, each giving N outputs
        want = expected.reshape(-1, expected.shape[-1])
    else:
        want = expected.reshape(1, -1)
    if got.shape != want.shape:
        return "failed", f"hardwire ref printed shape {got.shape}, expected {want.shape}"
    if expected.dtype.kind == "f":
        same = got.astype(np.float32) == want.astype(np.float32)
    else:
        same = got == want.astype(np.float64)
    bad = np.argwhere(~same)
    if len(bad):
        r0, c0 = bad[0]
        return "failed", f"{len(bad)} of {same.size} elements differ; first at row {r0} column {c0}: hardwire {got[r0, c0]}, ONNX {want[r0, c0]}"
    return "passed", f"{same.size} elements equal ({rows.shape[0]} vector(s))"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hardwire", required=True)
    ap.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if not os.path.isdir(a.data):
        print(f"SKIPPED: {a.data} not found (Debian package libonnx-testdata; scripts/setup.sh installs it)")
        return 77
    out = a.out or tempfile.mkdtemp(prefix="hw_node_tests_")
    os.makedirs(out, exist_ok=True)
    counts = {"passed": 0, "refused": 0, "failed": 0}
    ok = True
    for name in TESTS:
        if not os.path.isdir(os.path.join(a.data, name)):
            print(f"{name}: FAILED: not in {a.data}")
            ok = False
            continue
        status, msg = run_test(a.hardwire, a.data, name, out)
        want_refusal = EXPECTED_REFUSALS.get(name)
        if status == "refused" and want_refusal and want_refusal in msg:
            counts["refused"] += 1
            print(f"{name}: refused as expected: {msg}")
            continue
        if status == "passed" and not want_refusal:
            counts["passed"] += 1
            print(f"{name}: passed: {msg}")
            continue
        counts["failed"] += 1
        ok = False
        print(f"{name}: FAILED ({status}{', expected a refusal' if want_refusal else ''}): {msg}")
    print(f"node tests: {counts['passed']} passed, {counts['refused']} refused (expected), {counts['failed']} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
