#!/usr/bin/env python3
"""hardwire's CMVM optimizer against da4ml (v0.6.0), side by side on the same matrices (issue 12).

For every size, the same uniform random full-range matrices (numpy, seeded) are written to a text file; hardwire
solves them through `cmvm_bench --matrix-file` (which checks its graph with ReconstructMatrix and Evaluate against
W x) and da4ml through `da4ml.cmvm.solve` (checked here with da4ml's own interpreter, `Pipeline.__call__`, on the
unit vectors -- which rebuilds W exactly -- and on random and extreme int8 vectors). One line per tool and size:
adders, adder bits, depth, time, and the ratio hardwire / da4ml.

Adder count, the same for both tools:
  hardwire  len(AdderGraph.adders): every two-input add/subtract node (cmvm_bench's count). Shifts, negated
            outputs and inputs are wires.
  da4ml     the ops with opcode 0 (a + (b << s)) or 1 (a - (b << s)) over all stages of the returned Pipeline.
            opcode -1 ops are input copies (wires; cost 0), out_shifts / out_negs are wires as in hardwire. Any
            other opcode would be counted separately and reported ("other_ops"); a plain CMVM produces none.
  Adder bits: hardwire sums the bits of each adder's value interval (AdderWidthSum); for da4ml the same is taken
  from each add op's QInterval (bits of [min/step, max/step]), so both count an adder's output width.
  Depth: longest chain of add ops from an input to an output (da4ml: across its pipeline stages).
  Time: hardwire the optimising thread's CPU time; da4ml the process CPU time of solve() (all its threads) and
  wall time. da4ml runs with DA_DEFAULT_THREADS / OMP_NUM_THREADS = --threads (default 1).

Usage (after `bash scripts/setup.sh`, which creates .venv with the pinned da4ml):
  .venv/bin/python bench/cmvm_vs_da4ml.py                    # routine: 16x16 int8, 64x64 int4, 128x49 int8 (about 2 min)
  .venv/bin/python bench/cmvm_vs_da4ml.py --medium           # + 128x98, 128x196 int8 (da4ml: 4 + ~20 min on one core)
  .venv/bin/python bench/cmvm_vs_da4ml.py --large            # + 128x392, 128x784 int8 (da4ml: tens of minutes to hours)
  options: --trials N (small sizes), --seed S, --effort E, --mode unconstrained|min|min+K (hardwire only;
           da4ml gets hard_dc = the same bound for min/min+K), --threads T, --no-da4ml, --sizes 16x16:8,128x49:8
Exit status 1 if any graph fails its check.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (rows = outputs, cols = inputs, weight bits, trials, tier); tier 0 routine, 1 --medium, 2 --large
SIZES = [
    (16, 16, 8, 10, 0),
    (64, 64, 4, 3, 0),
    (128, 49, 8, 2, 0),
    (128, 98, 8, 1, 1),
    (128, 196, 8, 1, 1),
    (128, 392, 8, 1, 2),
    (128, 784, 8, 1, 2),
]


def interval_bits(lo, hi):
    if lo >= 0:
        return 1 if hi < 1 else int(math.floor(math.log2(hi))) + 1
    mag = max(-lo, hi + 1)
    return int(math.ceil(math.log2(mag))) + 1


def matrix(rows, cols, bits, seed, trial):
    rng = np.random.default_rng([seed, rows, cols, bits, trial])
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return rng.integers(lo, hi + 1, size=(rows, cols), dtype=np.int64)


def run_hardwire(exe, w, mode, effort):
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as f:
        f.write(f'{w.shape[0]} {w.shape[1]}\n')
        for row in w:
            f.write(' '.join(str(int(v)) for v in row) + '\n')
        path = f.name
    try:
        p = subprocess.run([exe, '--matrix-file', path, '--mode', mode, '--effort', str(effort),
                            '--input-range', '-128', '127'], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if p.returncode not in (0, 1) or not p.stdout.strip():
        raise RuntimeError(f'cmvm_bench failed ({p.returncode}): {p.stderr}')
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return dict(adders=r['adders'], bits=r['adder_bits'], depth=r['depth'], cpu_s=r['cpu_s'], wall_s=r['wall_s'],
                ok=r['checked'], min_depth=r['min_depth'], csd=r['csd_trees'])


def da4ml_stats(pipe):
    """Adders, adder bits, depth and other op count of a da4ml Pipeline (see the module docstring)."""
    adders, bits, other = 0, 0, 0
    in_depth = None
    for sol in pipe.solutions:
        depth = []
        for op in sol.ops:
            if op.opcode == -1:
                depth.append(0 if in_depth is None else in_depth[op.id0])
            elif op.opcode in (0, 1):
                adders += 1
                q = op.qint
                bits += interval_bits(round(q.min / q.step), round(q.max / q.step))
                depth.append(1 + max(depth[op.id0], depth[op.id1]))
            else:
                other += 1
                depth.append(depth[op.id0])
        in_depth = [depth[i] if i >= 0 else 0 for i in sol.out_idxs]
    return adders, bits, max(in_depth) if in_depth else 0, other


def da4ml_eval(pipe, x):
    """y = pipe(x) for every row of x with da4ml's own (Python) interpreter, Pipeline.__call__, vectorised by
    handing it one numpy column per input as an object array. (CombLogic.predict, the compiled interpreter,
    disagreed with __call__ and with W x on the second stage of a solution in our tests, so it is not used.)
    float64 is exact here: |values| < 2^25 and steps >= 2^-20."""
    inp = np.empty(x.shape[1], dtype=object)
    for c in range(x.shape[1]):
        inp[c] = np.asarray(x[:, c], dtype=np.float64)
    out = pipe(inp)
    return np.stack([np.broadcast_to(np.asarray(v, dtype=np.float64), (x.shape[0],)) for v in out], axis=1)


def run_da4ml(w, mode, min_depth):
    from da4ml.cmvm import solve
    rows, cols = w.shape
    kernel = np.ascontiguousarray(w.T.astype(np.float32))  # da4ml: y = x @ kernel, kernel (inputs, outputs)
    hard_dc = -1
    if mode == 'min':
        hard_dc = 0
    elif mode.startswith('min+'):
        hard_dc = int(mode[4:])
    c0, t0 = time.process_time(), time.perf_counter()
    pipe = solve(kernel, qintervals=[(-128.0, 127.0, 1.0)] * cols, hard_dc=hard_dc)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    adders, bits, depth, other = da4ml_stats(pipe)
    # da4ml's own interpreter: unit vectors rebuild W^T exactly (the map is linear), then random/extreme vectors.
    ok = np.array_equal(da4ml_eval(pipe, np.eye(cols)), w.T.astype(np.float64))
    rng = np.random.default_rng(12345)
    x = rng.integers(-128, 128, size=(16, cols)).astype(np.float64)
    x = np.vstack([x, np.full((1, cols), -128.0), np.full((1, cols), 127.0)])
    ok = ok and np.array_equal(da4ml_eval(pipe, x), x @ w.T.astype(np.float64))
    return dict(adders=adders, bits=bits, depth=depth, cpu_s=cpu, wall_s=wall, ok=bool(ok), other=other)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--hardwire', default=os.path.join(REPO, 'build', 'bench', 'cmvm_bench'),
                    help='cmvm_bench executable (default build/bench/cmvm_bench)')
    ap.add_argument('--seed', type=int, default=12)
    ap.add_argument('--trials', type=int, default=None, help='override the trials of every size')
    ap.add_argument('--effort', type=int, default=1)
    ap.add_argument('--mode', default='unconstrained', help='unconstrained | min | min+K')
    ap.add_argument('--threads', type=int, default=1, help='da4ml threads (OpenMP)')
    ap.add_argument('--medium', action='store_true', help='also 128x98 and 128x196 int8')
    ap.add_argument('--large', action='store_true', help='also 128x98, 128x196, 128x392, 128x784 int8')
    ap.add_argument('--sizes', default=None, help='explicit list ROWSxCOLS[:BITS[:TRIALS]],...; replaces the tiers')
    ap.add_argument('--no-da4ml', action='store_true', help='hardwire only')
    a = ap.parse_args()
    os.environ.setdefault('DA_DEFAULT_THREADS', str(a.threads))
    os.environ.setdefault('OMP_NUM_THREADS', str(a.threads))

    tier = 2 if a.large else 1 if a.medium else 0
    sizes = [s for s in SIZES if s[4] <= tier]
    if a.sizes:
        sizes = []
        for item in a.sizes.split(','):
            parts = item.split(':')
            r, c = (int(v) for v in parts[0].split('x'))
            sizes.append((r, c, int(parts[1]) if len(parts) > 1 else 8, int(parts[2]) if len(parts) > 2 else 1, 0))
    if not a.no_da4ml:
        import da4ml
        print(f'# da4ml {getattr(da4ml, "__version__", "?")}, threads {a.threads}; hardwire {a.hardwire} '
              f'effort {a.effort}; mode {a.mode}; seed {a.seed}')
    print(f'# {"matrix":<14} {"tool":<9} {"trials":>6} {"adders":>10} {"adder-bits":>11} {"depth":>6} '
          f'{"cpu-s":>9} {"wall-s":>9}  ratio hardwire/da4ml (adders, cpu time)')
    failed = False
    for rows, cols, bits, trials, _ in sizes:
        t = a.trials if a.trials is not None else trials
        name = f'{rows}x{cols} int{bits}'
        acc = {'hardwire': [], 'da4ml': []}
        for k in range(t):
            w = matrix(rows, cols, bits, a.seed, k)
            h = run_hardwire(a.hardwire, w, a.mode, a.effort)
            acc['hardwire'].append(h)
            if not a.no_da4ml:
                acc['da4ml'].append(run_da4ml(w, a.mode, h['min_depth']))
        for tool in ('hardwire', 'da4ml'):
            rs = acc[tool]
            if not rs:
                continue
            mean = {f: sum(r[f] for r in rs) / len(rs) for f in ('adders', 'bits', 'depth', 'cpu_s', 'wall_s')}
            ok = all(r['ok'] for r in rs)
            failed |= not ok
            extra = ''
            if tool == 'da4ml':
                hm = {f: sum(r[f] for r in acc['hardwire']) / len(rs) for f in ('adders', 'cpu_s')}
                extra = f'  {hm["adders"] / mean["adders"]:.3f}  {hm["cpu_s"] / max(mean["cpu_s"], 1e-9):.3g}'
                if any(r['other'] for r in rs):
                    extra += f'  (other ops: {sum(r["other"] for r in rs)})'
            print(f'  {name:<14} {tool:<9} {len(rs):>6} {mean["adders"]:>10.1f} {mean["bits"]:>11.0f} '
                  f'{mean["depth"]:>6.2f} {mean["cpu_s"]:>9.3f} {mean["wall_s"]:>9.3f}'
                  f'{"" if ok else "  CHECK FAILED"}{extra}', flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
