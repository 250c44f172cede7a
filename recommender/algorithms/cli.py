"""The evaluate_recommender command's logic, callable without Django."""

from __future__ import annotations

import json
import sys

import pandas as pd

from .evaluation import METRICS, evaluate_models, random_split, temporal_split
from .io import load_interactions_csv, load_items_csv

# The same names as the nightly run (recommender.engine.MODEL_FACTORIES), the admin and the dashboard.
MODEL_NAMES = ["popularity", "itemknn", "userknn", "content", "rules", "ease", "svd", "als", "bpr", "hybrid"]


def build_models(names, seed: int = 42, items_given: bool = False, tune: bool = True) -> dict:
    """Default-configured models by name; ``content`` only when items are given."""
    from . import (
        ALS,
        BPR,
        EASE,
        AssociationRules,
        Hybrid,
        ItemKNN,
        Popularity,
        PureSVD,
        TfidfContent,
        UserKNN,
    )

    factories = {
        "popularity": Popularity,
        "itemknn": ItemKNN,
        "userknn": UserKNN,
        "content": TfidfContent,
        "rules": AssociationRules,
        "ease": EASE,
        "svd": lambda: PureSVD(random_state=seed),
        "als": lambda: ALS(random_state=seed),
        "bpr": lambda: BPR(random_state=seed),
        "hybrid": lambda: Hybrid(tune=tune, random_state=seed),
    }
    unknown = [n for n in names if n not in factories]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODEL_NAMES)}")
    return {n: factories[n]() for n in names if n != "content" or items_given}


def format_table(table: pd.DataFrame, k: int) -> str:
    cols = METRICS + ["fit_seconds", "recommend_seconds"]
    # "MAP@k": mean average precision over the top k, divided by min(relevant, k)
    head = f"{'model':<12}" + "".join(
        f"{(('MAP' if c == 'map' else c) + '@' + str(k)) if c in METRICS and c != 'coverage' else c:>18}"
        for c in cols
    )
    lines = [head]
    for name, row in table.iterrows():
        if isinstance(row.get("error"), str) and row["error"]:
            lines.append(f"{name:<12}  unavailable: {row['error']}")
            continue
        lines.append(f"{name:<12}" + "".join(f"{row[c]:>18.4f}" for c in cols))
    return "\n".join(lines)


def run_evaluation(
    interactions_path,
    items_path=None,
    k: int = 10,
    test_size: float = 0.25,
    seed: int = 42,
    split: str = "random",
    models=None,
    json_path=None,
    progress: bool | None = None,
    tune: bool = True,
    log=print,
) -> pd.DataFrame:
    """Load CSVs, split, evaluate the models and return the model x metric table.

    ``progress``: show a tqdm bar (default: only when stderr is a terminal). ``log(str)`` gets
    status lines; ``json_path`` writes {"settings": ..., "results": {model: {metric: value}}}.
    """
    inter = load_interactions_csv(interactions_path)
    items = load_items_csv(items_path) if items_path else None
    if split == "random":
        train, test = random_split(inter, test_size, seed)
    elif split == "temporal":
        train, test = temporal_split(inter)
    else:
        raise ValueError("split must be 'random' or 'temporal'")
    names = list(models) if models else [n for n in MODEL_NAMES if n != "content" or items is not None]
    built = build_models(names, seed, items is not None, tune)
    log(
        f"{len(inter)} interactions ({len(train)} train / {len(test)} test, {split} split, seed {seed}); "
        f"models: {', '.join(built)}"
    )
    bar = None
    if progress is None:
        progress = sys.stderr.isatty()
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(built), desc="models", unit="model")

    def step(name):
        if bar is not None:
            bar.set_postfix_str(name)
            bar.update(0 if step.first else 1)
            step.first = False

    step.first = True
    try:
        table = evaluate_models(train, test, built, k=k, items=items, progress=step)
    finally:
        if bar is not None:
            bar.update(1)
            bar.close()
    if json_path:
        payload = {
            "settings": {
                "interactions": str(interactions_path),
                "items": str(items_path) if items_path else None,
                "k": k,
                "test_size": test_size,
                "seed": seed,
                "split": split,
            },
            "results": {
                n: {
                    c: (None if pd.isna(v) else (float(v) if not isinstance(v, str) else v))
                    for c, v in row.items()
                }
                for n, row in table.iterrows()
            },
        }
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
    return table
