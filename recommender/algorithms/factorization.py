"""Matrix factorisation with the `implicit` library: ALS and BPR under the shared model contract."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# The CPU models explicitly (implicit.als would pick a GPU model when CUDA is present); imported
# here, not inside fit(): Hybrid fits components in threads.
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from threadpoolctl import threadpool_limits

from .base import Recommender


def _confidence_solve(item_factors: np.ndarray, x: sp.csr_matrix, regularization: float, alpha: float):
    """Per history row: the least-squares user factors of implicit ALS with the item factors fixed, and
    the pieces to explain them.

    Minimises sum_i c_ui (p_ui - u.y_i)^2 + reg |u|^2 with c_ui = alpha x_ui, p_ui = 1 on seen items and
    c = 1, p = 0 elsewhere (implicit's ``recalculate_user``): u = A_u^-1 sum_seen c_uj y_j with
    A_u = Y'Y + sum_seen (c_uj - 1) y_j y_j' + reg I. So the score of item i is
    sum_seen c_uj (y_j' A_u^-1 y_i): each seen item's additive share. Yields (row, seen cols, c, A_u).
    """
    y = np.asarray(item_factors, dtype=np.float64)
    base = y.T @ y + regularization * np.eye(y.shape[1])
    x = x.tocsr()
    for r in range(x.shape[0]):
        s, e = x.indptr[r], x.indptr[r + 1]
        cols = x.indices[s:e]
        c = alpha * x.data[s:e].astype(np.float64)
        ys = y[cols]
        a = base + (ys * (c - 1.0)[:, None]).T @ ys
        yield r, cols, c, a


def _explain_factors(
    item_factors: np.ndarray, x: sp.csr_matrix, cands: np.ndarray, regularization: float, alpha: float
) -> np.ndarray:
    """Column of the seen item with the largest share in each candidate's score (-1 if none), over the
    whole history, from the exact decomposition of the least-squares solve."""
    out = np.full(cands.shape, -1, dtype=np.int64)
    y = np.asarray(item_factors, dtype=np.float64)
    for r, cols, c, a in _confidence_solve(y, x, regularization, alpha):
        cand = cands[r]
        ok = cand >= 0
        if not len(cols) or not ok.any():
            continue
        z = np.linalg.solve(a, y[cand[ok]].T)  # A_u^-1 y_i for each candidate
        share = (y[cols] * c[:, None]) @ z  # seen x candidates
        order = np.lexsort(
            (cols, -x.data[x.indptr[r] : x.indptr[r + 1]])
        )  # ties: larger weight, lower column
        best = order[np.argmax(share[order], axis=0)]
        top = share[best, np.arange(share.shape[1])]
        out[r, np.flatnonzero(ok)] = np.where(top > 0, cols[best], -1)
    return out


class _ImplicitFactors(Recommender):
    """Shared fit / score / explain for the implicit CPU models (user x item CSR, as implicit 0.7 expects)."""

    reason_code = "similar_to_seen"
    bias_column = False  # BPR keeps an item bias in the last factor column (users have 1 there)

    def _make(self):
        raise NotImplementedError

    def _fit(self, data, items):
        x = data.matrix.astype(np.float32).tocsr()
        # implicit warns (and runs slower) when BLAS uses several threads inside its own threads
        with threadpool_limits(1, "blas"):
            model = self._make()
            model.fit(x, show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self.model_ = model

    def _latent(self):
        """Item factors without the bias column: what a user's factors are solved against."""
        return self.item_factors_[:, :-1] if self.bias_column else self.item_factors_

    def _scores(self, rows):
        return self.user_factors_[rows] @ self.item_factors_.T

    def _scores_x(self, x):
        u = self._fold_in(x)
        if self.bias_column:
            u = np.hstack([u, np.ones((u.shape[0], 1), dtype=np.float32)])
        return np.asarray(u @ self.item_factors_.T, dtype=np.float32)

    def _fold_in(self, x) -> np.ndarray:
        raise NotImplementedError

    def _fold_in_params(self) -> tuple[float, float]:
        """(regularization, alpha) of the least-squares fold-in, for explanations."""
        raise NotImplementedError

    def _explain(self, scored, cands):
        reg, alpha = self._fold_in_params()
        rc = _explain_factors(self._latent(), self._history(scored), cands, reg, alpha)
        return np.full(cands.shape, self.reason_code, dtype=object), rc

    def _similar_scores(self, cols):
        v = self._latent()
        norms = np.linalg.norm(v, axis=1)
        norms[norms == 0] = 1.0
        unit = v / norms[:, None]
        return unit[cols] @ unit.T


class ALS(_ImplicitFactors):
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) from the `implicit` library (CPU).

    Confidence ``alpha * weight`` on seen items. A training user is scored with the factors
    learned in fit; a fresh history by solving the user's factors from it with the item factors
    fixed (implicit's ``recalculate_user``, an exact least-squares solve: for a training row it is
    close to, not identical with, fit's conjugate-gradient factors). Reasons: the seen item with the
    largest share in that solve's score. ``num_threads`` 1 keeps results reproducible.
    ``similar_items``: cosine of item factors.
    """

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        random_state: int = 42,
        num_threads: int = 1,
    ):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads

    def _make(self):
        return AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.random_state,
            num_threads=self.num_threads,
            calculate_training_loss=False,
        )

    def _fold_in(self, x):
        x = x.tocsr().astype(np.float32)
        with threadpool_limits(1, "blas"):
            u = self.model_.recalculate_user(np.arange(x.shape[0]), x)
        return np.asarray(u, dtype=np.float32).reshape(x.shape[0], -1)

    def _fold_in_params(self):
        return float(self.regularization), float(self.alpha)


class BPR(_ImplicitFactors):
    """Bayesian personalised ranking (Rendle et al. 2009) from the `implicit` library (CPU), with an
    item bias. Scores are not on a positive scale, so every candidate counts (``positive_only`` off).

    implicit has no ``recalculate_user`` for BPR: a fresh history is folded in by BPR's own updates
    on the user's factors alone, item factors fixed (``iterations`` epochs of one sampled negative
    per seen item, ``learning_rate``, ``regularization``; the negatives come from a table seeded by
    ``random_state``, so a history's factors do not depend on the batch it is in). For a training
    row this ranks close to, not identically with, the learned factors. The user's factors are the
    sum of what each seen item's updates added, so that sum splits each score into per-item shares:
    the reason is the largest. ``num_threads`` 1 keeps the SGD reproducible.
    """

    positive_only = False
    bias_column = True

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.05,
        regularization: float = 0.01,
        iterations: int = 100,
        random_state: int = 42,
        num_threads: int = 1,
    ):
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads

    def _make(self):
        return BayesianPersonalizedRanking(
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=self.random_state,
            num_threads=self.num_threads,
        )

    def _fit(self, data, items):
        super()._fit(data, items)
        rng = np.random.default_rng(self.random_state)
        n_items = self.item_factors_.shape[0]
        # negatives[epoch, seen item]: the same draw for a seen item wherever it is folded in
        self.negatives_ = rng.integers(0, n_items, size=(int(self.iterations), n_items), dtype=np.int32)

    def _fold_in_shares(self, x):
        """(per stored entry of x: its share of the user's factors, row of each entry)."""
        x = x.tocsr()
        v = self.item_factors_[:, :-1].astype(np.float64)
        bias = self.item_factors_[:, -1].astype(np.float64)
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        pos = x.indices
        per_row = sp.csr_matrix(
            (np.ones(len(pos)), (rows, np.arange(len(pos)))), shape=(x.shape[0], len(pos))
        )
        vp, bp = v[pos], bias[pos]
        shares = np.zeros((len(pos), v.shape[1]))
        lr, reg = float(self.learning_rate), float(self.regularization)
        for epoch in range(self.negatives_.shape[0]):
            neg = self.negatives_[epoch, pos]
            d = vp - v[neg]
            u = per_row @ shares  # the user's factors: the sum of the shares
            z = np.einsum("ij,ij->i", d, u[rows]) + bp - bias[neg]
            step = (lr / (1.0 + np.exp(z)))[:, None] * d
            step[neg == pos] = 0.0
            shares *= 1.0 - lr * reg
            shares += step
        return shares, rows

    def _fold_in(self, x):
        shares, rows = self._fold_in_shares(x)
        u = np.zeros((x.shape[0], shares.shape[1]))
        np.add.at(u, rows, shares)
        return u.astype(np.float32)

    def _explain(self, scored, cands):
        x = self._history(scored).tocsr()
        shares, rows = self._fold_in_shares(x)
        v = self.item_factors_[:, :-1].astype(np.float64)
        out = np.full(cands.shape, -1, dtype=np.int64)
        for r in range(x.shape[0]):
            s, e = x.indptr[r], x.indptr[r + 1]
            ok = cands[r] >= 0
            if s == e or not ok.any():
                continue
            share = shares[s:e] @ v[cands[r][ok]].T  # seen x candidates
            order = np.lexsort((x.indices[s:e], -x.data[s:e]))  # ties: larger weight, lower column
            best = order[np.argmax(share[order], axis=0)]
            top = share[best, np.arange(share.shape[1])]
            out[r, np.flatnonzero(ok)] = np.where(top > 0, x.indices[s:e][best], -1)
        return np.full(cands.shape, self.reason_code, dtype=object), out
