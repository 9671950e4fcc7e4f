#!/usr/bin/env python3
"""Two independent integer implementations of a graph model must agree exactly: the C++ reference
(`hardwire eval` / `hardwire ref`, token by token with a KV cache) and the numpy forward pass of
examples/tiny_lm/lm_int.py (whole sequences, masked attention).

    lm_agreement.py --hardwire build/hardwire --model weights/tiny_lm/model.json --windows 40 --sequences 20
    lm_agreement.py --hardwire build/hardwire --random-models 3      # small random models from the exporter

Checks every logit at every position of the first N held-out windows, the printed cross-entropy, and every token
of greedy and sampled generations from held-out prompts (several streams in one `hardwire ref` call).
Exits non-zero on any difference.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "examples", "tiny_lm"))
import corpus  # noqa: E402
import lm_int  # noqa: E402


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def check_model(hw, model_path, text, n_windows, n_sequences, tmp):
    lm = lm_int.load(model_path)
    index = {ch: i for i, ch in enumerate(lm["vocab"])}
    text = "".join(ch for ch in text if ch in index)
    ids = [index[ch] for ch in text]
    t = lm["context"]
    windows = np.asarray(ids[: n_windows * (t + 1)], dtype=np.int64).reshape(n_windows, t + 1)
    text_path = os.path.join(tmp, "text.txt")
    with open(text_path, "w") as f:
        f.write(text[: n_windows * (t + 1)])
    logits_path = os.path.join(tmp, "logits.txt")
    out = run([hw, "eval", model_path, "--text", text_path, "--logits", logits_path])
    cpp = np.loadtxt(logits_path, dtype=np.int64).reshape(n_windows, t, -1)
    py = lm_int.logits_of(lm, windows[:, :-1])
    failures = 0
    if not np.array_equal(cpp, py):
        bad = np.argwhere(cpp != py)
        print(f"FAIL {model_path}: {len(bad)} logits differ; first at window/position/token {bad[0].tolist()}: "
              f"C++ {cpp[tuple(bad[0])]}, numpy {py[tuple(bad[0])]}")
        failures += 1
    ce_py = lm_int.cross_entropy(lm, windows)
    ce_cpp = float(out.split(":")[1].split()[0])
    if abs(ce_cpp - ce_py) > 5e-5:
        print(f"FAIL {model_path}: cross-entropy C++ {ce_cpp} numpy {ce_py:.6f}")
        failures += 1
    print(f"logits: {cpp.size} values at {n_windows * t} positions identical; cross-entropy {ce_cpp:.4f} = {ce_py:.4f}")

    # Prompts: held-out slices of 1 .. 16 characters taken from spread-out offsets.
    rng = np.random.RandomState(12345)
    prompts = []
    for i in range(n_sequences):
        start = int(rng.randint(0, len(text) - 20))
        n = 1 + (i % min(16, t))
        prompts.append(text[start:start + n])
    for mode, seed in (("greedy", None), ("sampled", 7)):
        cmd = [hw, "ref", model_path, "--ids", "--tokens", str(t + 1)]
        cmd += ["--greedy"] if seed is None else ["--seed", str(seed)]
        for p in prompts:
            cmd += ["--prompt", p]
        lines = run(cmd).strip().split("\n")
        tokens = 0
        for s, (p, line) in enumerate(zip(prompts, lines)):
            got = [int(v) for v in line.split(":")[1].split()]
            want = lm_int.generate(lm, [index[c] for c in p], t + 1, seed, s)
            tokens += len(want)
            if got != want:
                k = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
                print(f"FAIL {model_path} {mode} stream {s} prompt {p!r}: first difference at generated token {k}")
                failures += 1
            if len(p) + len(want) != t + 1:
                print(f"FAIL {model_path} {mode} stream {s}: {len(want)} tokens, expected the context to fill")
                failures += 1
        print(f"{mode}: {len(prompts)} sequences, {tokens} generated tokens compared")
    return failures


def random_model(directory, seed):
    import torch
    import export
    import train
    from qat_model import Config, TinyLM
    torch.manual_seed(seed)
    cfg = Config(vocab=len(corpus.VOCAB), d=16, heads=2, context=8, ffn=32, blocks=1 + seed % 2)
    model = TinyLM(cfg)
    ids = np.asarray(corpus.encode(corpus.split()[0][:20000]), dtype=np.int64)
    model.scales = train.calibrate(model, ids, cfg.context, np.random.RandomState(seed), batches=2, batch=16)
    export.write(model, directory, name="random_lm")
    return os.path.join(directory, "model.json")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hardwire", required=True)
    ap.add_argument("--model", help="model.json of a graph model")
    ap.add_argument("--random-models", type=int, default=0, help="also check N random small models")
    ap.add_argument("--windows", type=int, default=40)
    ap.add_argument("--sequences", type=int, default=20)
    ap.add_argument("--training-json", help="also evaluate all held-out windows with `hardwire eval` and compare "
                    "with the integer cross-entropy recorded by the trainer")
    args = ap.parse_args()
    held = corpus.split()[1]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            failures += check_model(args.hardwire, args.model, held, args.windows, args.sequences, tmp)
        if args.model and args.training_json:
            import json
            want = json.load(open(args.training_json))["heldout_nats_per_char"]["integer"]
            path = os.path.join(tmp, "heldout.txt")
            with open(path, "w") as f:
                f.write(held)
            out = run([args.hardwire, "eval", args.model, "--text", path])
            got = float(out.split(":")[1].split()[0])
            print(f"full held-out set: {out.strip()} (trainer's numpy figure: {want})")
            if abs(got - want) > 1e-4:
                print(f"FAIL: held-out cross-entropy {got} differs from the recorded {want}")
                failures += 1
        for seed in range(args.random_models):
            d = os.path.join(tmp, f"random{seed}")
            failures += check_model(args.hardwire, random_model(d, seed), held, args.windows, args.sequences, tmp)
    print("PASS" if failures == 0 else f"{failures} FAILURES")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
