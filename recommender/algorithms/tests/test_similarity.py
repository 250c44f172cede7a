import numpy as np
import pytest
import scipy.sparse as sp

from recommender.algorithms.similarity import (
    center_rows,
    cosine_top_k,
    csr_lookup,
    pearson_top_k,
    top_n_per_row,
)

X = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 1, 0]], dtype=np.float32)


def test_cosine_hand_computed():
    s = cosine_top_k(sp.csr_matrix(X.T), k=3).toarray()  # item-item
    # items 0 and 1 share users 0 and 3: 2 / (sqrt(3) * sqrt(3))
    assert s[0, 1] == pytest.approx(2 / 3)
    # items 0 and 3 share nobody; item 3 and 2: 1 / (sqrt(1) * sqrt(3))
    assert s[0, 3] == 0 and s[3, 2] == pytest.approx(1 / np.sqrt(3))
    assert np.all(np.diag(s) == 0)


def test_cosine_shrinkage_in_denominator():
    s = cosine_top_k(sp.csr_matrix(X.T), k=3, shrinkage=1.0).toarray()
    assert s[0, 1] == pytest.approx(2 / (3 + 1))


def test_top_k_keeps_k_per_row():
    s = cosine_top_k(sp.csr_matrix(X.T), k=1)
    assert np.all(np.diff(s.indptr) <= 1)
    assert s[0].toarray().argmax() in (1, 2)


def test_pearson_matches_numpy_corrcoef():
    p = pearson_top_k(sp.csr_matrix(X), k=3).toarray()
    c = np.corrcoef(X)
    for a in range(4):
        for b in range(4):
            if a != b:
                assert p[a, b] == pytest.approx(max(c[a, b], 0.0), abs=1e-6)


def test_adjusted_cosine_centres_users():
    m = sp.csr_matrix(np.array([[5, 3, 0], [4, 0, 2]], dtype=np.float32))
    c = center_rows(m).toarray()
    np.testing.assert_allclose(c, [[1, -1, 0], [1, 0, -1]])


def test_top_n_per_row_sorted_with_ties_by_column():
    cols, vals = top_n_per_row(np.array([[0.1, 0.5, 0.5, 0.3]], dtype=np.float32), 3)
    assert cols.tolist() == [[1, 2, 3]] and vals[0, 0] == pytest.approx(0.5)


def test_csr_lookup():
    m = sp.csr_matrix(np.array([[0, 2], [3, 0]], dtype=np.float32))
    assert csr_lookup(m, np.array([0, 1, 1]), np.array([1, 0, 1])).tolist() == [2, 3, 0]
