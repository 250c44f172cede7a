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
        part = np.argpartition(scores, n_cols - n, axis=1)[:, n_cols - n :]
    else:
        part = np.broadcast_to(np.arange(n_cols), scores.shape).copy()
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=-1)
    cols = np.take_along_axis(part, order, axis=1)
    return cols, np.take_along_axis(vals, order, axis=1)


def top_n_sparse(m: sp.csr_matrix, n: int, min_value: float = -np.inf):
    """Like ``top_n_per_row`` for a CSR matrix, looking only at stored entries.

    Returns (cols, vals) of shape (rows, n), best first (ties by column), padded with -1 / -inf
    where a row has fewer than n stored entries > ``min_value``. Avoids dense argpartition over
    mostly-zero rows, which is the bottleneck of user-user and item-item top-k.
    """
    m = m.tocsr()
    b = m.shape[0]
    n = int(max(n, 0))
    cols = np.full((b, n), -1, dtype=np.int64)
    vals = np.full((b, n), -np.inf, dtype=np.float32)
    if n == 0 or m.nnz == 0:
        return cols, vals
    counts = np.diff(m.indptr)
    data, ind = m.data, m.indices
    keep = data > min_value
    for r in np.flatnonzero(counts > n):
        s, e = m.indptr[r], m.indptr[r + 1]
        drop = np.argpartition(data[s:e], e - s - n)[: e - s - n]
        keep[s + drop] = False
    rows = np.repeat(np.arange(b), counts)[keep]
    c = ind[keep]
    v = data[keep]
    order = np.lexsort((c, -v, rows))
    rows, c, v = rows[order], c[order], v[order]
    pos = np.arange(len(rows)) - np.searchsorted(rows, rows)
    cols[rows, pos] = c
    vals[rows, pos] = v
    return cols, vals


def blockwise_top_k(
    left: sp.csr_matrix,
    right: sp.csr_matrix,
    k: int,
    transform=None,
    exclude_self: bool = True,
    min_value: float = 0.0,
    block_cells: int = BLOCK_CELLS,
) -> sp.csr_matrix:
    """Top-k per row of ``transform(left @ right)`` without ever holding the full product.

    The product is computed for row blocks and stays sparse: ``transform(values, rows, cols)``
    maps the stored products (global row and column of each) to similarities. Only values >
    ``min_value`` are kept; with ``exclude_self`` the diagonal (row i, column i) is dropped.
    Pairs whose product is zero are never candidates, so transforms must map 0 to <= min_value.
    """
    n_rows, n_cols = left.shape[0], right.shape[1]
    k = int(min(k, n_cols))
    step = _block_size(n_cols, block_cells)
    left = left.tocsr()
    right = right.tocsr()
    indptr = [np.zeros(1, np.int64)]
    all_idx, all_val = [], []
    total = 0
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        block = (left[start:stop] @ right).tocsr()
        block.sum_duplicates()
        rows_local = np.repeat(np.arange(stop - start), np.diff(block.indptr))
        if transform is not None:
            block.data = np.asarray(
                transform(block.data.astype(np.float32), rows_local + start, block.indices), dtype=np.float32
            )
        if exclude_self:
            block.data[(rows_local + start) == block.indices] = -np.inf
        cols, vals = top_n_sparse(block, k, min_value)
        keep = cols >= 0
        counts = keep.sum(axis=1)
        all_idx.append(cols[keep])
        all_val.append(vals[keep])
        indptr.append(total + np.cumsum(counts))
        total += int(counts.sum())
    idx = np.concatenate(all_idx) if all_idx else np.empty(0, np.int64)
    val = np.concatenate(all_val) if all_val else np.empty(0, np.float32)
    out = sp.csr_matrix(
        (val.astype(np.float32), idx.astype(np.int32), np.concatenate(indptr)), shape=(n_rows, n_cols)
    )
    out.sort_indices()
    return out


def _block_size(n_cols: int, block_cells: int = BLOCK_CELLS) -> int:
    return max(1, int(block_cells // max(n_cols, 1)))


def _norms(m: sp.csr_matrix) -> np.ndarray:
    return np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel()).astype(np.float32)


def cosine_top_k(
    vectors: sp.csr_matrix,
    k: int,
    shrinkage: float = 0.0,
    exclude_self: bool = True,
    block_cells: int = BLOCK_CELLS,
    norms: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Row-row cosine similarity, ``dot / (|a| |b| + shrinkage)``, top-k per row, as CSR."""
    vectors = vectors.tocsr().astype(np.float32)
    norms = _norms(vectors) if norms is None else norms
    right = vectors.T.tocsr()

    def transform(values, rows, cols):
        denom = norms[rows] * norms[cols] + np.float32(shrinkage)
        denom[denom == 0] = 1.0
        return values / denom

    return blockwise_top_k(vectors, right, k, transform, exclude_self=exclude_self, block_cells=block_cells)


def pearson_top_k(
    vectors: sp.csr_matrix,
    k: int,
    shrinkage: float = 0.0,
    exclude_self: bool = True,
    block_cells: int = BLOCK_CELLS,
) -> sp.csr_matrix:
    """Row-row Pearson correlation over all columns (zeros included, like ``np.corrcoef``).

    ``(a.b - n mean_a mean_b) / (sd_a sd_b + shrinkage)`` with sd as root of centred sums of
    squares; only positive correlations are kept. Centring over all columns keeps the vectors
    sparse and stays meaningful for implicit (all-ones) data.
    """
    vectors = vectors.tocsr().astype(np.float64)
    n = vectors.shape[1]
    means = np.asarray(vectors.sum(axis=1)).ravel() / max(n, 1)
    sq = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
    sds = np.sqrt(np.clip(sq - n * means**2, 0.0, None)).astype(np.float32)
    means32 = means.astype(np.float32)
    right = vectors.astype(np.float32).T.tocsr()

    def transform(values, rows, cols):
        # pairs without a common column have a negative correlation and are never kept
        values = values - np.float32(n) * means32[rows] * means32[cols]
        denom = sds[rows] * sds[cols] + np.float32(shrinkage)
        denom[denom == 0] = np.inf
        return values / denom

    return blockwise_top_k(
        vectors.astype(np.float32), right, k, transform, exclude_self=exclude_self, block_cells=block_cells
    )


def center_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Subtract each row's mean over its stored entries (adjusted cosine's user centring)."""
    m = m.tocsr().astype(np.float32, copy=True)
    counts = np.diff(m.indptr)
    sums = np.asarray(m.sum(axis=1)).ravel()
    means = np.divide(sums, counts, out=np.zeros_like(sums, dtype=np.float64), where=counts > 0)
    m.data -= np.repeat(means, counts).astype(np.float32)
    m.eliminate_zeros()
    return m


def csr_lookup(
    m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, keys: np.ndarray | None = None
) -> np.ndarray:
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
