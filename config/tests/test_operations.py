"""Operations: client address behind the proxy, readiness, request ids, metrics and their access."""

import json
import logging
import uuid
from datetime import timedelta

import pytest
from allauth.account.adapter import DefaultAccountAdapter
from django.core.cache import cache
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.html import escape
from rest_framework.throttling import AnonRateThrottle

from config.observability import ShopJsonFormatter
from recommender.models import TrainingRun

PROXY = "127.0.0.1"
OUTSIDER = "203.0.113.9"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()  # rate limits live in the cache
    yield
    cache.clear()


def _active_run(age=timedelta(hours=2)):
    finished = timezone.now() - age
    return TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED,
        is_active=True,
        finished_at=finished,
        activated_at=finished,
        serving_model="itemknn",
        metrics={"itemknn": {"precision@10": 0.12, "recall@10": 0.3}},
    )


# ---- the client's address behind a proxy (issue 12 item 4) ---------------------------------------


def _too_many_logins_message():
    with translation.override("zh-hans"):
        return escape(str(DefaultAccountAdapter.error_messages["too_many_login_attempts"]))


def _failed_logins(client, count, **meta):
    # A fresh e-mail each time: only the per-address limit (10/m/ip) is exercised, not the per-account one.
    for _ in range(count):
        response = client.post(
            "/accounts/login/", {"login": f"{uuid.uuid4().hex[:10]}@example.com", "password": "wrong"}, **meta
        )
    return response


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[f"{PROXY}/32"])
def test_behind_the_trusted_proxy_each_client_has_its_own_login_limit(client):
    # given one client who failed ten logins through the proxy
    _failed_logins(client, 10, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    # then that client is stopped ...
    blocked = _failed_logins(client, 1, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert _too_many_logins_message() in blocked.content.decode()
    # ... and another client behind the same proxy is not (before, both counted under the proxy)
    other = _failed_logins(client, 1, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert _too_many_logins_message() not in other.content.decode()


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[f"{PROXY}/32"])
def test_from_an_untrusted_peer_the_forwarded_header_is_ignored(client):
    # given an attacker who sends a new X-Forwarded-For with every guess, straight to the app
    for n in range(10):
        _failed_logins(client, 1, REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 10}")
    # then the guesses all counted under the attacker's real address
    blocked = _failed_logins(client, 1, REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert _too_many_logins_message() in blocked.content.decode()


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[f"{PROXY}/32"])
def test_api_throttles_count_per_client_behind_the_proxy_and_ignore_spoofed_headers(client, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "2/min", raising=False)

    def get(remote, forwarded):
        return client.get(
            "/api/v1/categories/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert [get(PROXY, "198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert get(PROXY, "198.51.100.2") == 200  # another client through the same proxy
    assert [get(OUTSIDER, f"198.51.100.{n + 20}") for n in range(3)] == [200, 200, 429]


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[f"{PROXY}/32"])
def test_coupon_guesses_are_counted_under_the_client_behind_the_proxy(client, monkeypatch):
    from members.services import coupons as coupon_services
    from members.tests.factories import UserFactory
    from shop.tests.factories import ProductFactory

    counted = []
    monkeypatch.setattr(
        coupon_services, "coupon_code_failure_record", lambda *, user_id, ip, code: counted.append(ip)
    )
    client.force_login(UserFactory())
    client.post("/cart/add/", {"product_id": ProductFactory(stock=10).pk, "quantity": 1})
    form = {
        "recipient_name": "张三",
        "phone": "13800138000",
        "province": "上海市",
        "city": "上海市",
        "address_line": "人民路 1 号",
        "shipping_method": "standard",
        "points": 0,
        "coupon_code": "NOSUCH",
    }
    client.post(
        "/checkout/",
        {**form, "idempotency_key": uuid.uuid4().hex},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert counted and set(counted) == {"198.51.100.7"}
    counted.clear()
    client.post(
        "/checkout/",
        {**form, "idempotency_key": uuid.uuid4().hex},
        REMOTE_ADDR=OUTSIDER,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert counted and set(counted) == {OUTSIDER}


# ---- readiness (item 9) ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_readyz_is_ok_when_every_part_is(client):
    _active_run()
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "cache", "broker", "recommender"}


@pytest.mark.django_db
def test_readyz_names_a_cache_that_does_not_answer(client):
    _active_run()
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]


@pytest.mark.django_db
def test_readyz_names_a_database_that_does_not_answer(client, monkeypatch):
    import config.views

    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    _active_run()
    monkeypatch.setattr(config.views, "connection", DownConnection())
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database"] and body["checks"]["database"]["error"] == "OperationalError"
    assert "refused" not in response.content.decode()  # no connection details to the outside


@pytest.mark.django_db
def test_readyz_names_a_missing_or_stale_recommender_run(client):
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failed"] == ["recommender"]
    _active_run(age=timedelta(days=5))
    response = client.get("/readyz")
    assert response.status_code == 503 and "old" in response.json()["checks"]["recommender"]["error"]


@pytest.mark.django_db
def test_healthz_stays_the_cheap_liveness_probe(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


# ---- request ids and logs --------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_the_log_line_has_it(client, caplog):
    caplog.set_level(logging.INFO, logger="shop.request")
    response = client.get("/healthz")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert client.get("/healthz")["X-Request-ID"] != request_id
    record = next(r for r in caplog.records if r.name == "shop.request")
    assert record.request_id == request_id and record.status == 200 and record.path == "/healthz"


@pytest.mark.django_db
def test_the_proxys_request_id_is_kept_and_a_forged_one_is_replaced(client):
    assert (
        client.get("/healthz", HTTP_X_REQUEST_ID="0af7651916cd43dd8448eb211c80319c")["X-Request-ID"]
        == "0af7651916cd43dd8448eb211c80319c"
    )
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\n2026 ERROR fake line")["X-Request-ID"]
    assert "\n" not in forged and len(forged) == 32


def test_json_log_lines_are_objects_with_the_request_id():
    record = logging.LogRecord("shop.orders", logging.WARNING, __file__, 1, "订单 %s 已取消", ("A1",), None)
    record.request_id = "abc12345"
    line = json.loads(ShopJsonFormatter().format(record))
    assert line["message"] == "订单 A1 已取消" and line["level"] == "WARNING"
    assert line["logger"] == "shop.orders" and line["request_id"] == "abc12345"
    assert line["time"].endswith("+00:00")


# ---- metrics ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_from_this_machine_show_requests_and_the_recommenders_run(client):
    _active_run()
    client.get("/healthz")
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert "django_http_requests_latency_seconds_by_view_method" in text
    assert 'shop_recommender_run_metric{metric="precision@10",model="itemknn",serving="true"} 0.12' in text
    assert "shop_recommender_active_run_age_seconds" in text


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[f"{PROXY}/32"], METRICS_TOKEN="s3cret-metrics-token")
def test_metrics_are_hidden_from_everyone_else_unless_they_hold_the_token(client):
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDER).status_code == 404
    # through nginx on this machine a visitor is still a visitor
    assert client.get("/metrics", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert (
        client.get(
            "/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer s3cret-metrics-token"
        ).status_code
        == 200
    )


def test_celery_tasks_are_counted():
    from config.metrics import celery_task_finished, celery_tasks

    class Task:
        name = "shop.tasks.cancel_unpaid_orders"

    before = celery_tasks.labels(task=Task.name, state="SUCCESS")._value.get()
    celery_task_finished(sender=Task(), state="SUCCESS")
    assert celery_tasks.labels(task=Task.name, state="SUCCESS")._value.get() == before + 1


# ---- production: no demo staff login (item 8) ----------------------------------------------------------


@pytest.mark.django_db
@override_settings(DEMO_STAFF_LOGIN=False)
def test_seed_demo_creates_no_staff_login_under_production_settings():
    from django.contrib.auth import get_user_model

    from demo.seeding import DEMO_SHOPPER, demo_logins_ensure

    assert demo_logins_ensure() == [DEMO_SHOPPER]
    assert not get_user_model().objects.filter(email="admin@example.com").exists()


def test_production_settings_forbid_the_demo_staff_login_and_trust_only_the_local_proxy():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = "from django.conf import settings as s; print(s.DEMO_STAFF_LOGIN, s.TRUSTED_PROXIES)"
    env = {k: v for k, v in os.environ.items() if k not in ("DEMO_STAFF_LOGIN", "TRUSTED_PROXIES")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 20 + "abcdefghijklmnopqrstuvwxyz0123",
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['127.0.0.1/32', '::1/128']"


def test_sentry_reports_errors_only_when_a_dsn_is_configured():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sentry_sdk; c = sentry_sdk.get_client(); print(c.is_active(), c.options['send_default_pii'])"
    )

    def run(**extra):
        env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
        env.update(DJANGO_SETTINGS_MODULE="config.settings.test", **extra)
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert run().startswith("False")
    assert run(SENTRY_DSN="https://public@sentry.invalid/1") == "True False"
