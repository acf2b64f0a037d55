"""Evaluation: compare a detection result with planted truth.

Used by ``acctgraph demo``, the benchmarks and the tests. Truth is a frame
with ``account_id``, ``role`` (``"farm"`` for farm accounts) and ``group``
(the campaign or crowd each account belongs to), as
:func:`acctgraph.synth.make_world` returns it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .results import DetectionResult

__all__ = ["average_precision", "evaluate"]

# Crowds that must never be flagged: flagging any of them is a wrong answer.
INNOCENT_CROWDS = ("office", "university", "vpn", "carrier", "developer", "household")


def average_precision(is_positive: np.ndarray, score: np.ndarray) -> float:
    """Average precision of ``score`` ranking positives first (ties broken
    pessimistically: among equal scores, negatives first)."""
    is_positive = np.asarray(is_positive, dtype=bool)
    n_pos = int(is_positive.sum())
    if n_pos == 0:
        return float("nan")
    order = np.lexsort((is_positive, -np.asarray(score, dtype=float)))
    hits = is_positive[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision_at[hits].sum() / n_pos)


def evaluate(result: DetectionResult, truth: pd.DataFrame) -> dict[str, Any]:
    """Account-level detection quality against planted truth.

    Parameters
    ----------
    result : DetectionResult
    truth : DataFrame
        ``account_id, role, group``.

    Returns
    -------
    dict
        ``precision, recall, f1, average_precision, n_flagged, n_farm``,
        ``flagged_by_role`` (accounts flagged per role) and ``campaigns``
        (per farm campaign: size, share found, clusters holding 90% of it).
    """
    merged = result.accounts.merge(
        truth[["account_id", "role", "group"]], on="account_id", how="left"
    )
    is_farm = (merged["role"] == "farm").to_numpy()
    flagged = merged["flagged"].to_numpy()
    tp = int((flagged & is_farm).sum())
    fp = int((flagged & ~is_farm).sum())
    fn = int((~flagged & is_farm).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    by_role = merged.loc[flagged].groupby("role").size().to_dict()
    campaigns = []
    for group, part in merged[is_farm].groupby("group", sort=True):
        in_cluster = part.loc[part["cluster_id"] >= 0, "cluster_id"].value_counts()
        cum = in_cluster.cumsum() / len(part)
        n_clusters_90 = int((cum < 0.9).sum() + 1) if len(cum) and cum.iloc[-1] >= 0.9 else None
        campaigns.append(
            {
                "campaign": group,
                "n_accounts": len(part),
                "share_found": float(part["flagged"].mean()),
                "clusters_holding_90pct": n_clusters_90,
            }
        )
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "average_precision": average_precision(is_farm, merged["score"].to_numpy()),
        "n_flagged": int(flagged.sum()),
        "n_farm": int(is_farm.sum()),
        "flagged_by_role": {
            role: int(by_role.get(role, 0)) for role in ("farm",) + INNOCENT_CROWDS
        },
        "campaigns": campaigns,
    }
