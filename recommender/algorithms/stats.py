"""Intervals that respect who the unit is: paired bootstrap over users, clustered intervals over members."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

N_RESAMPLES = 1000
SEED = 42


def _paired(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Two per-user arrays in the same user order. Series are aligned on their index (a user missing
    from one side scores 0 there: a model that recommends nothing to someone gets no hit)."""
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        users = a.index.union(b.index, sort=False)
        return (
            a.reindex(users, fill_value=0.0).to_numpy(np.float64),
            b.reindex(users, fill_value=0.0).to_numpy(np.float64),
        )
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired figures need the same users: {a.shape} vs {b.shape}")
    return a, b


def paired_bootstrap_ci(
    a_per_user, b_per_user, *, n_resamples: int = N_RESAMPLES, confidence: float = 0.95, seed: int = SEED
) -> dict:
    """Percentile bootstrap interval of mean(a) - mean(b), resampling users (the pair moves together).

    ``a_per_user``, ``b_per_user``: one figure per user (e.g. precision@10) for the same users, as
    arrays in the same order or Series indexed by user. Returns {"diff", "low", "high", "n_users",
    "n_resamples", "confidence", "seed"}; "excludes_zero" is True when the whole interval lies on one
    side of 0. Same seed, same interval.
    """
    a, b = _paired(a_per_user, b_per_user)
    d = a - b
    n = len(d)
    out = {
        "diff": float(d.mean()) if n else float("nan"),
        "low": float("nan"),
        "high": float("nan"),
        "n_users": int(n),
        "n_resamples": int(n_resamples),
        "confidence": confidence,
        "seed": seed,
    }
    if n == 0:
        out["excludes_zero"] = False
        return out
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    # in chunks: 1,000 x 100k users of int64 indices would be 800 MB at once
    chunk = max(1, int(2e7 // max(n, 1)))
    for s in range(0, n_resamples, chunk):
        m = min(chunk, n_resamples - s)
        means[s : s + m] = d[rng.integers(0, n, size=(m, n))].mean(axis=1)
    tail = (1 - confidence) / 2
    out["low"], out["high"] = (float(v) for v in np.quantile(means, [tail, 1 - tail]))
    out["excludes_zero"] = bool(out["low"] > 0 or out["high"] < 0)
    return out


def clustered_ratio_interval(successes, trials, *, z: float = 1.96) -> dict:
    """Interval of a rate sum(successes) / sum(trials) whose units are clusters (members), not trials.

    ``successes``, ``trials``: one count per member (clicks and impressions). The rate is a ratio
    estimator; its variance by the delta method with the members as independent units:
    var = sum((c_i - r * n_i)^2) / (m (m - 1) * mean(n)^2) for m members. When one member clicks a lot
    the interval widens, as it should: their impressions are not independent draws. Returns
    {"rate", "low", "high", "members", "trials", "successes"}; (0, 0) without trials.
    """
    c = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    total_n, total_c, m = float(n.sum()), float(c.sum()), len(n)
    out = {
        "rate": 0.0,
        "low": 0.0,
        "high": 0.0,
        "members": int(m),
        "trials": int(total_n),
        "successes": int(total_c),
    }
    if total_n <= 0:
        return out
    rate = total_c / total_n
    out["rate"] = rate
    if m < 2:
        out["low"], out["high"] = 0.0, max(1.0, rate)  # one member: nothing to learn the spread from
        return out
    var = float(((c - rate * n) ** 2).sum()) / (m * (m - 1) * (total_n / m) ** 2)
    half = z * math.sqrt(var)
    out["low"], out["high"] = max(0.0, rate - half), max(min(1.0, rate + half), rate)
    return out


def cluster_bootstrap_ratio_ci(
    successes, trials, *, n_resamples: int = N_RESAMPLES, confidence: float = 0.95, seed: int = SEED
) -> dict:
    """The same rate's percentile interval by resampling members (a check on the delta method)."""
    c = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    m = len(n)
    if m == 0 or n.sum() <= 0:
        return {"rate": 0.0, "low": 0.0, "high": 0.0}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, m, size=(n_resamples, m))
    tn = n[idx].sum(axis=1)
    rates = np.where(tn > 0, c[idx].sum(axis=1) / np.where(tn > 0, tn, 1), 0.0)
    tail = (1 - confidence) / 2
    low, high = np.quantile(rates, [tail, 1 - tail])
    return {"rate": float(c.sum() / n.sum()), "low": float(low), "high": float(high)}


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion; (0, 0) without trials."""
    if trials <= 0:
        return 0.0, 0.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
