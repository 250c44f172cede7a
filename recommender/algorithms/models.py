"""The single models: Popularity, UserKNN, ItemKNN, TfidfContent, AssociationRules, EASE, PureSVD."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import lapack

# Imported here, not inside fit(): Hybrid fits components in threads, and two threads importing
# scikit-learn at once can see a half-initialised module ("cannot import name 'clone'").
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.extmath import randomized_svd

from .base import Recommender, SparseLookup, TrainingData, explain_by_pairs
from .data import basket_matrix
from .similarity import blockwise_top_k, center_rows, cosine_top_k, pearson_top_k, top_n_sparse


class ModelUnavailable(ValueError):
    """The model cannot be fitted on this data (e.g. EASE on too many items, content without items)."""


def _binarize(m: sp.csr_matrix) -> sp.csr_matrix:
    m = m.copy()
    m.data[:] = 1.0
    return m


class Popularity(Recommender):
    """Most popular items: number of users (or summed weight) per item.

    ``half_life_days`` weights each interaction by ``0.5 ** (age / half_life)`` from the latest
    timestamp, so recently popular items rise. Recommends the same list to everyone (minus seen
    items), including unknown users: the cold-start fallback.
    """

    reason_code = "popular"

    def __init__(self, half_life_days: float | None = None, use_weights: bool = False):
        self.half_life_days = half_life_days
        self.use_weights = use_weights

    def _fit(self, data: TrainingData, items):
        pairs = data.pairs
        w = pairs["weight"].to_numpy(np.float64) if self.use_weights else np.ones(len(pairs))
        if self.half_life_days and "timestamp" in pairs.columns and len(pairs):
            ts = pairs["timestamp"].to_numpy(np.float64)
            ref = np.nanmax(ts)
            age = np.where(np.isfinite(ts), (ref - ts) / 86400.0, 0.0)
            w = w * np.power(0.5, age / float(self.half_life_days))
        cols = data.item_cols(pairs["item_id"].to_numpy())
        pop = np.bincount(cols, weights=w, minlength=len(data.items)).astype(np.float32)
        self.popularity_ = pop

    def _scores_x(self, x):
        return np.repeat(self.popularity_[None, :], x.shape[0], axis=0)

    def _unknown_scores(self):
        return self.popularity_

    def _similar_scores(self, cols):
        return np.repeat(self.popularity_[None, :], len(cols), axis=0)


class ItemKNN(Recommender):
    """Item-based neighbourhood model: score(u, i) = sum over seen j of w_uj * sim(i, j).

    ``similarity``: ``"cosine"`` or ``"adjusted_cosine"`` (each user's weights centred on their
    mean first; only meaningful with graded weights such as events or ratings, since centred
    binary rows are all zero). Similarity is
    ``dot / (|a||b| + shrinkage)``; only the top ``k`` neighbours per item are kept, in a sparse
    item x item matrix computed in blocks (fits 100,000-item catalogues).
    """

    reason_code = "similar_to_seen"

    def __init__(self, k: int = 200, shrinkage: float = 10.0, similarity: str = "cosine"):
        self.k = k
        self.shrinkage = shrinkage
        self.similarity = similarity

    def _fit(self, data, items):
        x = data.matrix
        if self.similarity == "adjusted_cosine":
            x = center_rows(x)
        elif self.similarity != "cosine":
            raise ValueError("similarity must be 'cosine' or 'adjusted_cosine'")
        self.similarity_ = cosine_top_k(x.T.tocsr(), self.k, self.shrinkage)
        self.scoring_ = self.similarity_.T.tocsr()  # seen item -> target item, for x_u @ scoring_
        self.similarity_lookup_ = SparseLookup(self.similarity_)

    def _scores_x(self, x):
        return (x @ self.scoring_).astype(np.float32, copy=False)

    def _explain(self, scored, cands):
        contrib = lambda j, i: self.similarity_lookup_(i, j)  # noqa: E731  sim(i, j) as kept for target i
        rc = explain_by_pairs(self._history(scored), cands, contrib)
        return np.full(cands.shape, self.reason_code, dtype=object), rc

    def _similar_scores(self, cols):
        return self.similarity_[cols].toarray()


def _row_norms(m):
    return np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel()).astype(np.float32)


def _cap_item_users(x: sp.csr_matrix, cap: int | None, seed: int) -> sp.csr_matrix:
    """Keep at most ``cap`` random users per item for the user-user similarity.

    User-user products cost sum(item degree^2), dominated by a few blockbuster items that say
    little about who is similar to whom; sampling them bounds the cost on big data and leaves
    small data (every item under the cap) exact.
    """
    if cap is None:
        return x
    xc = x.tocsc()
    deg = np.diff(xc.indptr)
    if deg.max(initial=0) <= cap:
        return x
    rng = np.random.default_rng(seed)
    keep = np.ones(xc.nnz, dtype=bool)
    for j in np.flatnonzero(deg > cap):
        s, e = xc.indptr[j], xc.indptr[j + 1]
        drop = rng.choice(e - s, size=e - s - cap, replace=False)
        keep[s + drop] = False
    xc = xc.copy()
    xc.data = np.where(keep, xc.data, 0).astype(xc.data.dtype)
    xc.eliminate_zeros()
    return xc.tocsr()


class UserKNN(Recommender):
    """User-based neighbourhood model: score(u, i) = sum over the k most similar users v of sim(u, v) * w_vi.

    ``similarity``: ``"cosine"`` or ``"pearson"`` (centred over all items, positive values only);
    ``dot / (|a||b| + shrinkage)``. User-user top-k is computed in blocks with sparse products;
    items with more than ``max_item_users`` users contribute a seeded sample of that many users
    to the similarity (bounds the cost on big data; exact when no item is that popular).
    Reasons are ``neighbours_liked`` without an item. ``similar_items`` uses item cosine.
    """

    reason_code = "neighbours_liked"

    def __init__(
        self,
        k: int = 100,
        shrinkage: float = 0.0,
        similarity: str = "cosine",
        max_item_users: int | None = 1000,
        random_state: int = 42,
    ):
        self.k = k
        self.shrinkage = shrinkage
        self.similarity = similarity
        self.max_item_users = max_item_users
        self.random_state = random_state

    def _fit(self, data, items):
        x = data.matrix
        xs = _cap_item_users(x, self.max_item_users, self.random_state)
        if self.similarity == "cosine":
            self.similarity_ = cosine_top_k(xs, self.k, self.shrinkage, norms=_row_norms(x))
        elif self.similarity == "pearson":
            self.similarity_ = pearson_top_k(xs, self.k, self.shrinkage)
        else:
            raise ValueError("similarity must be 'cosine' or 'pearson'")
        xt = x.T.tocsr()
        norms = np.sqrt(np.asarray(xt.multiply(xt).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.item_unit_ = sp.diags(1.0 / norms).astype(np.float32) @ xt  # unit-length item rows
        # what a folded-in history is compared with: the rows the neighbours were computed from
        xs = xs.astype(np.float32)
        self.neighbour_rows_t_ = xs.T.tocsr()
        self.user_norms_ = _row_norms(x)
        n = xs.shape[1]
        self.user_means_ = (np.asarray(xs.sum(axis=1)).ravel() / max(n, 1)).astype(np.float32)
        sq = np.asarray(xs.multiply(xs).sum(axis=1)).ravel()
        self.user_sds_ = np.sqrt(
            np.clip(sq - n * self.user_means_.astype(np.float64) ** 2, 0.0, None)
        ).astype(np.float32)

    def _scores(self, rows):
        return (self.similarity_[rows] @ self.data_.matrix).astype(np.float32, copy=False)

    def _scores_x(self, x):
        """Neighbours of fresh histories among the training users, by the similarity used in fit
        (a training row folded in finds itself as its first neighbour; its own items are seen anyway)."""
        return (self._neighbours(x) @ self.data_.matrix).astype(np.float32, copy=False)

    def _neighbours(self, x) -> sp.csr_matrix:
        x = x.tocsr().astype(np.float32)
        dots = (x @ self.neighbour_rows_t_).tocsr()
        rows = np.repeat(np.arange(x.shape[0]), np.diff(dots.indptr))
        if self.similarity == "cosine":
            denom = _row_norms(x)[rows] * self.user_norms_[dots.indices] + np.float32(self.shrinkage)
            denom[denom == 0] = 1.0
        else:  # pearson, centred over all items as in pearson_top_k
            n = x.shape[1]
            xm = (np.asarray(x.sum(axis=1)).ravel() / max(n, 1)).astype(np.float32)
            sq = np.asarray(x.multiply(x).sum(axis=1)).ravel()
            xsd = np.sqrt(np.clip(sq - n * xm.astype(np.float64) ** 2, 0.0, None)).astype(np.float32)
            dots.data = dots.data - np.float32(n) * xm[rows] * self.user_means_[dots.indices]
            denom = xsd[rows] * self.user_sds_[dots.indices] + np.float32(self.shrinkage)
            denom[denom == 0] = np.inf
        dots.data = (dots.data / denom).astype(np.float32)
        cols, vals = top_n_sparse(dots, self.k, 0.0)
        keep = cols >= 0
        r = np.repeat(np.arange(x.shape[0]), keep.sum(axis=1))
        return sp.csr_matrix(
            (vals[keep], (r, cols[keep])), shape=(x.shape[0], len(self.user_ids_)), dtype=np.float32
        )

    def _similar_scores(self, cols):
        return (self.item_unit_[cols] @ self.item_unit_.T).toarray()


# -- content ------------------------------------------------------------------------------------
_JIEBA = None
_JIEBA_LOCK = threading.Lock()


def _jieba():
    """Import and initialise jieba once (thread-safe), quietly: it logs to stderr by default."""
    global _JIEBA
    if _JIEBA is None:
        with _JIEBA_LOCK:
            if _JIEBA is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _JIEBA = jieba
    return _JIEBA


def _is_word(tok: str) -> bool:
    return any(ch.isalnum() for ch in tok)


def jieba_tokenize(text: str) -> list[str]:
    """Words: jieba segmentation for Chinese, whitespace/punctuation split for Latin text."""
    return [t for t in (w.strip() for w in _jieba().lcut(text.lower())) if t and _is_word(t)]


def _cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def char_ngram_tokenize(text: str) -> list[str]:
    """Character uni+bigrams of each Chinese run, plus character 3-grams of Latin words."""
    out = []
    text = text.lower()
    run, word = [], []

    def flush_run():
        out.extend(run)
        out.extend(a + b for a, b in zip(run, run[1:]))
        run.clear()

    def flush_word():
        if word:
            w = "<" + "".join(word) + ">"
            out.extend(w[i : i + 3] for i in range(max(1, len(w) - 2)))
            word.clear()

    for ch in text:
        if _cjk(ch):
            flush_word()
            run.append(ch)
        elif ch.isalnum():
            flush_run()
            word.append(ch)
        else:
            flush_run()
            flush_word()
    flush_run()
    flush_word()
    return out


TOKENIZERS = {"jieba": jieba_tokenize, "char": char_ngram_tokenize}


def item_texts(items: pd.DataFrame, item_ids: pd.Index, fields, title_weight: int = 2) -> list[str]:
    """One text per item id (empty for items missing from ``items``); the title repeated."""
    df = items.drop_duplicates("item_id").set_index("item_id")
    parts = []
    for f in fields:
        if f in df.columns:
            col = df[f].astype("string").fillna("").astype(str)
            parts.append((col + " ") * (title_weight if f == "title" else 1))
    text = parts[0] if parts else pd.Series("", index=df.index)
    for p in parts[1:]:
        text = text + " " + p
    return text.reindex(item_ids).fillna("").tolist()


class TfidfContent(Recommender):
    """Content model: TF-IDF over title, category, brand and description.

    A user profile is the weighted sum of the TF-IDF vectors of the items they interacted
    with; items are scored by cosine with the profile. ``tokenizer``: ``"jieba"`` (default,
    words; Chinese segmented by jieba, initialised lazily and quietly) or ``"char"`` (Chinese
    character uni/bigrams, Latin character trigrams). Needs ``items`` in ``fit``.
    """

    reason_code = "content_match"

    def __init__(
        self,
        tokenizer: str = "jieba",
        fields=("title", "category", "brand", "description"),
        title_weight: int = 2,
        min_df: int = 1,
        max_df: float = 0.5,
        sublinear_tf: bool = True,
    ):
        self.tokenizer = tokenizer
        self.fields = fields
        self.title_weight = title_weight
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf

    def _fit(self, data, items):
        if items is None or "item_id" not in getattr(items, "columns", []):
            raise ModelUnavailable("TfidfContent needs an items frame with item_id and text columns")
        texts = item_texts(items, data.items, tuple(self.fields), self.title_weight)
        self.vectorizer_ = TfidfVectorizer(
            tokenizer=TOKENIZERS[self.tokenizer],
            token_pattern=None,
            lowercase=False,
            min_df=self.min_df,
            max_df=self.max_df if len(texts) > 20 else 1.0,
            sublinear_tf=self.sublinear_tf,
            dtype=np.float32,
        )
        try:
            v = self.vectorizer_.fit_transform(texts)
        except ValueError:  # empty vocabulary: no usable text
            v = sp.csr_matrix((len(texts), 1), dtype=np.float32)
        self.item_vectors_ = v.tocsr()
        self.item_vectors_t_ = self.item_vectors_.T.tocsr()

    def _scores_x(self, x):
        prof = x @ self.item_vectors_
        norms = np.sqrt(np.asarray(prof.multiply(prof).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        prof = sp.diags(1.0 / norms).astype(np.float32) @ prof
        return (prof @ self.item_vectors_t_).astype(np.float32, copy=False)

    def _pair_cosine(self, j, i):
        v = self.item_vectors_
        return np.asarray(v[j].multiply(v[i]).sum(axis=1)).ravel()

    def _explain(self, scored, cands):
        rc = explain_by_pairs(self._history(scored), cands, self._pair_cosine)
        return np.full(cands.shape, self.reason_code, dtype=object), rc

    def _similar_scores(self, cols):
        return (self.item_vectors_[cols] @ self.item_vectors_t_).toarray()


class AssociationRules(Recommender):
    """Pair rules "bought A -> also buys B" over baskets (``basket_id``; the user when absent).

    support = baskets with both / baskets, confidence = baskets with both / baskets with A,
    lift = confidence / support(B). Rules need ``min_count`` co-occurring baskets (or
    ``min_support`` as a fraction) and ``min_confidence``; the best ``max_rules_per_item`` per
    antecedent (by ``metric``) are kept. ``rules_`` lists them; scoring sums the confidences of
    rules whose antecedent the user has.
    """

    reason_code = "bought_together"

    def __init__(
        self,
        min_count: int = 2,
        min_support: float = 0.0,
        min_confidence: float = 0.01,
        max_rules_per_item: int = 100,
        metric: str = "confidence",
    ):
        self.min_count = min_count
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.max_rules_per_item = max_rules_per_item
        self.metric = metric

    def _fit(self, data, items):
        b = basket_matrix(data.events, data.items)
        n_baskets = max(b.shape[0], 1)
        counts = np.asarray(b.sum(axis=0)).ravel().astype(np.float32)
        min_c = max(float(self.min_count), float(self.min_support) * n_baskets)
        safe = np.where(counts > 0, counts, 1.0).astype(np.float32)
        item_support = counts / n_baskets
        metric = self.metric

        def transform(values, rows, cols):
            conf = values / safe[rows]
            conf[(values < min_c) | (conf < self.min_confidence)] = 0.0
            if metric == "lift":
                return conf / np.where(item_support > 0, item_support, 1.0)[cols]
            return conf

        bt = b.T.tocsr()
        r = blockwise_top_k(bt, b, self.max_rules_per_item, transform)
        if metric == "lift":  # keep confidence as the scoring weight
            coo = r.tocoo()
            r = sp.csr_matrix((coo.data * item_support[coo.col], (coo.row, coo.col)), shape=r.shape)
            r.sort_indices()
        self.confidence_ = r
        coo = r.tocoo()
        conf = coo.data.astype(np.float64)
        both = conf * counts[coo.row]
        ids = data.items.to_numpy()
        self.rules_ = (
            pd.DataFrame(
                {
                    "antecedent": ids[coo.row],
                    "consequent": ids[coo.col],
                    "support": both / n_baskets,
                    "confidence": conf,
                    "lift": conf / np.where(item_support[coo.col] > 0, item_support[coo.col], 1.0),
                }
            ).sort_values(
                ["antecedent", "confidence", "consequent"], ascending=[True, False, True], ignore_index=True
            )
            if len(conf)
            else pd.DataFrame(columns=["antecedent", "consequent", "support", "confidence", "lift"])
        )
        self.n_baskets_ = int(b.shape[0])
        self.confidence_lookup_ = SparseLookup(r)

    def _scores_x(self, x):
        return (_binarize(x) @ self.confidence_).astype(np.float32, copy=False)

    def _explain(self, scored, cands):
        rc = explain_by_pairs(_binarize(self._history(scored)), cands, self.confidence_lookup_)
        return np.full(cands.shape, self.reason_code, dtype=object), rc

    def _similar_scores(self, cols):
        return self.confidence_[cols].toarray()


def _mirror_lower(p: np.ndarray, block: int = 1024):
    """Copy the lower triangle onto the upper one in place (LAPACK fills only one triangle)."""
    n = p.shape[0]
    for s in range(0, n, block):
        e = min(s + block, n)
        p[s:e, e:] = p[e:, s:e].T
        sub = p[s:e, s:e]
        iu = np.triu_indices(e - s, 1)
        sub[iu] = sub.T[iu]


class EASE(Recommender):
    """EASE (Steck 2019): B = I - P diagMat(1/diag(P)), P = (X'X + l2 I)^-1, diag(B) = 0.

    Dense item x item, so it refuses catalogues above ``max_items`` with ``ModelUnavailable``
    (10,000 items: ~400 MB and ~6 s on 2 cores in float32).
    """

    reason_code = "similar_to_seen"
    binary = False  # class default: an EASE pickled before the parameter existed still clones

    def __init__(self, l2: float = 500.0, max_items: int = 20_000, binary: bool = False):
        self.l2 = l2
        self.max_items = max_items
        self.binary = binary  # every interaction 1 (training and scoring) instead of its event weight

    def _fit(self, data, items):
        n = data.matrix.shape[1]
        if n > self.max_items:
            raise ModelUnavailable(f"EASE needs a dense {n} x {n} matrix; max_items is {self.max_items}")
        x = self._input(data.matrix)
        g = (x.T @ x).toarray().astype(np.float32)
        g[np.diag_indices(n)] += np.float32(self.l2)
        c, info = lapack.spotrf(g, lower=1, overwrite_a=1)
        if info != 0:
            raise ModelUnavailable(f"EASE Gram matrix is not positive definite (info={info}); raise l2")
        p, info = lapack.spotri(c, lower=1, overwrite_c=1)
        del c, g
        _mirror_lower(p)
        diag = np.diag(p).copy()
        p /= -diag[None, :]
        p[np.diag_indices(n)] = 0.0
        self.weights_ = np.ascontiguousarray(p)

    def _input(self, x):
        x = x.astype(np.float32)  # a copy
        if getattr(self, "binary", False):  # models pickled before the parameter existed are weighted
            x.data[:] = 1.0
        return x

    def _scores_x(self, x):
        return np.asarray(self._input(x) @ self.weights_, dtype=np.float32)

    def _explain(self, scored, cands):
        w = self.weights_
        rc = explain_by_pairs(self._input(self._history(scored)), cands, lambda j, i: w[j, i])
        return np.full(cands.shape, self.reason_code, dtype=object), rc

    def _similar_scores(self, cols):
        return self.weights_[cols].copy()


class PureSVD(Recommender):
    """PureSVD (Cremonesi et al. 2010): truncated SVD of the user x item matrix, score = x_u V V'.

    A global low-rank view that complements the local item-item models in Hybrid. Randomised
    SVD (scikit-learn), deterministic for ``random_state``.
    """

    reason_code = "similar_to_seen"

    def __init__(self, factors: int = 32, n_iter: int = 5, random_state: int = 42):
        self.factors = factors
        self.n_iter = n_iter
        self.random_state = random_state

    def _fit(self, data, items):
        x = data.matrix
        f = int(max(1, min(self.factors, min(x.shape) - 1)))
        _, s, vt = randomized_svd(x, f, n_iter=self.n_iter, random_state=self.random_state)
        self.item_factors_ = np.ascontiguousarray(vt.T, dtype=np.float32)
        self.singular_values_ = s

    def _scores_x(self, x):
        v = self.item_factors_
        return np.asarray((x @ v) @ v.T, dtype=np.float32)

    def _explain(self, scored, cands):
        v = self.item_factors_
        rc = explain_by_pairs(self._history(scored), cands, lambda j, i: np.einsum("ij,ij->i", v[j], v[i]))
        return np.full(cands.shape, self.reason_code, dtype=object), rc

    def _similar_scores(self, cols):
        v = self.item_factors_
        return v[cols] @ v.T
