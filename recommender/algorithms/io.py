"""CSV loaders for interactions and items that validate every row and name the bad one."""

from __future__ import annotations

import numpy as np
import pandas as pd

INTERACTION_COLUMNS = ["user_id", "item_id", "rating", "timestamp", "basket_id", "event", "weight"]
ITEM_COLUMNS = ["item_id", "title", "category", "brand", "description"]


class DataFileError(ValueError):
    """A data file is malformed; the message names the file, the row (1 = first data row) and column."""

    def __init__(self, path, message, row=None, column=None):
        where = f"{path}"
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path, self.row, self.column = path, row, column


def _read(path, required, known) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise DataFileError(path, "file not found") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"cannot parse CSV ({exc})") from None
    except pd.errors.EmptyDataError:
        raise DataFileError(path, "file is empty") from None
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataFileError(
            path, f"missing required column(s) {', '.join(missing)}; found {', '.join(df.columns)}"
        )
    df = df[[c for c in df.columns if c in known]]
    for col in df.columns:
        df[col] = df[col].str.strip()
    for col in required:
        empty = np.flatnonzero((df[col] == "").to_numpy())
        if len(empty):
            raise DataFileError(path, "empty value", row=int(empty[0]) + 1, column=col)
    return df


def _numeric(df, path, col, lo=None, hi=None):
    raw = df[col]
    vals = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
    bad = np.flatnonzero((vals.isna() & (raw != "")).to_numpy())
    if len(bad):
        raise DataFileError(path, f"not a number: {raw.iloc[bad[0]]!r}", row=int(bad[0]) + 1, column=col)
    if lo is not None or hi is not None:
        out = ((vals < lo) if lo is not None else False) | ((vals > hi) if hi is not None else False)
        bad = np.flatnonzero(out.fillna(False).to_numpy())
        if len(bad):
            raise DataFileError(
                path, f"value {vals.iloc[bad[0]]} outside [{lo}, {hi}]", row=int(bad[0]) + 1, column=col
            )
    return vals


def load_interactions_csv(path) -> pd.DataFrame:
    """``user_id,item_id[,rating][,timestamp][,basket_id][,event][,weight]`` -> interactions frame.

    Ids stay strings (they are matched against the items file as written). ``rating`` and
    ``weight`` must be numbers (rating 0-10), ``timestamp`` a date/time or unix seconds.
    """
    df = _read(path, ["user_id", "item_id"], INTERACTION_COLUMNS)
    if "rating" in df.columns:
        df["rating"] = _numeric(df, path, "rating", 0, 10)
    if "weight" in df.columns:
        df["weight"] = _numeric(df, path, "weight", 0, None)
    if "timestamp" in df.columns:
        raw = df["timestamp"]
        num = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        if num.notna().sum() == (raw != "").sum():
            ts = num
        else:
            ts = pd.to_datetime(raw.replace("", None), errors="coerce", format="mixed")
            bad = np.flatnonzero((ts.isna() & (raw != "")).to_numpy())
            if len(bad):
                raise DataFileError(
                    path, f"not a date/time: {raw.iloc[bad[0]]!r}", row=int(bad[0]) + 1, column="timestamp"
                )
        df["timestamp"] = ts
    for col in ("basket_id", "event"):
        if col in df.columns:
            df[col] = df[col].replace("", None)
    return df


def load_items_csv(path) -> pd.DataFrame:
    """``item_id,title[,category][,brand][,description]`` -> items frame (ids as strings)."""
    df = _read(path, ["item_id", "title"], ITEM_COLUMNS)
    dup = np.flatnonzero(df["item_id"].duplicated().to_numpy())
    if len(dup):
        raise DataFileError(
            path, f"duplicate item_id {df['item_id'].iloc[dup[0]]!r}", row=int(dup[0]) + 1, column="item_id"
        )
    return df
