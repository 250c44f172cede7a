"""Behaviour events: recorded for members and visitors, never breaking a page."""

import pytest
from django.db import transaction
from django.test import RequestFactory

from shop.models import Event
from shop.services.events import event_record, event_record_for_request
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_event_record_stores_member_event():
    user, product = UserFactory(), ProductFactory()
    event = event_record(kind=Event.Kind.VIEW, user=user, product=product, context={"page": "x"})
    assert Event.objects.get() == event and event.user == user and event.context == {"page": "x"}


def test_long_queries_are_truncated():
    event = event_record(kind=Event.Kind.SEARCH, session_key="s" * 80, query="长" * 500)
    assert len(event.query) == 200 and len(event.session_key) == 40


def test_failure_is_logged_not_raised(caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(Event, "save", broken)
    assert event_record(kind=Event.Kind.VIEW) is None
    assert "could not record view event" in caplog.text


def test_failure_inside_a_transaction_leaves_it_usable():
    product = ProductFactory()
    with transaction.atomic():
        # a kind longer than the column fails on PostgreSQL; the savepoint keeps the transaction usable
        event_record(kind="x" * 50, product=product)
        assert ProductFactory().pk


def test_event_for_anonymous_request_gets_a_stable_visitor_id(client):
    product = ProductFactory()
    client.get(product.get_absolute_url())
    client.get(product.get_absolute_url())
    keys = set(Event.objects.values_list("session_key", flat=True))
    assert len(keys) == 1 and keys.pop()
    assert not Event.objects.filter(user__isnull=False).exists()


def test_event_for_request_without_session_still_records():
    request = RequestFactory().get("/p/x/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    event = event_record_for_request(request, kind=Event.Kind.VIEW)
    assert event is not None and event.session_key == ""


def test_member_events_carry_the_user(client):
    user, product = UserFactory(), ProductFactory()
    client.force_login(user)
    client.get(product.get_absolute_url())
    assert Event.objects.get(kind=Event.Kind.VIEW).user == user


def test_a_failing_event_never_breaks_the_product_page(client, monkeypatch):
    monkeypatch.setattr(Event, "save", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    assert client.get(ProductFactory().get_absolute_url()).status_code == 200
