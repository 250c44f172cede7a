"""Training runs in the admin: the active run cannot be deleted; an old one is deleted in bulk, quickly."""

import os
import time

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from recommender.models import MemberRecommendation, PopularProduct, TrainingRun
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ROWS = int(os.environ.get("RUN_DELETE_ROWS", "300"))


def run_with_rows(n_rows, **fields):
    run = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED, **fields)
    products = [ProductFactory() for _ in range(5)]
    members = [UserFactory() for _ in range((n_rows + 49) // 50)]
    MemberRecommendation.objects.bulk_create(
        [
            MemberRecommendation(
                run=run,
                user=members[i // 50],
                product=products[i % 5],
                model="ease",
                score=1.0,
                rank=i % 50 + 1,
            )
            for i in range(n_rows)
        ],
        batch_size=5000,
    )
    PopularProduct.objects.bulk_create(
        [PopularProduct(run=run, product=p, score=1.0, rank=i + 1) for i, p in enumerate(products)]
    )
    return run


def test_the_active_run_has_no_delete_button_and_its_delete_page_is_refused(client):
    active = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED, is_active=True)
    client.force_login(StaffFactory())
    page = client.get(reverse("admin:recommender_trainingrun_change", args=[active.pk]))
    assert page.status_code == 200
    assert reverse("admin:recommender_trainingrun_delete", args=[active.pk]) not in page.content.decode()
    assert (
        client.post(
            reverse("admin:recommender_trainingrun_delete", args=[active.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert TrainingRun.objects.filter(pk=active.pk).exists()


def test_bulk_delete_refuses_the_active_and_running_runs_with_a_message_and_deletes_the_rest(client):
    active = TrainingRun.objects.create(status=TrainingRun.Status.SUCCEEDED, is_active=True)
    running = TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)
    old = run_with_rows(120)
    client.force_login(StaffFactory())
    url = reverse("admin:recommender_trainingrun_changelist")
    response = client.post(
        url,
        {"action": "delete_selected", "_selected_action": [active.pk, running.pk, old.pk], "post": "yes"},
        follow=True,
    )
    text = response.content.decode()
    assert f"训练 #{active.pk} 正在使用中，不能删除" in text
    assert f"训练 #{running.pk} 正在进行，不能删除" in text
    assert set(TrainingRun.objects.values_list("pk", flat=True)) == {active.pk, running.pk}
    assert not MemberRecommendation.objects.filter(run_id=old.pk).exists()


def test_deleting_an_old_run_with_many_rows_is_a_few_queries_not_one_per_row(
    client, django_assert_max_num_queries
):
    old = run_with_rows(ROWS)
    client.force_login(StaffFactory())
    url = reverse("admin:recommender_trainingrun_delete", args=[old.pk])
    started = time.perf_counter()
    with django_assert_max_num_queries(40):
        confirm = client.get(url)
    confirm_s = time.perf_counter() - started
    assert confirm.status_code == 200
    assert "会员推荐" in confirm.content.decode()  # the page still says what goes, as counts
    started = time.perf_counter()
    with django_assert_max_num_queries(40):
        done = client.post(url, {"post": "yes"})
    delete_s = time.perf_counter() - started
    assert done.status_code == 302
    assert not TrainingRun.objects.filter(pk=old.pk).exists()
    assert not MemberRecommendation.objects.filter(run_id=old.pk).exists()
    print(f"\nrun delete with {ROWS} rows: confirm page {confirm_s:.3f} s, delete {delete_s:.3f} s")


def test_an_analyst_sees_runs_but_deletes_nothing(client):
    old = run_with_rows(10)
    analyst = UserFactory(is_staff=True)
    analyst.user_permissions.add(Permission.objects.get(codename="view_trainingrun"))
    client.force_login(analyst)
    assert client.get(reverse("admin:recommender_trainingrun_changelist")).status_code == 200
    assert (
        client.post(
            reverse("admin:recommender_trainingrun_delete", args=[old.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
