#!/usr/bin/python3
"""Plots of a `hardwire faults` study: reads DIR/faults.json, writes DIR/*.png (Debian's python3-matplotlib).

    /usr/bin/python3 scripts/plot_faults.py out/faults
    /usr/bin/python3 scripts/plot_faults.py --lm out/faults_lm     # the language model's study (faults_lm.json)
"""
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LEVELS = ["weight", "adder", "register"]
UNIT = {"weight": "per weight", "adder": "per adder output bit", "register": "per flip-flop"}


def quality(study, p, q):
    """Accuracy in % if the study has labels, else 100 - % outputs changed."""
    if study["fault_free_accuracy"] is not None and study["fault_free_accuracy"] >= 0:
        return 100 * p["accuracy"][q]
    return 100 * (1 - p["changed"][{"p10": "p90", "p90": "p10"}.get(q, q)])


def band(ax, study, pts, x, label, color):
    pts = sorted(pts, key=lambda p: p[x])
    xs = [p[x] for p in pts]
    ax.plot(xs, [quality(study, p, "median") for p in pts], "o-", color=color, label=label, ms=3)
    ax.fill_between(xs, [quality(study, p, "p10") for p in pts], [quality(study, p, "p90") for p in pts],
                    color=color, alpha=0.2)


def reference_lines(ax, study):
    acc = study["fault_free_accuracy"]
    if acc is not None and acc >= 0:
        ax.axhline(100 * acc, color="gray", lw=0.8, ls="--", label="fault-free")
        ax.axhline(100 * acc - 1, color="gray", lw=0.8, ls=":", label="-1 pp")
        ax.axhline(10, color="red", lw=0.6, ls=":", label="chance (10 classes)")
    ax.set_ylabel("test accuracy (%)" if acc is not None and acc >= 0 else "outputs unchanged (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, which="both", lw=0.3)


LM_LEVELS = ["weight", "adder", "register", "memory", "table"]
LM_UNIT = {"weight": "per weight", "adder": "per adder output bit", "register": "per flip-flop",
           "memory": "per K/V and state bit", "table": "per table bit"}


def main_lm(d):
    with open(os.path.join(d, "faults_lm.json")) as f:
        s = json.load(f)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ce0 = s["fault_free"]["cross_entropy"]
    written = []
    fig, axes = plt.subplots(2, len(LM_LEVELS), figsize=(4 * len(LM_LEVELS), 7.5), sharey="row")
    for k, level in enumerate(LM_LEVELS):
        pts = sorted([p for p in s["curves"] if p["level"] == level], key=lambda p: p["rate"])
        if not pts:
            continue
        xs = [p["rate"] for p in pts]
        for row, (key, lab, ref) in enumerate([("cross_entropy", "held-out cross-entropy (nats/char)", ce0),
                                               ("accuracy", "next-token accuracy (%)", 100 * s["fault_free"]["accuracy"])]):
            ax = axes[row][k]
            scale = 100 if key == "accuracy" else 1
            ax.plot(xs, [scale * p[key]["median"] for p in pts], "o-", color=colors[0], ms=3, label="median")
            ax.fill_between(xs, [scale * p[key]["p10"] for p in pts], [scale * p[key]["p90"] for p in pts], color=colors[0],
                            alpha=0.2, label="10-90 %")
            ax.axhline(ref, color="gray", lw=0.8, ls="--", label="fault-free")
            ax.set_xscale("log")
            ax.grid(True, which="both", lw=0.3)
            if k == 0:
                ax.set_ylabel(lab)
            if row == 0:
                ax.set_title(f"{level} ({s['samples_per_point']} samples/point)")
            else:
                ax.set_xlabel(f"fault rate ({LM_UNIT[level]})")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(d, "lm_curves.png"), dpi=100)
    written.append("lm_curves.png")

    pu = s["per_unit"]
    if pu:
        levels = [lv for lv in LM_LEVELS if any(p["level"] == lv for p in pu)]
        units = []
        for p in pu:
            if p["unit"] not in units:
                units.append(p["unit"])
        fig, ax = plt.subplots(figsize=(10, 4.5))
        width = 0.8 / len(levels)
        for i, lv in enumerate(levels):
            vals = []
            for u in units:
                m = [p for p in pu if p["level"] == lv and p["unit"] == u]
                vals.append(m[0]["mean_cross_entropy_increase"] if m else 0)
            n = [p["count"] for p in pu if p["level"] == lv][0]
            ax.bar([x + i * width for x in range(len(units))], vals, width, label=f"{lv} ({n} faults)", color=colors[i % len(colors)])
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(units))])
        ax.set_xticklabels(units, fontsize=8, rotation=15)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylabel("mean cross-entropy increase (nats/char)")
        ax.set_title("faults confined to one unit: which block is fragile")
        ax.legend(fontsize=7)
        ax.grid(True, axis="y", lw=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(d, "lm_per_unit.png"), dpi=100)
        written.append("lm_per_unit.png")

    rows = s["ablation"][:25]
    if rows:
        fig, ax = plt.subplots(figsize=(7, 6))
        ax.barh(range(len(rows)), [r["cross_entropy"] - ce0 for r in rows], color=colors[0])
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r["unit"] for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlabel("cross-entropy increase when zeroed (nats/char)")
        ax.grid(True, axis="x", lw=0.3)
        ax.set_title("ablation of the language model: the 25 most harmful units")
        fig.tight_layout()
        fig.savefig(os.path.join(d, "lm_ablation.png"), dpi=110)
        written.append("lm_ablation.png")
    print("plots: " + ", ".join(os.path.join(d, w) for w in written))


def main():
    if sys.argv[1] == "--lm":
        return main_lm(sys.argv[2])
    d = sys.argv[1]
    with open(os.path.join(d, "faults.json")) as f:
        s = json.load(f)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    written = []

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, level in zip(axes, LEVELS):
        pts = [p for p in s["curves"] if p["level"] == level]
        band(ax, s, pts, "rate", "median, 10-90 % band", colors[0])
        ax.set_xscale("log")
        ax.set_xlabel(f"fault rate ({UNIT[level]})")
        ax.set_title(f"{level} faults, whole model ({s['samples_per_point']} samples/point)")
        reference_lines(ax, s)
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "curves.png"), dpi=110)
    written.append("curves.png")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, level in zip(axes, LEVELS):
        layers = sorted({p["layer"] for p in s["per_layer"] if p["level"] == level})
        for i, layer in enumerate(layers):
            pts = [p for p in s["per_layer"] if p["level"] == level and p["layer"] == layer]
            band(ax, s, pts, "rate", f"only {layer}", colors[i % len(colors)])
        ax.set_xscale("log")
        ax.set_xlabel(f"fault rate ({UNIT[level]}, sites of that layer only)")
        ax.set_title(f"{level} faults confined to one layer")
        reference_lines(ax, s)
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "per_layer.png"), dpi=110)
    written.append("per_layer.png")

    fig, ax = plt.subplots(figsize=(6, 4.2))
    band(ax, s, s["adder_count_sweep"], "count", "median, 10-90 % band", colors[0])
    ax.set_xscale("log", base=2)
    ax.set_xlabel("stuck-at adder output bits per die (uniformly placed)")
    ax.set_title("accuracy vs number of adder defects")
    reference_lines(ax, s)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "adder_count.png"), dpi=110)
    written.append("adder_count.png")

    y = s["yield"]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    lam = [p["lambda"] for p in y["points"]]
    yl = [100 * p["yield"] for p in y["points"]]
    # 90 % Wilson interval of a binomial proportion
    lo, hi = [], []
    for p in y["points"]:
        n, k, z = p["dies"], p["good"], 1.645
        c = (k + z * z / 2) / (n + z * z)
        h = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
        lo.append(100 * (c - h))
        hi.append(100 * (c + h))
    ax.plot(lam, yl, "o-", color=colors[0], label="model meets the floor (measured)", ms=3)
    ax.fill_between(lam, lo, hi, color=colors[0], alpha=0.2)
    ax.plot(lam, [100 * math.exp(-x) for x in lam], "--", color=colors[1], label="zero defects (Poisson), no tolerance")
    ax.set_xscale("log")
    ax.set_xlabel("mean defects per die in the datapath (lambda)")
    ax.set_ylabel("yield (%)")
    ax.set_ylim(0, 101)
    ax.grid(True, which="both", lw=0.3)
    ax.set_title(f"yield at floor {100 * y['floor_accuracy']:.2f} % accuracy")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "yield.png"), dpi=110)
    written.append("yield.png")

    rows = s["ablation"][:25]
    if rows:
        fig, ax = plt.subplots(figsize=(7, 6))
        if s["fault_free_accuracy"] is not None and s["fault_free_accuracy"] >= 0:
            vals = [100 * (s["fault_free_accuracy"] - r["accuracy"]) for r in rows]
            ax.set_xlabel("accuracy loss when zeroed (percentage points)")
        else:
            vals = [100 * r["changed"] for r in rows]
            ax.set_xlabel("outputs changed when zeroed (%)")
        ax.barh(range(len(rows)), vals, color=colors[0])
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r["unit"] for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("symlog", linthresh=1)
        ax.grid(True, axis="x", lw=0.3)
        ax.set_title("ablation: the 25 most harmful units")
        fig.tight_layout()
        fig.savefig(os.path.join(d, "ablation.png"), dpi=110)
        written.append("ablation.png")
    print("plots: " + ", ".join(os.path.join(d, w) for w in written))


if __name__ == "__main__":
    main()
