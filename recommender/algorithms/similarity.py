"""Sparse top-k similarity: cosine, adjusted cosine and Pearson computed in row blocks."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# Dense cells per block: 2e7 float32 is ~80 MB, small enough for 2 cores / a few GB.
BLOCK_CELLS = 20_000_000


def top_n_per_row(scores: np.ndarray, n: int):
    """Column indices (rows x n) of the n largest values per row, best first (ties by column)."""
    n_cols = scores.shape[1]
    n = min(n, n_cols)
    if n <= 0:
        return np.empty((scores.shape[0], 0), dtype=np.int64), np.empty((scores.shape[0], 0), scores.dtype)
    if n < n_cols:
        part = np.argpartition(scores, n_cols - n, axis=1)[:, n_cols - n:]
    else:
        part = np.broadcast_to(np.arange(n_cols), scores.shape).copy()
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=-1)
    cols = np.take_along_axis(part, order, axis=1)
    return cols, np.take_along_axis(vals, order, axis=1)


def _block_size(n_cols: int, block_cells: int = BLOCK_CELLS) -> int:
    return max(1, int(block_cells // max(n_cols, 1)))


def blockwise_top_k(left: sp.csr_matrix, right: sp.csc_matrix | sp.csr_matrix, k: int, transform=None,
                    exclude_self: bool = True, min_value: float = 0.0, block_cells: int = BLOCK_CELLS) -> sp.csr_matrix:
    """Top-k per row of ``transform(left @ right)`` without ever holding the full product.

    ``transform(block, start, stop)`` turns the dense product block of rows start:stop into
    similarities (in place or returned). Only values > ``min_value`` are kept; with
    ``exclude_self`` the diagonal (row i, column i) is dropped.
    """
    n_rows, n_cols = left.shape[0], right.shape[1]
    k = int(min(k, n_cols))
    step = _block_size(n_cols, block_cells)
    indptr = [0]
    all_idx, all_val = [], []
    left = left.tocsr()
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        block = (left[start:stop] @ right)
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        block = block.astype(np.float32, copy=False)
        if transform is not None:
            out = transform(block, start, stop)
            if out is not None:
                block = out
        if exclude_self:
            r = np.arange(start, stop)
            ok = r < n_cols
            block[(r - start)[ok], r[ok]] = -np.inf
        if k <= 0:
            counts = np.zeros(stop - start, dtype=np.int64)
        else:
            cols, vals = top_n_per_row(block, k)
            keep = vals > min_value
            counts = keep.sum(axis=1)
            all_idx.append(cols[keep])
            all_val.append(vals[keep])
        indptr.extend((indptr[-1] + np.cumsum(counts)).tolist())
    idx = np.concatenate(all_idx) if all_idx else np.empty(0, np.int64)
    val = np.concatenate(all_val) if all_val else np.empty(0, np.float32)
    out = sp.csr_matrix((val.astype(np.float32), idx.astype(np.int32), np.asarray(indptr, dtype=np.int64)), shape=(n_rows, n_cols))
    out.sort_indices()
    return out


def _norms(m: sp.csr_matrix) -> np.ndarray:
    return np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel()).astype(np.float32)


def cosine_top_k(vectors: sp.csr_matrix, k: int, shrinkage: float = 0.0, exclude_self: bool = True,
                 block_cells: int = BLOCK_CELLS, norms: np.ndarray | None = None) -> sp.csr_matrix:
    """Row-row cosine similarity, ``dot / (|a| |b| + shrinkage)``, top-k per row, as CSR."""
    vectors = vectors.tocsr().astype(np.float32)
    norms = _norms(vectors) if norms is None else norms
    right = vectors.T.tocsr()

    def transform(block, start, stop):
        denom = norms[start:stop, None] * norms[None, :] + np.float32(shrinkage)
        denom[denom == 0] = 1.0
        block /= denom
        return block

    return blockwise_top_k(vectors, right, k, transform, exclude_self=exclude_self, block_cells=block_cells)


def pearson_top_k(vectors: sp.csr_matrix, k: int, shrinkage: float = 0.0, exclude_self: bool = True,
                  block_cells: int = BLOCK_CELLS) -> sp.csr_matrix:
    """Row-row Pearson correlation over all columns (zeros included, like ``np.corrcoef``).

    ``(a.b - n mean_a mean_b) / (sd_a sd_b + shrinkage)`` with sd as root of centred sums of
    squares; only positive correlations are kept. Centring over all columns keeps the vectors
    sparse and stays meaningful for implicit (all-ones) data.
    """
    vectors = vectors.tocsr().astype(np.float64)
    n = vectors.shape[1]
    means = np.asarray(vectors.sum(axis=1)).ravel() / max(n, 1)
    sq = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
    sds = np.sqrt(np.clip(sq - n * means ** 2, 0.0, None)).astype(np.float32)
    means32 = means.astype(np.float32)
    right = vectors.astype(np.float32).T.tocsr()

    def transform(block, start, stop):
        block -= np.float32(n) * means32[start:stop, None] * means32[None, :]
        denom = sds[start:stop, None] * sds[None, :] + np.float32(shrinkage)
        denom[denom == 0] = np.inf
        block /= denom
        return block

    return blockwise_top_k(vectors.astype(np.float32), right, k, transform, exclude_self=exclude_self,
                           block_cells=block_cells)


def center_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Subtract each row's mean over its stored entries (adjusted cosine's user centring)."""
    m = m.tocsr().astype(np.float32, copy=True)
    counts = np.diff(m.indptr)
    sums = np.asarray(m.sum(axis=1)).ravel()
    means = np.divide(sums, counts, out=np.zeros_like(sums, dtype=np.float64), where=counts > 0)
    m.data -= np.repeat(means, counts).astype(np.float32)
    m.eliminate_zeros()
    return m


def csr_lookup(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
    """Values m[rows[i], cols[i]] of a CSR matrix with sorted indices (0 where not stored)."""
    if keys is None:
        keys = csr_keys(m)
    q = rows.astype(np.int64) * m.shape[1] + cols.astype(np.int64)
    pos = np.searchsorted(keys, q)
    pos_c = np.minimum(pos, len(keys) - 1) if len(keys) else pos
    if not len(keys):
        return np.zeros(len(q), np.float32)
    hit = keys[pos_c] == q
    return np.where(hit, m.data[pos_c], 0).astype(np.float32)


def csr_keys(m: sp.csr_matrix) -> np.ndarray:
    """Sorted int64 keys row * n_cols + col of the stored entries (for ``csr_lookup``)."""
    rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    return rows * m.shape[1] + m.indices.astype(np.int64)
