"""Loaders for public data sets used in benchmarks (the UCI Online Retail sample)."""

from __future__ import annotations

import pandas as pd


def load_online_retail(path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """UCI "Online Retail" CSV -> (interactions, items).

    Drops rows without CustomerID, cancellations (InvoiceNo starting with "C") and non-positive
    quantities. interactions: user_id (int customer), item_id (StockCode, upper-cased),
    timestamp, basket_id (InvoiceNo), quantity. items: item_id, title (most frequent
    Description of the stock code).
    """
    df = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "Description": str})
    df = df.dropna(subset=["CustomerID", "StockCode"])
    df = df[~df["InvoiceNo"].str.upper().str.startswith("C")]
    df = df[pd.to_numeric(df["Quantity"], errors="coerce") > 0]
    item_id = df["StockCode"].str.strip().str.upper()
    interactions = pd.DataFrame(
        {
            "user_id": df["CustomerID"].astype("int64").to_numpy(),
            "item_id": item_id.to_numpy(),
            "timestamp": pd.to_datetime(df["InvoiceDate"], errors="coerce").to_numpy(),
            "basket_id": df["InvoiceNo"].to_numpy(),
            "quantity": pd.to_numeric(df["Quantity"]).to_numpy(),
        }
    )
    desc = pd.DataFrame(
        {"item_id": item_id.to_numpy(), "title": df["Description"].fillna("").str.strip().to_numpy()}
    )
    desc = desc[desc["title"] != ""]
    titles = desc.groupby(["item_id", "title"]).size().reset_index(name="n")
    titles = titles.sort_values(["item_id", "n", "title"], ascending=[True, False, True]).drop_duplicates(
        "item_id"
    )
    items = pd.DataFrame({"item_id": pd.unique(interactions["item_id"])}).merge(
        titles[["item_id", "title"]], on="item_id", how="left"
    )
    items["title"] = items["title"].fillna("")
    return interactions.reset_index(drop=True), items
