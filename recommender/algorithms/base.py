"""The shared model contract: fit / recommend / recommend_histories / similar_items, batch scoring and explanations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .data import InteractionMatrix, build_matrix, prepare_interactions
from .similarity import csr_keys, csr_lookup, top_n_per_row, top_n_sparse

RECOMMEND_COLUMNS = ["user_id", "item_id", "score", "rank", "reason", "reason_item_id"]
SIMILAR_COLUMNS = ["item_id", "similar_item_id", "score", "rank"]


class TrainingData(InteractionMatrix):
    """An ``InteractionMatrix`` plus the cleaned frames models may need (timestamps, baskets)."""

    def __init__(self, matrix, users, items, pairs: pd.DataFrame, events: pd.DataFrame):
        super().__init__(matrix, users, items)
        self.pairs = pairs  # one row per (user_id, item_id): weight[, timestamp]
        self.events = events  # cleaned rows before aggregation: user_id, item_id[, basket_id]

    @classmethod
    def from_frame(
        cls, interactions: pd.DataFrame, items: pd.DataFrame | None = None, **prep
    ) -> TrainingData:
        pairs = prepare_interactions(interactions, items, **prep)
        item_ids = items["item_id"] if items is not None and "item_id" in items.columns else None
        m = build_matrix(pairs, item_ids=item_ids)
        cols = ["user_id", "item_id"] + (["basket_id"] if "basket_id" in interactions.columns else [])
        events = interactions[cols].dropna(subset=["user_id", "item_id"])
        events = events[events["item_id"].isin(m.items) & events["user_id"].isin(m.users)]
        return cls(m.matrix, m.users, m.items, pairs, events)

    def subset(self, pairs: pd.DataFrame) -> TrainingData:
        """Training data restricted to some (user_id, item_id) pairs, keeping the item universe."""
        m = build_matrix(pairs, item_index=self.items)
        keep = pd.MultiIndex.from_frame(pairs[["user_id", "item_id"]])
        ev = self.events[pd.MultiIndex.from_frame(self.events[["user_id", "item_id"]]).isin(keep)]
        return TrainingData(m.matrix, m.users, m.items, pairs.reset_index(drop=True), ev)


def _as_id_array(ids) -> np.ndarray:
    if ids is None:
        return None
    if np.isscalar(ids) or isinstance(ids, str):
        ids = [ids]
    return pd.unique(pd.Series(list(ids) if not isinstance(ids, (pd.Series, np.ndarray, pd.Index)) else ids))


def id_array(ids_index: pd.Index, cols: np.ndarray):
    """Ids for positions with -1 as missing: nullable Int64 for integer ids, object otherwise."""
    cols = np.asarray(cols)
    ok = cols >= 0
    if pd.api.types.is_integer_dtype(ids_index.dtype):
        vals = np.zeros(len(cols), dtype=np.int64)
        vals[ok] = ids_index.to_numpy()[cols[ok]]
        arr = pd.array(vals, dtype="Int64")
        arr[~ok] = pd.NA
        return arr
    out = np.full(len(cols), None, dtype=object)
    out[ok] = ids_index.to_numpy()[cols[ok]]
    return out


@dataclass
class BatchScores:
    """What scoring one batch returns: the ranking scores, the history matrix they were computed
    from (``x``: rows = the batch, columns = the model's items) and, for a blend, the weighted share
    of each component (``parts``); the explanation is computed from these. ``rows`` are training
    rows, or None for folded-in histories."""

    rows: np.ndarray | None
    scores: np.ndarray | sp.spmatrix | None
    parts: dict = field(default_factory=dict)
    x: sp.csr_matrix | None = None


class ScoreCache:
    """Raw batch scores handed from one model's ranking to a Hybrid blending that model
    (``batch.recommend_many``): passed explicitly, one per batch, so nothing is shared between threads."""

    def __init__(self):
        self._kept = {}

    def put(self, model, rows: np.ndarray, scores) -> None:
        self._kept[id(model)] = (model, rows, scores.copy())

    def take(self, model, rows: np.ndarray):
        """Scores kept for ``model`` on exactly these rows (used once), or None."""
        kept = self._kept.pop(id(model), None)
        if (
            kept is None
            or kept[0] is not model
            or len(kept[1]) != len(rows)
            or not np.array_equal(kept[1], rows)
        ):
            return None
        return kept[2]


class Recommender(BaseEstimator):
    """Base class. Subclasses implement ``_fit`` and ``_scores_x`` (and optionally the rest).

    One scoring path: ``_scores_x(x)`` scores a sparse history matrix (rows = histories, columns =
    the model's items); a training user is scored as the fold-in of their training row
    (``_scores(rows)`` = ``_scores_x(data_.matrix[rows])``) unless the model keeps learned per-user
    state (UserKNN's neighbours, matrix factorisation's user factors). ``recommend`` ranks training
    users, ``recommend_histories`` fresh histories (a member's current one, a guest's session).

    A scikit-learn estimator: the constructor stores its parameters unchanged (so ``get_params``,
    ``set_params`` and ``sklearn.base.clone`` work), and everything learned ends with ``_``:
    ``data_`` (a ``TrainingData``: ``matrix`` CSR users x items, ``users``/``items`` id indexes),
    ``user_ids_`` and ``item_ids_``. ``recommend`` and ``similar_items`` raise scikit-learn's
    ``NotFittedError`` before ``fit``.
    """

    reason_code = "similar_to_seen"
    positive_only = True  # candidates scoring <= 0 are not recommendations
    batch_size = 1000

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, interactions: pd.DataFrame, items: pd.DataFrame | None = None):
        data = TrainingData.from_frame(interactions, items, **self._prep_options())
        return self.fit_data(data, items)

    def fit_data(self, data: TrainingData, items: pd.DataFrame | None = None):
        """Fit on already prepared training data (lets Hybrid and tuning share one matrix)."""
        self.data_ = data
        self.user_ids_ = data.users
        self.item_ids_ = data.items
        self._fit(data, items)
        return self

    def _prep_options(self) -> dict:
        return {}

    def _fit(self, data: TrainingData, items):
        raise NotImplementedError

    # -- scoring hooks -----------------------------------------------------------------------
    def _scores_x(self, x: sp.csr_matrix) -> np.ndarray | sp.spmatrix:
        """Scores (dense float32 or CSR, len(x) x n_items) for the histories in ``x``."""
        raise NotImplementedError

    def _scores(self, rows: np.ndarray) -> np.ndarray | sp.spmatrix:
        """Scores for known user rows: their training rows folded in."""
        return self._scores_x(self.data_.matrix[rows])

    def _unknown_scores(self) -> np.ndarray | None:
        """One score row for users without training history, or None (no recommendations)."""
        return None

    def _score_batch(self, rows: np.ndarray, cache: ScoreCache | None = None) -> BatchScores:
        """Scores of one batch of known user rows, kept in ``cache`` for a Hybrid blending this model."""
        scores = self._scores(rows)
        if cache is not None:
            cache.put(self, rows, scores)
        return BatchScores(rows, scores, x=self.data_.matrix[rows])

    def _score_histories(self, x: sp.csr_matrix) -> BatchScores:
        """Scores of one batch of folded-in histories."""
        return BatchScores(None, self._scores_x(x), x=x)

    def _history(self, scored: BatchScores) -> sp.csr_matrix:
        """The history matrix a batch was scored from."""
        return scored.x if scored.x is not None else self.data_.matrix[scored.rows]

    def _explain(self, scored: BatchScores, cands: np.ndarray):
        """(reason codes, reason item columns) for candidate columns (rows x n, -1 = empty) of a scored batch."""
        return np.full(cands.shape, self.reason_code, dtype=object), np.full(cands.shape, -1, dtype=np.int64)

    def _similar_scores(self, cols: np.ndarray) -> np.ndarray | None:
        """Dense similarity rows (len(cols) x n_items) for known item columns."""
        return None

    # -- public API --------------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "data_")

    def _check_fitted(self):
        check_is_fitted(
            self,
            msg=f"This {type(self).__name__} is not fitted yet; call fit() before recommend() "
            "or similar_items().",
        )

    def _seen_mask_apply(self, scores: np.ndarray, rows: np.ndarray):
        _mask_dense(scores, self.data_.matrix[rows])

    def recommend(self, user_ids=None, n: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-n items per user: columns user_id, item_id, score, rank, reason, reason_item_id.

        ``user_ids=None`` means every training user. Users unknown to the model get what
        ``_unknown_scores`` gives (popularity for Popularity/Hybrid, nothing for pure CF).
        """
        self._check_fitted()
        ids = self.user_ids_.to_numpy() if user_ids is None else _as_id_array(user_ids)
        return self._recommend(ids, n, exclude_seen)

    def _recommend(
        self, ids: np.ndarray, n: int, exclude_seen: bool, cache: ScoreCache | None = None
    ) -> pd.DataFrame:
        """``recommend`` for an id array, in this thread; ``cache`` shares batch scores (``recommend_many``)."""
        rows = self.data_.user_rows(ids) if len(ids) else np.empty(0, np.int64)
        parts = []
        known = np.flatnonzero(rows >= 0)
        for s in range(0, len(known), self.batch_size):
            pos = known[s : s + self.batch_size]
            scored = self._score_batch(rows[pos], cache)
            parts.append(self._rank_batch(pos, scored, scored.x if exclude_seen else None, n))
        unknown = np.flatnonzero(rows < 0)
        if len(unknown):
            row = self._unknown_scores()
            if row is not None:
                cols, vals = top_n_per_row(row[None, :].astype(np.float32), n)
                block = self._finish_block(np.zeros(1, np.int64), None, cols, vals, unknown_reason=True)
                if block is not None:
                    upos, c, v, rk, codes, rc = block
                    k = len(c)
                    parts.append(
                        (
                            np.repeat(unknown, k),
                            np.tile(c, len(unknown)),
                            np.tile(v, len(unknown)),
                            np.tile(rk, len(unknown)),
                            np.tile(codes, len(unknown)),
                            np.tile(rc, len(unknown)),
                        )
                    )
        return self._frame(ids, parts)

    def _rank_batch(self, pos, scored: BatchScores, excluded: sp.csr_matrix | None, n: int):
        """Top-n of a scored batch with the stored entries of ``excluded`` (rows as the batch) left out."""
        scores = scored.scores
        if sp.issparse(scores):
            scores = scores.tocsr()
            if excluded is not None and self.positive_only:
                seen = excluded.copy()
                seen.data = np.ones_like(seen.data)
                scores = scores - scores.multiply(seen)  # seen entries become 0, below min_value
            elif excluded is not None:
                _drop_seen_sparse(scores, excluded)
            cols, vals = top_n_sparse(scores, n, 0.0 if self.positive_only else -np.inf)
            return self._finish_block(pos, scored, cols, vals)
        if excluded is not None:
            _mask_dense(scores, excluded)
        cols, vals = top_n_per_row(scores, n)
        return self._finish_block(pos, scored, cols, vals)

    def recommend_histories(
        self, histories: Mapping, n: int = 10, exclude: Mapping | None = None
    ) -> pd.DataFrame:
        """Top-n items for fresh histories, scored by this fitted model as it scores a training user.

        ``histories``: mapping key -> {item_id: weight} (a member's or a guest session's current
        history; a plain list of item ids means weight 1 each). Item ids not in the model and
        weights <= 0 are ignored. ``exclude``: optional mapping key -> item ids also left out.
        Returns the columns of ``recommend`` with ``user_id`` = the key; the history's items and
        ``exclude[key]`` are never recommended. A history with no known item gets what an unknown
        user gets (popular items for Popularity / Hybrid, nothing for the others).
        """
        self._check_fitted()
        keys = pd.Series(list(histories), dtype=object if not len(histories) else None).to_numpy()
        x = self._history_matrix([histories[k] for k in keys])
        excluded = x.copy()
        if exclude:
            extra = self._history_matrix([exclude.get(k, ()) for k in keys], weights=False)
            excluded = (excluded + extra).tocsr()
        excluded.data = np.ones_like(excluded.data)
        parts = []
        has = np.diff(x.indptr) > 0
        known = np.flatnonzero(has)
        for s in range(0, len(known), self.batch_size):
            pos = known[s : s + self.batch_size]
            scored = self._score_histories(x[pos])
            parts.append(self._rank_batch(pos, scored, excluded[pos], n))
        empty = np.flatnonzero(~has)
        row = self._unknown_scores() if len(empty) else None
        if row is not None:
            for s in range(0, len(empty), self.batch_size):
                pos = empty[s : s + self.batch_size]
                scores = np.repeat(np.asarray(row, dtype=np.float32)[None, :], len(pos), axis=0)
                _mask_dense(scores, excluded[pos])
                cols, vals = top_n_per_row(scores, n)
                parts.append(self._finish_block(pos, None, cols, vals, unknown_reason=True))
        return self._frame(keys, parts)

    def _history_matrix(self, histories: list, weights: bool = True) -> sp.csr_matrix:
        """CSR (len(histories) x n_items) of {item_id: weight} mappings (or id lists, weight 1)."""
        rows, items, wts = [], [], []
        for r, h in enumerate(histories):
            if isinstance(h, Mapping) and weights:
                ids, w = list(h.keys()), list(h.values())
            else:
                ids = list(h.keys()) if isinstance(h, Mapping) else ([h] if np.isscalar(h) else list(h))
                w = [1.0] * len(ids)
            rows.extend([r] * len(ids))
            items.extend(ids)
            wts.extend(w)
        cols = self.data_.item_cols(pd.Index(items, dtype=object)) if items else np.empty(0, np.int64)
        w = pd.to_numeric(pd.Series(wts, dtype=object), errors="coerce").to_numpy(np.float64)
        ok = (cols >= 0) & np.isfinite(w) & (w > 0)
        m = sp.csr_matrix(
            (w[ok].astype(np.float32), (np.asarray(rows, np.int64)[ok], cols[ok])),
            shape=(len(histories), len(self.item_ids_)),
            dtype=np.float32,
        )
        m.sum_duplicates()
        m.sort_indices()
        return m

    def _finish_block(self, pos, scored: BatchScores | None, cols, vals, unknown_reason=False):
        valid = np.isfinite(vals)
        if self.positive_only:
            valid &= vals > 0
        cols = np.where(valid, cols, -1)
        if unknown_reason:
            codes, rcols = self._unknown_reason(cols)
        else:
            codes, rcols = self._explain(scored, cols)
        ranks = np.cumsum(valid, axis=1)
        upos = np.broadcast_to(np.asarray(pos)[:, None], cols.shape)
        return (
            upos[valid],
            cols[valid],
            vals[valid],
            ranks[valid],
            np.asarray(codes, dtype=object)[valid],
            np.asarray(rcols)[valid],
        )

    def _unknown_reason(self, cols):
        return np.full(cols.shape, "popular", dtype=object), np.full(cols.shape, -1, dtype=np.int64)

    def _frame(self, ids, parts) -> pd.DataFrame:
        if not parts:
            return pd.DataFrame(
                {
                    "user_id": pd.Series([], dtype=pd.Series(ids).dtype if len(ids) else object),
                    "item_id": pd.Series([], dtype=self.item_ids_.dtype),
                    "score": pd.Series([], dtype=np.float64),
                    "rank": pd.Series([], dtype=np.int64),
                    "reason": pd.Series([], dtype=object),
                    "reason_item_id": id_array(self.item_ids_, np.empty(0, np.int64)),
                }
            )
        upos = np.concatenate([p[0] for p in parts])
        order = np.lexsort((np.concatenate([p[3] for p in parts]), upos))
        cols = np.concatenate([p[1] for p in parts])[order]
        rc = np.concatenate([p[5] for p in parts])[order]
        return pd.DataFrame(
            {
                "user_id": np.asarray(ids)[upos[order]],
                "item_id": self.item_ids_.to_numpy()[cols],
                "score": np.concatenate([p[2] for p in parts])[order].astype(np.float64),
                "rank": np.concatenate([p[3] for p in parts])[order].astype(np.int64),
                "reason": np.concatenate([p[4] for p in parts])[order],
                "reason_item_id": id_array(self.item_ids_, rc),
            }
        )

    def similar_items(self, item_ids, n: int = 10) -> pd.DataFrame:
        """Top-n similar items per item: columns item_id, similar_item_id, score, rank."""
        self._check_fitted()
        ids = _as_id_array(item_ids)
        cols = self.data_.item_cols(ids) if len(ids) else np.empty(0, np.int64)
        out_i, out_j, out_s, out_r = [], [], [], []
        known = np.flatnonzero(cols >= 0)
        for s in range(0, len(known), self.batch_size):
            pos = known[s : s + self.batch_size]
            c = cols[pos]
            sims = self._similar_scores(c)
            if sims is None:
                break
            sims = np.asarray(sims, dtype=np.float32)
            sims[np.arange(len(c)), c] = -np.inf
            top, vals = top_n_per_row(sims, n)
            valid = np.isfinite(vals) & (vals > 0)
            ranks = np.cumsum(valid, axis=1)
            out_i.append(np.broadcast_to(pos[:, None], top.shape)[valid])
            out_j.append(top[valid])
            out_s.append(vals[valid])
            out_r.append(ranks[valid])
        if not out_i:
            return pd.DataFrame(
                {
                    "item_id": pd.Series([], dtype=self.item_ids_.dtype),
                    "similar_item_id": pd.Series([], dtype=self.item_ids_.dtype),
                    "score": pd.Series([], dtype=np.float64),
                    "rank": pd.Series([], dtype=np.int64),
                }
            )
        ipos = np.concatenate(out_i)
        return pd.DataFrame(
            {
                "item_id": np.asarray(ids)[ipos],
                "similar_item_id": self.item_ids_.to_numpy()[np.concatenate(out_j)],
                "score": np.concatenate(out_s).astype(np.float64),
                "rank": np.concatenate(out_r).astype(np.int64),
            }
        )


def _mask_dense(scores: np.ndarray, excluded: sp.csr_matrix):
    """Set the (row, item) cells stored in ``excluded`` to -inf in place."""
    r = np.repeat(np.arange(excluded.shape[0]), np.diff(excluded.indptr))
    scores[r, excluded.indices] = -np.inf


def dense(scores) -> np.ndarray:
    """Scores as a dense float32 array (models may return CSR when scores are sparse)."""
    if sp.issparse(scores):
        return scores.toarray().astype(np.float32, copy=False)
    return np.asarray(scores, dtype=np.float32)


def _drop_seen_sparse(scores: sp.csr_matrix, seen: sp.csr_matrix):
    """Set stored scores of seen (row, item) pairs to -inf in place."""
    n_cols = scores.shape[1]
    s_rows = np.repeat(np.arange(scores.shape[0], dtype=np.int64), np.diff(scores.indptr))
    keys = s_rows * n_cols + scores.indices
    seen_keys = (
        np.repeat(np.arange(seen.shape[0], dtype=np.int64), np.diff(seen.indptr)) * n_cols + seen.indices
    )
    seen_keys.sort()
    if len(seen_keys) == 0:
        return
    pos = np.minimum(np.searchsorted(seen_keys, keys), len(seen_keys) - 1)
    scores.data[seen_keys[pos] == keys] = -np.inf


# Seen x candidate pairs looked at in one go when explaining (bounds memory for long histories).
EXPLAIN_PAIRS = 2_000_000


def explain_by_pairs(x: sp.csr_matrix, cands: np.ndarray, contrib) -> np.ndarray:
    """Column of the seen item contributing most to each candidate (-1 if none), over ALL of the history.

    ``contrib(seen_cols, cand_cols)`` gives the similarity-like weight of each seen item towards
    each candidate; it is multiplied by the row's weight on the seen item (``x``), which is that
    item's additive share of the score for the linear models. Ties go to the larger history
    weight, then the lower column.
    """
    x = x.tocsr()
    b, n = cands.shape
    out = np.full(cands.shape, -1, dtype=np.int64)
    if b == 0 or n == 0 or x.nnz == 0:
        return out
    counts = np.diff(x.indptr)
    per_row = np.maximum(counts, 1) * n
    start = 0
    while start < b:
        # rows [start, stop) hold at most EXPLAIN_PAIRS pairs (at least one row)
        stop = start + max(1, int(np.searchsorted(np.cumsum(per_row[start:]), EXPLAIN_PAIRS, side="right")))
        _explain_rows(x, cands, contrib, start, min(stop, b), out)
        start = stop
    return out


def _explain_rows(x, cands, contrib, start, stop, out):
    n = cands.shape[1]
    lo, hi = x.indptr[start], x.indptr[stop]
    if hi == lo:
        return
    erow = np.repeat(np.arange(start, stop), np.diff(x.indptr[start : stop + 1]))
    R = np.repeat(erow, n)
    J = np.repeat(x.indices[lo:hi].astype(np.int64), n)
    W = np.repeat(x.data[lo:hi].astype(np.float32), n)
    slot = np.tile(np.arange(n), hi - lo)
    I = cands[R, slot]
    ok = I >= 0
    R, J, W, slot, I = R[ok], J[ok], W[ok], slot[ok], I[ok]
    if not len(I):
        return
    vals = W * np.asarray(contrib(J, I), dtype=np.float32)
    pos = vals > 0
    R, J, W, slot, vals = R[pos], J[pos], W[pos], slot[pos], vals[pos]
    if not len(vals):
        return
    key = R * n + slot
    order = np.lexsort((J, -W, -vals, key))
    k = key[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    best = order[first]
    out.reshape(-1)[key[best]] = J[best]


class SparseLookup:
    """Cached ``csr_lookup`` for one sparse matrix."""

    def __init__(self, m: sp.csr_matrix):
        self.m = m.tocsr()
        self.m.sort_indices()
        self.keys = csr_keys(self.m)

    def __call__(self, rows, cols):
        return csr_lookup(self.m, rows, cols, self.keys)
