#!/usr/bin/env python3
"""Writes QKeras/hls4ml-style QONNX MLPs with random weights for testing `hardwire import` (docs/import.md).

Op set: Quant (qonnx domain) on the input, on every weight and bias and after every Relu; MatMul; Add for the
bias; Relu; a final Softmax. Power-of-two scales (as QKeras' quantized_bits / quantized_relu with alpha=1),
calibrated on random inputs so that activations use their range.

  .venv/bin/python examples/qonnx/make_qonnx_mlp.py --sizes 16,64,32,32,5 --wbits 6 --abits 6 --out jet.onnx
  .venv/bin/python examples/qonnx/make_qonnx_mlp.py --sizes 490,256,256,256,12 --wbits 3 --abits 3 --out big.onnx

--ops qdq writes the same network as standard quantized ONNX, as onnxruntime's static quantization does:
QuantizeLinear / DequantizeLinear pairs on the activations (uint8, zero point 0 after Relu; int8 input), int8
weight codes with DequantizeLinear, float bias Add, Relu, and scales that are not powers of two.
--ops qlinear writes QuantizeLinear -> QLinearMatMul (uint8 activations, int8 weights, Relu folded into the
uint8 range) -> ... -> DequantizeLinear -> Softmax.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def pow2_at_least(x):
    return float(2.0 ** np.ceil(np.log2(max(x, 1e-12))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", required=True)
    ap.add_argument("--wbits", type=int, default=6)
    ap.add_argument("--abits", type=int, default=6)
    ap.add_argument("--inbits", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounding", default="ROUND", help="the Quant rounding_mode (ROUND = half to even, as QKeras and "
                    "qonnx's converters write; HALF_UP = what hardwire's requantization can reproduce without thresholds)")
    ap.add_argument("--ops", choices=["qonnx", "qdq", "qlinear"], default="qonnx")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    rng = np.random.default_rng(a.seed)
    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    def quant(x, out, scale, bits, signed):
        s, z, b = const(out + "_scale", scale), const(out + "_zp", 0.0), const(out + "_bits", float(bits))
        nodes.append(helper.make_node("Quant", [x, s, z, b], [out], name="Quant_" + out, domain="qonnx.custom_op.general",
                                      signed=int(signed), narrow=0, rounding_mode=a.rounding))
        return out

    if a.ops != "qonnx":
        return standard_ops(a, sizes, rng)
    # Input: signed inbits, scale 2^-(inbits-3) (values in about [-4, 4)).
    in_scale = 2.0 ** -(a.inbits - 3)
    x = quant("x", "x_q", in_scale, a.inbits, True)
    calib = np.clip(np.round(rng.normal(0, 1.5, (512, sizes[0])) / in_scale), -(2 ** (a.inbits - 1)), 2 ** (a.inbits - 1) - 1) * in_scale
    for li in range(len(sizes) - 1):
        n_in, n_out = sizes[li], sizes[li + 1]
        wmax = 2 ** (a.wbits - 1) - 1
        w_scale = pow2_at_least(2.0 / np.sqrt(n_in) / wmax * 2)
        w = rng.normal(0, 1.0 / np.sqrt(n_in), (n_in, n_out))
        wq = np.clip(np.round(w / w_scale), -wmax - 1, wmax) * w_scale
        b_scale = 2.0 ** -6
        b = rng.normal(0, 0.1, n_out)
        bq = np.clip(np.round(b / b_scale), -128, 127) * b_scale
        W = quant(const(f"w{li}", w), f"w{li}_q", w_scale, a.wbits, True)
        B = quant(const(f"b{li}", b), f"b{li}_q", b_scale, 8, True)
        nodes.append(helper.make_node("MatMul", [x, W], [f"mm{li}"], name=f"MatMul_{li}"))
        nodes.append(helper.make_node("Add", [f"mm{li}", B], [f"add{li}"], name=f"Add_{li}"))
        z = calib @ wq + bq
        if li == len(sizes) - 2:
            nodes.append(helper.make_node("Softmax", [f"add{li}"], ["probs"], name="Softmax", axis=-1))
            break
        nodes.append(helper.make_node("Relu", [f"add{li}"], [f"relu{li}"], name=f"Relu_{li}"))
        r = np.maximum(z, 0)
        a_scale = pow2_at_least(np.percentile(r, 99) / (2 ** a.abits - 1))
        x = quant(f"relu{li}", f"act{li}", a_scale, a.abits, False)
        calib = np.clip(np.round(r / a_scale), 0, 2 ** a.abits - 1) * a_scale
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, sizes[0]])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, sizes[-1]])], inits)
    model = helper.make_model(graph, producer_name="hardwire make_qonnx_mlp.py",
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("qonnx.custom_op.general", 1)])
    model.ir_version = 8
    onnx.save(model, a.out)
    print(f"wrote {a.out}: {'-'.join(map(str, sizes))}, {a.wbits}-bit weights, {a.abits}-bit activations")


def inits_value(inits, name):
    return float(next(numpy_helper.to_array(t) for t in inits if t.name == name))


def standard_ops(a, sizes, rng):
    """Standard quantized ONNX (QDQ or QLinearMatMul), 8-bit, scales from calibration (not powers of two)."""
    nodes, inits = [], []

    def init(name, arr, dtype):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def q(x, out, scale, zp, dtype):
        nodes.append(helper.make_node("QuantizeLinear", [x, init(out + "_s", scale, np.float32), init(out + "_z", zp, dtype)], [out],
                                      name="QuantizeLinear_" + out))
        return out

    def dq(x, out, scale_name, zp_name):
        nodes.append(helper.make_node("DequantizeLinear", [x, scale_name, zp_name], [out], name="DequantizeLinear_" + out))
        return out

    in_scale = np.float32(4.0 / 127)
    # QLinearMatMul (opset 10) in onnxruntime takes uint8 with uint8: offset codes, zero point 128, for signed values.
    u8 = a.ops == "qlinear"
    x = q("x", "x_q", in_scale, 128 if u8 else 0, np.uint8 if u8 else np.int8)
    x_s, x_z = "x_q_s", "x_q_z"
    calib = np.clip(np.round(rng.normal(0, 1.5, (512, sizes[0])) / in_scale), -128, 127) * in_scale
    out_name = None
    for li in range(len(sizes) - 1):
        n_in, n_out = sizes[li], sizes[li + 1]
        w = rng.normal(0, 1.0 / np.sqrt(n_in), (n_in, n_out))
        w_scale = np.float32(np.abs(w).max() / 127)
        wc = np.clip(np.round(w / w_scale), -127, 127).astype(np.int8)
        wq = wc * np.float64(w_scale)
        last = li == len(sizes) - 2
        z = calib @ wq
        if a.ops == "qdq":
            xd = dq(x, f"x{li}_dq", x_s, x_z)
            W = dq(init(f"w{li}_codes", wc, np.int8), f"w{li}", init(f"w{li}_s", w_scale, np.float32), init(f"w{li}_z", 0, np.int8))
            # The bias as onnxruntime quantizes it: int32 codes at scale x_scale * w_scale, dequantized.
            b_scale = np.float32(np.float32(inits_value(inits, x_s)) * w_scale)
            bc = np.round(rng.normal(0, 0.1, n_out) / b_scale).astype(np.int32)
            B = dq(init(f"b{li}_codes", bc, np.int32), f"b{li}", init(f"b{li}_s", b_scale, np.float32), init(f"b{li}_z", 0, np.int32))
            nodes.append(helper.make_node("MatMul", [xd, W], [f"mm{li}"], name=f"MatMul_{li}"))
            nodes.append(helper.make_node("Add", [f"mm{li}", B], [f"add{li}"], name=f"Add_{li}"))
            z = z + bc * np.float64(b_scale)
            if last:
                out_name = f"add{li}"
                break
            nodes.append(helper.make_node("Relu", [f"add{li}"], [f"relu{li}"], name=f"Relu_{li}"))
            r = np.maximum(z, 0)
            a_scale = np.float32(np.percentile(r, 99.9) / 255)
            x = q(f"relu{li}", f"act{li}", a_scale, 0, np.uint8)
            x_s, x_z = f"act{li}_s", f"act{li}_z"
            calib = np.clip(np.round(r / a_scale), 0, 255) * a_scale
        else:
            r = z if last else np.maximum(z, 0)
            y_scale = np.float32(np.percentile(np.abs(r), 99.9) / (127 if last else 255))
            names = [x, x_s, x_z, init(f"w{li}_codes", wc.astype(np.int32) + 128, np.uint8), init(f"w{li}_s", w_scale, np.float32),
                     init(f"w{li}_z", 128, np.uint8), init(f"y{li}_s", y_scale, np.float32), init(f"y{li}_z", 128 if last else 0, np.uint8)]
            nodes.append(helper.make_node("QLinearMatMul", names, [f"y{li}"], name=f"QLinearMatMul_{li}"))
            x, x_s, x_z = f"y{li}", f"y{li}_s", f"y{li}_z"
            calib = np.clip(np.round(r / y_scale), -128 if last else 0, 127 if last else 255) * y_scale
            if last:
                out_name = dq(x, "logits", x_s, x_z)
    nodes.append(helper.make_node("Softmax", [out_name], ["probs"], name="Softmax", axis=-1))
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, sizes[0]])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, sizes[-1]])], inits)
    model = helper.make_model(graph, producer_name="hardwire make_qonnx_mlp.py", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, a.out)
    print(f"wrote {a.out}: {'-'.join(map(str, sizes))}, {a.ops}, 8-bit weights and activations")


if __name__ == "__main__":
    main()
