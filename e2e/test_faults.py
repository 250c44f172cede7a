"""Faults: Redis gone mid-flight, and a database error half-way through a checkout."""

import logging
import uuid
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import DatabaseError
from django.test import Client

from core.testing import wait_for
from e2e import seed
from members.models import Coupon, CouponRedemption, PointsAccount, PointsEntry
from members.services.points import points_staff_adjust
from shop.models import CartItem, Event, Order, OrderLine, Payment, Product

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # a closed port: what the app sees when Redis is down
ADDRESS = {
    "recipient_name": "王小明",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address_line": "文三路 100 号",
}


@pytest.fixture
def redis_down(settings):
    """Cache and Celery broker pointed at a Redis that is not there (the shared one keeps running)."""
    from config.celery import app

    dead = {
        "broker_url": DEAD_REDIS,
        "task_always_eager": False,
        "broker_connection_timeout": 0.5,
        "broker_connection_max_retries": 1,
        "task_publish_retry_policy": {
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.1,
            "interval_max": 0.1,
        },
    }
    # Read before changing Django's settings: Celery's config reads through to them.
    saved = {name: app.conf.get(name) for name in dead}
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(dead)
    _forget_broker_connections(app)
    yield
    app.conf.update(saved)
    _forget_broker_connections(app)


def _forget_broker_connections(app):
    # Celery keeps a connection pool and a producer pool bound to the broker it first used.
    app._pool = None
    app.amqp._producer_pool = None


def _signed_in(email, **extra):
    user = seed.member(email, **extra)
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": seed.PASSWORD})
    assert response.status_code == 302, "login must work with Redis down (rate limits fail open)"
    return client, user


def _pay(client, order):
    from shop.payments import provider_get

    payment = Payment.objects.get(order=order)
    fields = provider_get("sandbox").callback_fields(payment, "succeeded")
    return client.post("/pay/callback/", fields)


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_pages_cart_and_checkout_work_and_events_are_kept(redis_down, caplog):
    # given a catalogue, a shopper and staff, and Redis unreachable
    products = seed.catalogue()
    seed.recommender_run(products)
    caplog.set_level(logging.WARNING)
    client, user = _signed_in("redis-down@example.com")

    # pages render
    for path in ["/", "/c/tea/", "/p/longjing/", "/search/?q=龙井", "/cart/", "/member/"]:
        assert client.get(path).status_code == 200, path

    # the cart takes a product
    response = client.post("/cart/add/", {"product_id": products["longjing"].pk, "quantity": 2})
    assert response.status_code == 302
    assert CartItem.objects.get(cart__user=user).quantity == 2

    # checkout makes the order, and the sandbox callback pays it
    response = client.post(
        "/checkout/",
        {**ADDRESS, "shipping_method": "standard", "idempotency_key": uuid.uuid4().hex, "points": 0},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    order = Order.objects.get(user=user)
    response = _pay(client, order)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Product.objects.get(pk=products["longjing"].pk).stock == 48

    # behaviour went to the database, where the nightly training reads it
    kinds = set(Event.objects.filter(user=user).values_list("kind", flat=True))
    assert {Event.Kind.VIEW, Event.Kind.CART_ADD} <= kinds
    from recommender.services.frames import interactions_frame

    frame = interactions_frame()
    assert products["longjing"].pk in set(frame.loc[frame["user_id"] == user.pk, "item_id"])

    # "retrain now" cannot reach the queue: staff are told, and nothing fails
    staff_client, _staff = _signed_in("redis-down-staff@example.com", superuser=True)
    response = staff_client.post("/admin/recommender/trainingrun/retrain/")
    assert response.status_code == 302
    assert any("不可用" in str(m) for m in get_messages(response.wsgi_request))

    # and each degradation said so in the log
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("cache unavailable" in w for w in warnings), warnings
    assert any("could not enqueue retrain" in w for w in warnings), warnings


@pytest.mark.django_db(transaction=True)
def test_a_database_error_mid_checkout_leaves_no_order_and_spends_nothing(monkeypatch):
    # given a member with points, a coupon and a cart
    products = seed.catalogue()
    client, user = _signed_in("db-error@example.com")
    staff = seed.member("db-error-staff@example.com", staff=True)
    PointsAccount.objects.get_or_create(user=user)
    points_staff_adjust(user=user, delta=500, staff=staff, note="测试")
    template = seed.coupon_template(name="十元券")
    coupon = Coupon.objects.create(
        template=template, user=user, code="FAULTTEST001", source=Coupon.Source.STAFF
    )
    client.post("/cart/add/", {"product_id": products["longjing"].pk, "quantity": 3})
    before = {
        "stock": Product.objects.get(pk=products["longjing"].pk).stock,
        "available": PointsAccount.objects.get(user=user).available,
        "entries": PointsEntry.objects.filter(user=user).count(),
    }

    # when the database fails after stock, coupon and points were taken, before the order is done
    from shop.services import checkout

    def fail(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(checkout.OrderStatusChange.objects, "create", fail)
    client.raise_request_exception = False
    response = client.post(
        "/checkout/",
        {
            **ADDRESS,
            "shipping_method": "standard",
            "idempotency_key": uuid.uuid4().hex,
            "coupon_code": coupon.code,
            "points": 100,
        },
    )

    # then the shopper gets an error page, and everything is as it was
    assert response.status_code == 500
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert Product.objects.get(pk=products["longjing"].pk).stock == before["stock"]
    coupon.refresh_from_db()
    assert coupon.status == Coupon.Status.AVAILABLE and coupon.used_at is None
    assert not CouponRedemption.objects.exists()
    assert PointsAccount.objects.get(user=user).available == before["available"]
    assert PointsEntry.objects.filter(user=user).count() == before["entries"]
    assert CartItem.objects.get(cart__user=user).quantity == 3  # the cart is still there to retry

    # and once the database is back the same cart checks out with the same coupon and points
    monkeypatch.undo()
    response = client.post(
        "/checkout/",
        {
            **ADDRESS,
            "shipping_method": "standard",
            "idempotency_key": uuid.uuid4().hex,
            "coupon_code": coupon.code,
            "points": 100,
        },
    )
    assert response.status_code == 302
    order = Order.objects.get(user=user)
    assert (order.points_used, order.coupon_discount) == (100, Decimal("10.00"))


# ---- a Celery worker killed during a retrain ----------------------------------------------------


WORKER_LEASE_SECONDS = 3


@pytest.fixture
def short_lease(settings, monkeypatch):
    # The worker reads its lease from the environment; this process from settings.
    monkeypatch.setenv("RECOMMENDER_LOCK_TTL", str(WORKER_LEASE_SECONDS))
    settings.RECOMMENDER_LOCK_TTL = WORKER_LEASE_SECONDS


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_retrain_leaves_the_active_run_serving_and_the_next_run_succeeds(
    short_lease, celery_worker_process
):
    import time

    from config.celery import app
    from recommender.models import TrainingRun
    from recommender.services import training
    from recommender.tasks import retrain_nightly
    from recommender.tests.factories import active_run, behaviour_seed, popular_rows

    # given behaviour to learn from and an active run serving a popular list
    _categories, catalogue, _people = behaviour_seed(members=60, products=30)
    serving = active_run()
    popular_rows(serving, catalogue[:6])

    # when a retrain is running on the worker and the worker is killed outright
    app.control.purge()  # nothing queued by earlier tests runs first
    retrain_nightly.delay("test")
    assert wait_for(
        lambda: TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).exists(), 120, interval=0.05
    )
    celery_worker_process.kill()
    celery_worker_process.wait(timeout=10)
    app.control.purge()  # the dead run's shard tasks, if it got that far, go with it
    dead = TrainingRun.objects.get(status=TrainingRun.Status.RUNNING)

    # then the storefront keeps serving the active run's recommendations
    response = Client().get("/")
    assert response.status_code == 200
    assert catalogue[0].name in response.content.decode()
    assert TrainingRun.objects.get(is_active=True).pk == serving.pk

    # and once its lease lapses the next run marks it failed, then succeeds and takes over
    time.sleep(WORKER_LEASE_SECONDS + 0.5)
    run = training.training_run_execute(trigger="test", shard_runner=None)
    dead.refresh_from_db()
    assert dead.status == TrainingRun.Status.FAILED and "lease expired" in dead.error
    assert run.status == TrainingRun.Status.SUCCEEDED and run.is_active
    assert not TrainingRun.objects.filter(pk=serving.pk, is_active=True).exists()
