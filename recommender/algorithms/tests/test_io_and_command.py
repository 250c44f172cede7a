import json
from io import StringIO

import pandas as pd
import pytest

from recommender.algorithms.cli import run_evaluation
from recommender.algorithms.io import DataFileError, load_interactions_csv, load_items_csv


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_interactions_loader_parses_optional_columns(tmp_path):
    p = write(
        tmp_path,
        "i.csv",
        "user_id,item_id,rating,timestamp,basket_id\n1,a,5,2024-01-01 10:00,b1\n2,b,,2024-01-02,\n",
    )
    df = load_interactions_csv(p)
    assert (
        df["user_id"].tolist() == ["1", "2"] and df["rating"].iloc[0] == 5 and pd.isna(df["rating"].iloc[1])
    )
    assert str(df["timestamp"].dtype).startswith("datetime64") and pd.isna(df["basket_id"].iloc[1])


@pytest.mark.parametrize(
    "text,row,column",
    [
        ("user_id,item_id,rating\n1,a,5\n1,b,five\n", 2, "rating"),
        ("user_id,item_id\n1,a\n,b\n", 2, "user_id"),
        ("user_id,item_id,timestamp\n1,a,yesterday-ish\n", 1, "timestamp"),
        ("user_id,item_id,rating\n1,a,50\n", 1, "rating"),
    ],
)
def test_interactions_loader_names_row_and_column(tmp_path, text, row, column):
    with pytest.raises(DataFileError) as err:
        load_interactions_csv(write(tmp_path, "bad.csv", text))
    assert err.value.row == row and err.value.column == column
    assert f"row {row}" in str(err.value) and repr(column) in str(err.value)


def test_loader_missing_column_and_file(tmp_path):
    with pytest.raises(DataFileError, match="item_id"):
        load_interactions_csv(write(tmp_path, "x.csv", "user_id,product\n1,2\n"))
    with pytest.raises(DataFileError, match="not found"):
        load_interactions_csv(tmp_path / "missing.csv")
    with pytest.raises(DataFileError, match="duplicate item_id"):
        load_items_csv(write(tmp_path, "items.csv", "item_id,title\n1,a\n1,b\n"))


def _files(tmp_path):
    rows = ["user_id,item_id,timestamp"]
    for u in range(30):
        for j in range(6):
            rows.append(f"u{u},p{(u % 3) * 6 + (j + u) % 8},{1_600_000_000 + u * 10 + j}")
    inter = write(tmp_path, "inter.csv", "\n".join(rows) + "\n")
    items = write(
        tmp_path,
        "items.csv",
        "item_id,title,category\n"
        + "\n".join(f"p{i},商品 {i % 5} widget,cat{i % 3}" for i in range(24))
        + "\n",
    )
    return inter, items


def test_run_evaluation_without_django(tmp_path):
    inter, items = _files(tmp_path)
    out = tmp_path / "out.json"
    lines = []
    table = run_evaluation(
        inter,
        items,
        k=5,
        models=["popularity", "itemknn", "content"],
        json_path=out,
        progress=False,
        log=lines.append,
    )
    assert list(table.index) == ["popularity", "itemknn", "content"]
    payload = json.loads(out.read_text())
    assert payload["settings"]["k"] == 5 and "precision" in payload["results"]["itemknn"]
    assert lines and "train" in lines[0]
    temporal = run_evaluation(
        inter, None, k=5, split="temporal", models=["popularity"], progress=False, log=lambda s: None
    )
    assert temporal.loc["popularity", "n_users"] == 30


def test_management_command(tmp_path):
    pytest.importorskip("django")
    from django.conf import settings

    if not settings.configured:
        pytest.skip("Django settings not configured")
    from django.core.management import CommandError, call_command

    inter, _ = _files(tmp_path)
    out = StringIO()
    call_command(
        "evaluate_recommender",
        "--interactions",
        str(inter),
        "--models",
        "popularity",
        "itemknn",
        "--k",
        "5",
        stdout=out,
    )
    text = out.getvalue()
    assert "precision@5" in text and "itemknn" in text
    quiet = StringIO()
    call_command(
        "evaluate_recommender",
        "--interactions",
        str(inter),
        "--models",
        "popularity",
        verbosity=0,
        stdout=quiet,
    )
    assert quiet.getvalue() == ""
    bad = write(tmp_path, "bad.csv", "user_id,item_id,rating\n1,a,x\n")
    with pytest.raises(CommandError, match="row 1"):
        call_command("evaluate_recommender", "--interactions", str(bad), stdout=StringIO())
