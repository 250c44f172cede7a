"""Developer and operator commands: train_recommender, recommend, import_events."""

import pytest
from django.core.management import CommandError, call_command

from recommender.models import TrainingRun
from recommender.tests.factories import ProductFactory, UserFactory, active_run, behaviour_seed, member_rows
from shop.models import Event

pytestmark = pytest.mark.django_db


def test_train_recommender_sync_prints_a_summary_and_if_stale_then_skips(capsys):
    behaviour_seed(members=15)
    call_command("train_recommender", "--sync", "--models", "popularity", "itemknn")
    out = capsys.readouterr().out
    assert "succeeded (active)" in out and "precision@10" in out and "Gate: passed" in out
    assert TrainingRun.objects.filter(is_active=True).count() == 1

    call_command("train_recommender", "--if-stale")
    assert "fresh" in capsys.readouterr().out
    assert TrainingRun.objects.count() == 1


def test_train_recommender_fails_loudly_when_a_run_is_going():
    TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)
    with pytest.raises(CommandError, match="已有训练正在进行"):
        call_command("train_recommender", "--sync")


def test_recommend_shows_a_members_list_by_email_or_id(capsys):
    run = active_run()
    member = UserFactory(email="list@example.com")
    member_rows(run, member, [ProductFactory(name="保温杯"), ProductFactory(name="茶叶")])
    call_command("recommend", "list@example.com", "--n", "2")
    out = capsys.readouterr().out
    assert "保温杯" in out and "茶叶" in out and "itemknn" in out
    call_command("recommend", str(member.pk))
    assert "保温杯" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no member"):
        call_command("recommend", "nobody@example.com")


def _csv(tmp_path, text):
    path = tmp_path / "events.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_events_imports_a_good_file(tmp_path, capsys):
    member = UserFactory(email="old@example.com")
    product = ProductFactory(sku="SKU-1")
    path = _csv(
        tmp_path,
        "member,product,kind,timestamp,value\n"
        f"old@example.com,SKU-1,view,2025-03-01T10:00:00,\n"
        f"{member.pk},{product.pk},rating,2025-03-02 11:00:00+08:00,4\n",
    )
    call_command("import_events", path)
    assert "Imported 2 events" in capsys.readouterr().out
    assert Event.objects.filter(user=member, product=product).count() == 2
    assert Event.objects.get(kind="rating").value == 4


def test_import_events_reports_every_bad_row_and_imports_nothing(tmp_path, capsys):
    UserFactory(email="old@example.com")
    ProductFactory(sku="SKU-1")
    path = _csv(
        tmp_path,
        "member,product,kind,timestamp,value\n"
        "old@example.com,SKU-1,view,2025-03-01T10:00:00,\n"
        "ghost@example.com,SKU-1,view,2025-03-01T10:00:00,\n"
        "old@example.com,NOPE,teleport,yesterday,\n"
        "old@example.com,SKU-1,rating,2025-03-01T10:00:00,9\n",
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_events", path)
    err = capsys.readouterr().err
    assert "row 3, column member" in err
    assert "row 4, column product" in err and "row 4, column kind" in err and "row 4, column timestamp" in err
    assert "row 5, column value" in err
    assert not Event.objects.exists()


def test_import_events_refuses_a_file_without_the_required_columns(tmp_path, capsys):
    path = _csv(tmp_path, "user,item\n1,2\n")
    with pytest.raises(CommandError):
        call_command("import_events", path)
    assert "column member: required column missing" in capsys.readouterr().err


def test_train_recommender_sync_issues_personal_offers_like_the_worker_path(monkeypatch):
    # given members with behaviour and an offer service that records whom it was called for
    from recommender.models import MemberCategoryPrediction
    from recommender.services import offers

    behaviour_seed(members=15)
    issued = []
    monkeypatch.setattr(offers, "personal_offer_issue", lambda *, user, category: issued.append(user.pk))

    # when the recommender is trained in this process
    call_command("train_recommender", "--sync", "--models", "popularity", "itemknn", verbosity=0)

    # then the active run's category predictions got their offers, as after a worker's last shard
    run = TrainingRun.objects.get(is_active=True)
    predictions = MemberCategoryPrediction.objects.filter(run=run)
    assert predictions.exists() and len(issued) == predictions.count()
    assert not predictions.filter(offer_issued=False).exists()


def _bytes_file(tmp_path, data: bytes, name="events.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_import_events_reads_what_excel_in_china_writes(tmp_path, capsys):
    # given a member and a product, and the same rows saved as GBK and as UTF-8 with a BOM
    member = UserFactory(email="Wang.Li@Example.com")
    ProductFactory(sku="茶-1")
    text = "member,product,kind,timestamp,value\nwang.li@example.COM,茶-1,view,2025-03-01T10:00:00,\n"
    call_command("import_events", _bytes_file(tmp_path, text.encode("gbk"), "gbk.csv"))
    assert "Imported 1 events" in capsys.readouterr().out
    # when the same rows come again as UTF-8 with a BOM, nothing is doubled
    call_command("import_events", _bytes_file(tmp_path, text.encode("utf-8-sig"), "bom.csv"))
    assert "Imported 0 events" in capsys.readouterr().out
    assert Event.objects.filter(user=member).count() == 1


def test_import_events_twice_adds_nothing_the_second_time(tmp_path, capsys):
    UserFactory(email="old@example.com")
    ProductFactory(sku="SKU-1")
    path = _csv(
        tmp_path,
        "member,product,kind,timestamp,value\nold@example.com,SKU-1,view,2025-03-01T10:00:00,\n"
        "old@example.com,SKU-1,view,2025-03-01T10:00:00,\n",
    )
    call_command("import_events", path)
    call_command("import_events", path)
    assert Event.objects.count() == 1
    assert "imported before" in capsys.readouterr().out


@pytest.mark.parametrize(
    "row,column",
    [
        ("old@example.com,SKU-1,view,2025-02-30T10:00:00,", "timestamp"),
        ("old@example.com,SKU-1,rating,2025-03-01T10:00:00,NaN", "value"),
        ("old@example.com,SKU-1,rating,2025-03-01T10:00:00,inf", "value"),
        ("old@example.com,SKU-1,view,9999999-01-01,", "timestamp"),
    ],
)
def test_import_events_reports_odd_values_by_row_never_a_traceback(tmp_path, capsys, row, column):
    UserFactory(email="old@example.com")
    ProductFactory(sku="SKU-1")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_events", _csv(tmp_path, f"member,product,kind,timestamp,value\n{row}\n"))
    assert f"row 2, column {column}" in capsys.readouterr().err
    assert not Event.objects.exists()


def test_import_events_refuses_a_binary_file_with_a_reason(tmp_path, capsys):
    path = _bytes_file(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_events", path)
    assert "not a text CSV" in capsys.readouterr().err


def test_import_events_is_quiet_at_verbosity_0(tmp_path, capsys):
    UserFactory(email="old@example.com")
    ProductFactory(sku="SKU-1")
    call_command(
        "import_events",
        _csv(tmp_path, "member,product,kind,timestamp\nold@example.com,SKU-1,view,2025-03-01\n"),
        verbosity=0,
    )
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert Event.objects.count() == 1
