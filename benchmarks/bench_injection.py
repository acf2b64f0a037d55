"""FRAUDAR's injection experiment (Hooi et al., KDD 2016, section 5.2) on a real
background graph: acctgraph against FRAUDAR, side by side.

Background: the Bitcoin OTC rating network (``benchmarks/data/``), read
as a bipartite rater x ratee graph. Each trial takes a random 2000 x 2000
subsample (raters x ratees), optionally thinned at random to the paper's
density of 0.0006, and injects 200 fake users x 200 fake objects, each fake
edge present with probability ``p``, under one of four attacks:

* ``none``: no camouflage;
* ``random``: each fake user also rates as many random real objects as it
  has fake edges;
* ``biased``: the same, objects drawn in proportion to their degree;
* ``hijacked``: the 200 fake users are existing users (with their own real
  edges), no added camouflage.

Score: F-measure over the fake users, mean of ``--trials`` trials. acctgraph
is run as a user would with a generic attribute kind (``kind="object"``, no
timestamps, default settings): its flagged accounts. FRAUDAR is the PyPI
package ``rgmining-fraudar``; its first peeled block's users.

Usage::

    python benchmarks/bench_injection.py                   # full grid, 5 trials
    python benchmarks/bench_injection.py --densities 0.05 --trials 1

Writes ``results/bench_injection.{json,md}`` and a PNG of F against density.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

import acctgraph as ag
from common import RESULTS, machine, write_results

# SNAP soc-sign-bitcoinotc (Kumar et al.), copied from ../shared/data/bitcoin_otc/.
DATA = Path(__file__).resolve().parent / "data" / "bitcoin_otc_ratings.csv"
ATTACKS = ("none", "random", "biased", "hijacked")
DENSITIES = (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10)
BACKGROUNDS = ("thinned", "unthinned")
N_SUB, N_FAKE, THINNED_DENSITY = 2_000, 200, 0.0006
JSON = RESULTS / "bench_injection.json"
# Issue #3: F >= TARGET_F from TARGET_FROM_DENSITY up, at or above FRAUDAR everywhere.
TARGET_F, TARGET_FROM_DENSITY = 0.95, 0.03


def load_background(path: Path) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(path, header=None, names=["rater", "ratee", "rating", "time"])
    return frame["rater"].to_numpy(), frame["ratee"].to_numpy()


def subsample(
    raters: np.ndarray, ratees: np.ndarray, rng: np.random.Generator, thin: bool
) -> sp.csr_matrix:
    """Random 2000 x 2000 (raters x ratees) binary matrix, optionally thinned."""
    rows = rng.choice(np.unique(raters), N_SUB, replace=False)
    cols = rng.choice(np.unique(ratees), N_SUB, replace=False)
    keep = np.isin(raters, rows) & np.isin(ratees, cols)
    r = np.searchsorted(np.sort(rows), raters[keep])
    c = np.searchsorted(np.sort(cols), ratees[keep])
    pairs = np.unique(np.column_stack([r, c]), axis=0)
    if thin:
        target = int(round(THINNED_DENSITY * N_SUB * N_SUB))
        if len(pairs) > target:
            pairs = pairs[rng.choice(len(pairs), target, replace=False)]
    data = np.ones(len(pairs))
    return sp.csr_matrix((data, (pairs[:, 0], pairs[:, 1])), shape=(N_SUB, N_SUB))


def inject(
    background: sp.csr_matrix, p: float, attack: str, rng: np.random.Generator
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Add 200 fake objects (new columns) rated by 200 fake users.

    Returns the matrix and the row indices of the fake users.
    """
    m, n = background.shape
    if attack == "hijacked":
        fake_rows = np.sort(rng.choice(m, N_FAKE, replace=False))
        n_rows = m
    else:
        fake_rows = np.arange(m, m + N_FAKE)
        n_rows = m + N_FAKE
    block = rng.random((N_FAKE, N_FAKE)) < p
    fr, fc = np.nonzero(block)
    rows = [fake_rows[fr]]
    cols = [n + fc]
    if attack in ("random", "biased"):
        per_user = block.sum(axis=1)
        degree = np.asarray(background.sum(axis=0)).ravel()
        weights = degree / degree.sum() if attack == "biased" else None
        for i, k in enumerate(per_user):
            if k:
                rows.append(np.full(k, fake_rows[i]))
                cols.append(rng.choice(n, k, replace=False, p=weights))
    bg = background.tocoo()
    r = np.concatenate([bg.row, *rows])
    c = np.concatenate([bg.col, *cols])
    matrix = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n_rows, n + N_FAKE))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix, fake_rows


def f_measure(found: np.ndarray, fake_rows: np.ndarray) -> float:
    tp = len(np.intersect1d(found, fake_rows))
    if tp == 0:
        return 0.0
    precision, recall = tp / len(found), tp / len(fake_rows)
    return 2 * precision * recall / (precision + recall)


def run_acctgraph(matrix: sp.csr_matrix, seed: int) -> np.ndarray:
    coo = matrix.tocoo()
    width = len(str(matrix.shape[0]))
    events = pd.DataFrame(
        {
            "account_id": np.char.add("u", np.char.zfill(coo.row.astype(str), width)),
            "kind": "object",
            "value": np.char.add("o", coo.col.astype(str)),
        }
    )
    result = ag.detect(events, random_state=seed)
    flagged = result.accounts.loc[result.accounts["flagged"], "account_id"]
    return flagged.str[1:].astype(int).to_numpy()


def run_fraudar(matrix: sp.csr_matrix) -> np.ndarray:
    from fraudar.export import greedy

    with contextlib.redirect_stdout(io.StringIO()):
        (rows, _cols), _ = greedy.logWeightedAveDegree(sp.csc_matrix(matrix))
    return np.fromiter(rows, dtype=np.int64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--densities", nargs="+", type=float, default=list(DENSITIES))
    parser.add_argument("--attacks", nargs="+", default=list(ATTACKS), choices=ATTACKS)
    parser.add_argument("--backgrounds", nargs="+", default=list(BACKGROUNDS), choices=BACKGROUNDS)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, default=JSON)
    args = parser.parse_args(argv)

    raters, ratees = load_background(args.data)
    rows = []
    for background in args.backgrounds:
        for attack in args.attacks:
            for p in args.densities:
                scores = {"acctgraph": [], "fraudar": []}
                seconds = {"acctgraph": 0.0, "fraudar": 0.0}
                # Users flagged and, of them, fake, per trial.
                flagged = {"acctgraph": [], "fraudar": []}
                fakes_found = {"acctgraph": [], "fraudar": []}
                for trial in range(args.trials):
                    # Same trial seed for both methods: they see the same graph.
                    rng = np.random.default_rng([trial, int(p * 1000), ATTACKS.index(attack)])
                    base = subsample(raters, ratees, rng, thin=background == "thinned")
                    matrix, fake_rows = inject(base, p, attack, rng)
                    for method, run in (
                        ("acctgraph", lambda m=matrix, t=trial: run_acctgraph(m, t)),
                        ("fraudar", lambda m=matrix: run_fraudar(m)),
                    ):
                        start = time.perf_counter()
                        found = run()
                        seconds[method] += time.perf_counter() - start
                        scores[method].append(f_measure(found, fake_rows))
                        flagged[method].append(len(found))
                        fakes_found[method].append(len(np.intersect1d(found, fake_rows)))
                row = {
                    "background": background,
                    "attack": attack,
                    "density": p,
                    "background_edges": int(base.nnz),
                    **{f"f_{m}": float(np.mean(s)) for m, s in scores.items()},
                    **{f"f_{m}_trials": s for m, s in scores.items()},
                    **{f"flagged_{m}_trials": n for m, n in flagged.items()},
                    **{f"fakes_found_{m}_trials": n for m, n in fakes_found.items()},
                    **{f"seconds_{m}": seconds[m] / args.trials for m in seconds},
                }
                rows.append(row)
                print(
                    f"{background:>9} {attack:>8} p={p:.2f}  acctgraph F {row['f_acctgraph']:.3f}"
                    f"  fraudar F {row['f_fraudar']:.3f}",
                    flush=True,
                )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    plot(rows, args.json.with_name(args.json.stem + ".png"))
    report = {
        "benchmark": "bench_injection",
        "machine": machine(),
        "trials": args.trials,
        "data": str(args.data.name),
        "rows": rows,
    }
    write_results(args.json, report, _intro(args.trials), _table(rows))
    return 0


def _intro(trials: int) -> str:
    return (
        "FRAUDAR's injection experiment on the Bitcoin OTC rating graph (2000 x 2000 random "
        "subsamples; `thinned` = thinned at random to density 0.0006). 200 fake users x 200 fake "
        f"objects at block density p. F-measure over the fake users, mean of {trials} trials; "
        "both methods see the same graphs. Generated by `python benchmarks/bench_injection.py`."
    )


def _table(rows: list[dict[str, object]]) -> list[str]:
    frame = pd.DataFrame(rows)
    lines = []
    for background, part in frame.groupby("background", sort=False):
        densities = sorted(part["density"].unique())
        lines += [
            f"## {background} background ({int(part['background_edges'].iloc[0]):,} edges "
            "in the last trial)",
            "",
            "| attack | method | " + " | ".join(f"p={d:.2f}" for d in densities) + " |",
            "|---|---|" + "---:|" * len(densities),
        ]
        for attack, rows_a in part.groupby("attack", sort=False):
            for method in ("acctgraph", "fraudar"):
                values = rows_a.set_index("density")[f"f_{method}"]
                lines.append(
                    f"| {attack} | {method} | "
                    + " | ".join(f"{values[d]:.3f}" for d in densities)
                    + " |"
                )
        lines.append("")
    lines += _against_targets(frame)
    lines += _sparse_precision(frame)
    lines.append("![F against density](bench_injection.png)")
    return lines


def _against_targets(frame: pd.DataFrame) -> list[str]:
    """Issue #3's two targets for this experiment, cell by cell: F >= 0.95
    from density 0.03 up, and F at or above FRAUDAR's at every density; the
    cells that miss either, named."""

    def cell(row) -> str:
        return (
            f"{row.background} {row.attack} p={row.density:.2f} "
            f"({row.f_acctgraph:.3f} against FRAUDAR's {row.f_fraudar:.3f})"
        )

    dense = frame[frame["density"] >= TARGET_FROM_DENSITY]
    low = [cell(r) for r in dense.itertuples() if r.f_acctgraph < TARGET_F]
    behind = [cell(r) for r in frame.itertuples() if r.f_acctgraph < r.f_fraudar]
    return [
        "## Against the targets",
        "",
        f"- F >= {TARGET_F} from p = {TARGET_FROM_DENSITY:.2f} up: "
        f"{len(dense) - len(low)} of {len(dense)} cells"
        + (f"; below it: {'; '.join(low)}" if low else ""),
        f"- at or above FRAUDAR: {len(frame) - len(behind)} of {len(frame)} cells"
        + (f"; behind it: {'; '.join(behind)}" if behind else ""),
        "",
    ]


def _sparse_precision(frame: pd.DataFrame, densities=(0.01, 0.02)) -> list[str]:
    """Where the block is sparsest: users each method flagged over the
    trials, and the share of them that are fake."""
    part = frame[frame["density"].isin(densities)]
    if part.empty or "flagged_fraudar_trials" not in part:
        return []
    lines = [
        "## Precision where the block is sparsest",
        "",
        "Users flagged over all trials, and the share of them that are fake users.",
        "",
        "| background | attack | p | acctgraph flagged | acctgraph fake share "
        "| FRAUDAR flagged | FRAUDAR fake share |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in part.itertuples():
        cells = []
        for method in ("acctgraph", "fraudar"):
            n = sum(getattr(row, f"flagged_{method}_trials"))
            fake = sum(getattr(row, f"fakes_found_{method}_trials"))
            cells += [f"{n:,}", f"{fake / n:.3f}" if n else "-"]
        lines.append(
            f"| {row.background} | {row.attack} | {row.density:.2f} | " + " | ".join(cells) + " |"
        )
    return [*lines, ""]


def plot(rows: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = pd.DataFrame(rows)
    backgrounds = list(frame["background"].unique())
    attacks = list(frame["attack"].unique())
    fig, axes = plt.subplots(
        len(backgrounds),
        len(attacks),
        figsize=(3.2 * len(attacks), 2.8 * len(backgrounds)),
        squeeze=False,
        sharey=True,
    )
    for i, background in enumerate(backgrounds):
        for j, attack in enumerate(attacks):
            ax = axes[i][j]
            part = frame[(frame["background"] == background) & (frame["attack"] == attack)]
            for method, style in (("acctgraph", "o-"), ("fraudar", "s--")):
                ax.plot(part["density"], part[f"f_{method}"], style, label=method, ms=4)
            ax.axhline(0.95, color="grey", lw=0.8, ls=":")
            ax.set_title(f"{background}, {attack}", fontsize=9)
            ax.set_ylim(-0.02, 1.02)
            if i == len(backgrounds) - 1:
                ax.set_xlabel("block density p")
            if j == 0:
                ax.set_ylabel("F over fake users")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
