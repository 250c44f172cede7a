"""Fixtures for the engine tests: small frames only, no Django, no database."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def three_members():
    """Member 1 bought products 1 and 2, member 2 bought 3 and 4, member 3 bought 5 and 6."""
    return pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3], "item_id": [1, 2, 3, 4, 5, 6]})


@pytest.fixture
def small_world():
    """60 users x 40 items with two taste groups, baskets, timestamps and item texts."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(60):
        group = u % 2
        pool = np.arange(20) + 20 * group
        chosen = rng.choice(pool, size=rng.integers(3, 9), replace=False)
        if u % 5 == 0:
            chosen = np.append(chosen, rng.integers(0, 40))
        for j, i in enumerate(np.unique(chosen)):
            rows.append(
                {
                    "user_id": f"u{u}",
                    "item_id": f"p{i}",
                    "timestamp": 1_600_000_000 + u * 1000 + j,
                    "basket_id": f"b{u}-{j // 2}",
                }
            )
    inter = pd.DataFrame(rows)
    colours = ["红色", "蓝色"]
    kinds = ["连衣裙", "衬衫", "外套", "裤子"]
    items = pd.DataFrame(
        {
            "item_id": [f"p{i}" for i in range(42)],
            "title": [f"{colours[(i // 20) % 2]}{kinds[i % 4]} model{i}" for i in range(42)],
            "category": ["女装" if i < 20 else "男装" for i in range(42)],
            "brand": [f"brand{i % 3}" for i in range(42)],
            "description": ["" if i % 7 == 0 else None for i in range(42)],
        }
    )
    return inter, items
