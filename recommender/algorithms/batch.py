"""Top-n lists from several fitted models in one pass: each batch is scored once per model and shared with Hybrid."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .base import ScoreCache, _as_id_array

# What forked workers inherit (set just before the fork, cleared after): models, batches, options.
_FORK_STATE: dict = {}


def _run_batches(models: dict, batches, n: int, exclude_seen: bool) -> dict:
    out = {name: [] for name in models}
    for batch in batches:
        cache = ScoreCache()  # this batch's raw scores, for a Hybrid listed after its components
        for name, model in models.items():
            # one thread per batch: not Hybrid's threaded recommend, which would split the batch again
            out[name].append(model._recommend(batch, n, exclude_seen, cache))
    return {name: pd.concat(frames, ignore_index=True) for name, frames in out.items()}


def _run_forked(batch_idx):
    st = _FORK_STATE
    return _run_batches(st["models"], [st["batches"][i] for i in batch_idx], st["n"], st["exclude_seen"])


def recommend_many(
    models: dict,
    user_ids=None,
    n: int = 10,
    exclude_seen: bool = True,
    n_jobs: int = 2,
    backend: str = "thread",
) -> dict:
    """``{name: model.recommend(user_ids, n, exclude_seen)}`` for every model, computed together.

    Users go through in batches; within a batch every model ranks its list, and a ``Hybrid``
    built from these same fitted models (``Hybrid.from_fitted``) reuses their scores instead of
    computing them again, so put it after its components in ``models``. Batches are split over
    ``n_jobs`` threads (``backend="thread"``) or forked processes (``backend="fork"``, POSIX only;
    faster, as ranking mostly holds the GIL), one BLAS thread each. The frames are identical to
    separate ``recommend`` calls. All models must share users (``user_ids=None`` means the first model's training users).
    """
    if not models:
        return {}
    for model in models.values():
        model._check_fitted()
    first = next(iter(models.values()))
    ids = first.user_ids_.to_numpy() if user_ids is None else _as_id_array(user_ids)
    size = min(m.batch_size for m in models.values())
    batches = [ids[s : s + size] for s in range(0, len(ids), size)] or [ids]

    jobs = max(1, min(int(n_jobs or 1), len(batches)))
    if jobs == 1:
        return _run_batches(models, batches, n, exclude_seen)
    from threadpoolctl import threadpool_limits

    chunks = [list(c) for c in np.array_split(np.arange(len(batches)), jobs)]
    if backend == "fork":
        # Much of ranking holds the GIL (indexing, frame building), so threads barely overlap;
        # forked workers share the fitted models copy-on-write and send back only the lists.
        import multiprocessing

        _FORK_STATE.update(models=models, batches=batches, n=n, exclude_seen=exclude_seen)
        try:
            with threadpool_limits(1), multiprocessing.get_context("fork").Pool(jobs) as pool:
                results = pool.map(_run_forked, chunks)
        finally:
            _FORK_STATE.clear()
    elif backend == "thread":
        with threadpool_limits(1), ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(
                pool.map(lambda idx: _run_batches(models, [batches[i] for i in idx], n, exclude_seen), chunks)
            )
    else:
        raise ValueError("backend must be 'thread' or 'fork'")
    return {name: pd.concat([r[name] for r in results], ignore_index=True) for name in models}
