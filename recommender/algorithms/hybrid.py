"""Hybrid: per-user normalised score fusion of the single models, tuned on a validation split."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from .base import BatchScores, Recommender, ScoreCache, TrainingData, _as_id_array, dense
from .evaluation import metrics_from_hits, split_by
from .factorization import ALS, BPR
from .models import (
    EASE,
    AssociationRules,
    ItemKNN,
    ModelUnavailable,
    Popularity,
    PureSVD,
    TfidfContent,
    UserKNN,
)
from .similarity import top_n_per_row

# Untuned blend: the components that carried weight on validation splits of both benchmark data
# sets. UserKNN, AssociationRules, ALS and BPR start at 0 (not fitted) unless tune=True finds them useful.
DEFAULT_WEIGHTS = {
    "ease": 1.0,
    "svd": 1.0,
    "itemknn": 0.5,
    "userknn": 0.0,
    "content": 0.5,
    "rules": 0.0,
    "als": 0.0,
    "bpr": 0.0,
    "popularity": 0.05,
}
DEFAULT_GRID = {
    "itemknn": {"k": [50, 100, 200, 400], "shrinkage": [0.0, 10.0, 50.0]},
    "userknn": {"k": [50, 100, 200], "shrinkage": [0.0, 10.0]},
    "ease": {"l2": [150.0, 300.0, 600.0, 1000.0, 2000.0]},
    "svd": {"factors": [8, 16, 32, 64]},
    "als": {"factors": [32, 64, 128], "regularization": [0.05, 1.0]},
    "bpr": {"factors": [32, 64], "learning_rate": [0.01, 0.05]},
    "popularity": {"half_life_days": [None, 30.0, 120.0]},
}
# A cheaper grid for scheduled training: on the medium demo data it finds the same parameters and
# blend as DEFAULT_GRID in ~3/4 of the time (docs/BENCHMARKS_ENGINE.md).
# ALS gets two sizes (a fit is ~1 s on the medium demo); BPR, weaker on both benchmarks, its defaults only.
NIGHTLY_GRID = {
    "itemknn": {"k": [200, 400], "shrinkage": [10.0, 50.0]},
    "ease": {"l2": [500.0, 2000.0]},
    "als": {"factors": [64, 128]},
}
WEIGHT_STEPS = [0.0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]


# Order in which components are summed (float32 sums depend on it): default_components' order.
COMPONENT_ORDER = ("popularity", "itemknn", "userknn", "ease", "svd", "als", "bpr", "rules", "content")


def _component_order(names) -> list:
    """Names in COMPONENT_ORDER first, others after in their given order."""
    names = list(names)
    rank = {n: i for i, n in enumerate(COMPONENT_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), names.index(n)))


def default_components(items: pd.DataFrame | None = None) -> dict:
    comps = {
        "popularity": Popularity(),
        "itemknn": ItemKNN(),
        "userknn": UserKNN(),
        "ease": EASE(),
        "svd": PureSVD(),
        "als": ALS(),
        "bpr": BPR(),
        "rules": AssociationRules(),
    }
    if items is not None:
        comps["content"] = TfidfContent()
    return comps


def _normalise(scores: np.ndarray) -> np.ndarray:
    """Per-user scaling to [0, 1]: negative scores clipped, divided by the row maximum."""
    s = np.maximum(scores, 0.0, out=scores)
    top = s.max(axis=1, keepdims=True)
    top[top <= 0] = 1.0
    s /= top
    return s


def _row_max(m: sp.csr_matrix) -> np.ndarray:
    """Row maxima of stored entries (1 for empty or non-positive rows) without sorting indices."""
    counts = np.diff(m.indptr)
    top = np.ones(m.shape[0], dtype=np.float32)
    nonempty = counts > 0
    if nonempty.any():
        top[nonempty] = np.maximum.reduceat(m.data, m.indptr[:-1][nonempty])
    top[top <= 0] = 1.0
    return top


def _rank_scores(scores: np.ndarray, rrf_k: float = 60.0) -> np.ndarray:
    """Reciprocal-rank scores 1 / (rrf_k + rank) for positive scores, 0 elsewhere."""
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[1] + 1)[None, :].repeat(len(scores), 0), axis=1)
    return np.where(scores > 0, 1.0 / (rrf_k + ranks), 0.0).astype(np.float32)


class Hybrid(Recommender):
    """Blend of the single models, falling back by how much history a user has.

    ``models``: dict name -> unfitted model (default: popularity, itemknn, userknn, ease, rules,
    plus content when ``items`` are given). ``weights``: dict name -> blend weight (default
    ``DEFAULT_WEIGHTS``). ``fusion``: ``"score"`` (sum of weight x per-user max-normalised scores)
    or ``"rank"`` (weighted reciprocal rank fusion). Models that cannot fit (EASE over its
    ``max_items``, content without items) are skipped and listed in ``unavailable_``.

    ``tune=True`` holds out ``validation_size`` of each user's training pairs, grid-searches each
    model's key hyperparameters (``param_grid``, default ``DEFAULT_GRID``) and then the blend
    weights (coordinate search over ``WEIGHT_STEPS``) for ``tune_metric`` at ``k``, and refits on
    the whole training data; results in ``best_params_``, ``weights_`` and ``tuning_``.

    Users without history get popularity; users with fewer than ``cold_threshold`` items get the
    content weight multiplied by ``cold_content_boost`` (at least ``cold_content_weight``).
    Components are fitted in ``n_jobs`` threads (results do not depend on it).
    """

    reason_code = "hybrid"
    validation = "random"  # class default: a Hybrid pickled before the parameter existed still clones

    def __init__(
        self,
        models: dict | None = None,
        weights: dict | None = None,
        fusion: str = "score",
        tune: bool = False,
        validation_size: float = 0.2,
        tune_metric: str = "ndcg",
        k: int = 10,
        param_grid: dict | None = None,
        max_tune_users: int = 5000,
        cold_threshold: int = 3,
        cold_content_boost: float = 3.0,
        cold_content_weight: float = 0.3,
        random_state: int = 42,
        n_jobs: int = 2,
        verbose: bool = False,
        validation: str = "random",
    ):
        self.models = models
        self.weights = weights
        self.fusion = fusion
        self.tune = tune
        self.validation_size = validation_size
        self.tune_metric = tune_metric
        self.k = k
        self.param_grid = param_grid
        self.max_tune_users = max_tune_users
        self.cold_threshold = cold_threshold
        self.cold_content_boost = cold_content_boost
        self.cold_content_weight = cold_content_weight
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.validation = validation  # "random" | "temporal" (each user's latest share; needs timestamps)

    # -- fitting -----------------------------------------------------------------------------------
    def _templates(self, items) -> dict:
        return dict(self.models) if self.models is not None else default_components(items)

    def _fit_components(self, data, items, templates, params, weights, need=("popularity",)):
        """Fit the components in a small thread pool: EASE's LAPACK and most NumPy/SciPy kernels
        release the GIL, and the single-threaded sparse work would otherwise leave a core idle."""
        from concurrent.futures import ThreadPoolExecutor

        todo = [
            (n, clone(t).set_params(**params.get(n, {})))
            for n, t in templates.items()
            if weights.get(n, 0.0) > 0 or n in need
        ]
        todo.sort(key=lambda nm: nm[0] != "ease")  # longest first

        def fit_one(nm):
            name, model = nm
            try:
                return name, model.fit_data(data, items), None
            except ModelUnavailable as exc:
                return name, None, str(exc)

        if self.n_jobs and self.n_jobs > 1 and len(todo) > 1:
            from threadpoolctl import threadpool_limits

            # one BLAS thread per fitting thread: no oversubscription (OpenBLAS spins badly under it)
            with threadpool_limits(1), ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
                results = list(pool.map(fit_one, todo))
        else:
            results = [fit_one(nm) for nm in todo]
        order = _component_order(templates)
        fitted = {n: m for n, m, e in sorted(results, key=lambda r: order.index(r[0])) if m is not None}
        unavailable = {n: e for n, m, e in results if e is not None}
        return fitted, unavailable

    def _fit(self, data: TrainingData, items):
        templates = self._templates(items)
        weights = dict(DEFAULT_WEIGHTS if self.weights is None else self.weights)
        weights = {n: float(weights.get(n, 0.0)) for n in templates}
        params = {}
        self.tuning_ = None
        if self.tune:
            params, weights, self.tuning_ = self._tune(data, items, templates, weights)
        if "popularity" not in templates:
            # always there for unknown users; blended only when the caller's weights ask for it
            templates["popularity"] = Popularity()
            if not self.tune and self.weights is not None:
                weights["popularity"] = float(self.weights.get("popularity", 0.0))
        self.components_, self.unavailable_ = self._fit_components(data, items, templates, params, weights)
        self.weights_ = {n: weights.get(n, 0.0) for n in self.components_}
        self.best_params_ = params
        self.n_seen_ = np.diff(data.matrix.indptr)  # items per training user: who counts as cold

    @classmethod
    def from_tuned(cls, tuned: Hybrid, items: pd.DataFrame | None = None) -> Hybrid:
        """An unfitted Hybrid that fits with what ``tuned`` chose on its validation split
        (component parameters and blend weights), without tuning again: the nightly run tunes on
        its evaluation split once, then refits on all data with those choices.
        """
        check_is_fitted(tuned, "best_params_", msg="from_tuned needs a fitted Hybrid; %(name)s is not fitted")
        models = {
            n: clone(t).set_params(**tuned.best_params_.get(n, {}))
            for n, t in tuned._templates(items).items()
        }
        return clone(tuned).set_params(models=models, weights=dict(tuned.weights_), tune=False)

    @classmethod
    def from_fitted(cls, components: dict, weights: dict | None = None, **params) -> Hybrid:
        """A fitted Hybrid that blends already-fitted models instead of refitting them.

        ``components``: dict name -> fitted model (names as in ``DEFAULT_WEIGHTS``; a value of
        ``None`` means "could not be fitted" and lands in ``unavailable_``). All models must have
        been fitted on the same users and items (e.g. ``fit_data`` on one ``TrainingData``, or
        ``fit`` on the same frames). Popularity is fitted here (cheap) when not given: it answers
        unknown users. With the same constructor defaults this recommends exactly what
        ``Hybrid(weights=weights).fit(...)`` does, without fitting anything twice. ``tune=True``
        is refused: tuning needs refits on a validation split.
        """
        if params.get("tune"):
            raise ValueError("from_fitted blends fitted models as they are; tune=True needs Hybrid().fit()")
        hybrid = cls(weights=weights, **params)
        hybrid._adopt(components)
        return hybrid

    def _adopt(self, components: dict):
        given = {n: m for n, m in components.items() if m is not None}
        if not given:
            raise ValueError("from_fitted needs at least one fitted model")
        for name, model in given.items():
            check_is_fitted(model, msg=f"component {name!r} is not fitted")
        data = next(iter(given.values())).data_
        for name, model in given.items():
            if model.data_ is not data and not (
                model.user_ids_.equals(data.users) and model.item_ids_.equals(data.items)
            ):
                raise ValueError(f"component {name!r} was fitted on other users or items than the rest")
        weights = dict(DEFAULT_WEIGHTS if self.weights is None else self.weights)
        keep = {n: m for n, m in given.items() if float(weights.get(n, 0.0)) > 0 or n == "popularity"}
        if "popularity" not in given:
            # as in fit(): for unknown users; blended only when explicit weights ask for it
            keep["popularity"] = Popularity().fit_data(data)
            if self.weights is None:
                weights["popularity"] = 0.0
        order = _component_order(keep)
        self.data_, self.user_ids_, self.item_ids_ = data, data.users, data.items
        self.components_ = {n: keep[n] for n in order}
        self.weights_ = {n: float(weights.get(n, 0.0)) for n in self.components_}
        self.unavailable_ = {n: "not fitted" for n, m in components.items() if m is None}
        self.best_params_ = {}
        self.tuning_ = None
        self.n_seen_ = np.diff(data.matrix.indptr)

    # -- tuning ------------------------------------------------------------------------------------
    def _tune(self, data, items, templates, weights):
        rng = np.random.default_rng(self.random_state)
        fit_pairs, val_pairs = split_by(self.validation, data.pairs, self.validation_size, self.random_state)
        sub = data.subset(fit_pairs)
        val_users = pd.unique(val_pairs["user_id"])
        cap = int(min(self.max_tune_users, max(200, 2e7 // max(len(data.items), 1))))
        if len(val_users) > cap:
            val_users = rng.choice(val_users, size=cap, replace=False)
        rows = sub.user_rows(val_users)
        keep = rows >= 0
        val_users, rows = val_users[keep], rows[keep]
        vp = val_pairs[val_pairs["user_id"].isin(val_users)]
        truth = sp.csr_matrix(
            (
                np.ones(len(vp), np.float32),
                (pd.Index(val_users).get_indexer(vp["user_id"]), data.item_cols(vp["item_id"])),
            ),
            shape=(len(val_users), len(data.items)),
        )
        truth.data[:] = 1.0
        n_rel = np.diff(truth.indptr)
        has = n_rel > 0
        seen = sub.matrix[rows]
        truth_dense = truth[has].toarray() > 0
        grid = DEFAULT_GRID if self.param_grid is None else self.param_grid
        trials = []

        def evaluate(scores):
            s = scores.copy()
            r = np.repeat(np.arange(len(rows)), np.diff(seen.indptr))
            s[r, seen.indices] = -np.inf
            cols, vals = top_n_per_row(s[has], self.k)
            hits = np.take_along_axis(truth_dense, cols, axis=1)
            hits &= np.isfinite(vals) & (vals > 0)
            return metrics_from_hits(hits, n_rel[has], self.k)

        best_params, norm = {}, {}
        for name, tpl in templates.items():
            options = grid.get(name, {})
            combos = [dict(zip(options, v)) for v in _product(options)] if options else [{}]
            best = None
            for p in combos:
                try:
                    model = clone(tpl).set_params(**p).fit_data(sub, items)
                except ModelUnavailable as exc:
                    trials.append({"stage": "params", "model": name, "params": p, "error": str(exc)})
                    continue
                sc = self._component_scores(model, rows)
                m = evaluate(sc)
                trials.append({"stage": "params", "model": name, "params": p, **m})
                if self.verbose:
                    print(f"tune {name} {p}: {m[self.tune_metric]:.4f}")
                if best is None or m[self.tune_metric] > best[0]:
                    best = (m[self.tune_metric], p, sc)
            if best is not None:
                best_params[name] = best[1]
                norm[name] = self._fuse_input(best[2])
        # Coordinate search on the blend weights, starting from the best single model.
        names = list(norm)
        if not names:
            return best_params, weights, pd.DataFrame(trials)
        single = {
            n: max(t[self.tune_metric] for t in trials if t.get("model") == n and self.tune_metric in t)
            for n in names
        }
        w = {n: 0.0 for n in names}
        w[max(single, key=single.get)] = 1.0

        def blend_metric(wts):
            total = np.zeros_like(norm[names[0]])
            for n in names:
                if wts[n] > 0:
                    total += np.float32(wts[n]) * norm[n]
            return evaluate(total)[self.tune_metric]

        current = blend_metric(w)
        for _ in range(3):
            improved = False
            for n in names:
                for step in WEIGHT_STEPS:
                    if step == w[n]:
                        continue
                    cand = dict(w, **{n: step})
                    if not any(v > 0 for v in cand.values()):
                        continue
                    val = blend_metric(cand)
                    if val > current + 1e-6:
                        current, w, improved = val, cand, True
            trials.append(
                {"stage": "weights", "model": "hybrid", "params": dict(w), self.tune_metric: current}
            )
            if self.verbose:
                print(f"tune weights {w}: {current:.4f}")
            if not improved:
                break
        return best_params, w, pd.DataFrame(trials)

    def _component_scores(self, model, rows):
        out = np.zeros((len(rows), len(model.item_ids_)), dtype=np.float32)
        for s in range(0, len(rows), self.batch_size):
            out[s : s + self.batch_size] = dense(model._scores(rows[s : s + self.batch_size]))
        return out

    def _fuse_input(self, scores):
        return _rank_scores(scores) if self.fusion == "rank" else _normalise(scores)

    # -- scoring -----------------------------------------------------------------------------------
    def recommend(self, user_ids=None, n: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """As ``Recommender.recommend``; with ``n_jobs`` > 1 and more users than one batch, the users
        are split into ``n_jobs`` contiguous chunks scored in threads (the sparse products, BLAS and
        partitions release the GIL). Same rows in the same order as with one thread."""
        self._check_fitted()
        ids = self.user_ids_.to_numpy() if user_ids is None else _as_id_array(user_ids)
        jobs = int(self.n_jobs or 1)
        if jobs <= 1 or len(ids) <= self.batch_size:
            return super().recommend(ids, n=n, exclude_seen=exclude_seen)
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        chunks = [c for c in np.array_split(np.asarray(ids), jobs) if len(c)]
        with threadpool_limits(1), ThreadPoolExecutor(max_workers=jobs) as pool:
            parts = list(
                pool.map(lambda c: super(Hybrid, self).recommend(c, n=n, exclude_seen=exclude_seen), chunks)
            )
        return pd.concat(parts, ignore_index=True)

    # -- scoring internals -----------------------------------------------------------------------------------
    def _scores(self, rows):
        return self._score_batch(rows).scores

    def _scores_x(self, x):
        return self._score_histories(x).scores

    def _score_batch(self, rows, cache: ScoreCache | None = None) -> BatchScores:
        """The blend for a batch of training users; component scores already computed for these
        rows are taken from ``cache``."""

        def raw_scores(model):
            raw = cache.take(model, rows) if cache is not None else None
            return model._scores(rows) if raw is None else raw

        return self._blend(rows, self.data_.matrix[rows], self.n_seen_[rows], raw_scores)

    def _score_histories(self, x) -> BatchScores:
        """The blend for folded-in histories: each component's fold-in, the same weights, normalisation
        and cold-start rule (history length = its items known to the model)."""
        return self._blend(None, x, np.diff(x.indptr), lambda model: model._scores_x(x))

    def _blend(self, rows, x, hist, raw_scores) -> BatchScores:
        """The blend with each component's weighted share in ``parts`` (what ``_explain`` needs)."""
        cold = hist < self.cold_threshold
        b = x.shape[0]
        total = np.zeros((b, len(self.item_ids_)), dtype=np.float32)
        parts = {}
        for name, model in self.components_.items():
            w = np.full(b, self.weights_.get(name, 0.0), dtype=np.float32)
            if name == "content":
                w[cold] = np.maximum(w[cold] * self.cold_content_boost, self.cold_content_weight)
            if not np.any(w > 0):
                continue
            raw = raw_scores(model)
            if self.fusion == "score":
                if sp.issparse(raw):
                    # normalise the stored entries only, then densify once (C loop)
                    raw = raw.tocsr()
                    raw.data = np.maximum(raw.data, 0.0).astype(np.float32, copy=False)
                    top = _row_max(raw)
                    raw.data *= np.repeat(w / top, np.diff(raw.indptr))
                    part = raw.toarray()
                else:
                    part = np.asarray(raw, dtype=np.float32)
                    np.maximum(part, 0.0, out=part)
                    top = part.max(axis=1)
                    top[top <= 0] = 1.0
                    part *= (w / top)[:, None]
            else:
                part = _rank_scores(dense(raw)) * w[:, None]
            total += part
            parts[name] = part
        return BatchScores(rows, total, parts, x=x)

    def _unknown_scores(self):
        return self.components_["popularity"]._unknown_scores()

    def _explain(self, scored: BatchScores, cands):
        """Each candidate gets the reason of the component with the largest share in its score."""
        parts = scored.parts
        codes = np.full(cands.shape, "popular", dtype=object)
        rcols = np.full(cands.shape, -1, dtype=np.int64)
        if not parts:
            return codes, rcols
        names = list(parts)
        safe = np.where(cands >= 0, cands, 0)
        contrib = np.stack([np.take_along_axis(parts[n], safe, axis=1) for n in names])
        winner = np.argmax(contrib, axis=0)
        for idx, name in enumerate(names):
            mask = (winner == idx) & (cands >= 0)
            if not mask.any():
                continue
            c, r = self.components_[name]._explain(
                BatchScores(scored.rows, None, x=self._history(scored)), np.where(mask, cands, -1)
            )
            codes[mask] = c[mask]
            rcols[mask] = r[mask]
        return codes, rcols

    def _similar_scores(self, cols):
        total = np.zeros((len(cols), len(self.item_ids_)), dtype=np.float32)
        for name, model in self.components_.items():
            w = self.weights_.get(name, 0.0)
            if name == "popularity" or w <= 0:
                continue
            sims = model._similar_scores(cols)
            if sims is None:
                continue
            sims = np.asarray(sims, dtype=np.float32).copy()
            sims[np.arange(len(cols)), cols] = 0.0
            total += np.float32(w) * _normalise(sims)
        return total


def _product(options: dict):
    return itertools.product(*options.values())
