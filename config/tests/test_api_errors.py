"""Every error has the body {"code", "message", "fields"}: domain errors, validation, 401, 403, 404, 405, 429."""

import pytest
from allauth.account.models import EmailAddress
from rest_framework.test import APIClient

from members.tests.factories import UserFactory

from .api_support import PASSWORD, member_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["message"] and isinstance(body["fields"], dict)
    if code:
        assert body["code"] == code
    return body


def test_a_service_domain_error_is_a_400_with_its_code(api, catalogue):
    sold_out = catalogue["android_phone"]
    response = api.post("/api/v1/cart/items/", {"product_id": sold_out.pk}, format="json")
    body = assert_error(response, 400, "out_of_stock")
    assert sold_out.name in body["message"]


def test_validation_errors_name_each_field(api):
    response = api.post("/api/v1/cart/items/", {"product_id": "x", "quantity": 0}, format="json")
    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"product_id", "quantity"}


def test_nested_validation_errors_are_flattened(api):
    response = api.post(
        "/api/v1/orders/", {"address": {"phone": "1"}, "idempotency_key": "k" * 10}, format="json"
    )
    body = assert_error(response, 400)
    assert "address.recipient_name" in body["fields"]


def test_malformed_json_is_a_400(api):
    response = api.post("/api/v1/cart/items/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_a_django_validation_error_from_a_service_is_a_400(api):
    response = api.patch("/api/v1/me/profile/", {"gender": "x"}, format="json")
    assert_error(response, 400)


def test_unknown_object_is_a_404(api):
    assert_error(api.get("/api/v1/orders/NOPE/"), 404, "not_found")
    assert_error(api.get("/api/v1/products/?page=99"), 404, "not_found")


def test_bad_token_is_a_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(anon.get("/api/v1/cart/"), 401, "authentication_failed")


def test_session_writes_need_the_csrf_token(member):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(member)
    assert browser.get("/api/v1/cart/").status_code == 200
    assert_error(browser.post("/api/v1/cart/quote/", {}, format="json"), 403, "csrf_failed")


def test_wrong_method_is_a_405(api):
    assert_error(api.delete("/api/v1/cart/"), 405, "method_not_allowed")


def test_token_refuses_wrong_password_and_unverified_email(anon, member):
    response = anon.post("/api/v1/auth/token/", {"email": member.email, "password": "wrong"}, format="json")
    assert_error(response, 400, "invalid_credentials")
    unverified = UserFactory()
    response = anon.post(
        "/api/v1/auth/token/", {"email": unverified.email, "password": PASSWORD}, format="json"
    )
    assert_error(response, 400, "email_unverified")
    EmailAddress.objects.create(user=unverified, email=unverified.email, verified=True, primary=True)
    assert (
        anon.post(
            "/api/v1/auth/token/", {"email": unverified.email, "password": PASSWORD}, format="json"
        ).status_code
        == 200
    )


def test_token_can_be_revoked(anon):
    member = member_make()
    token = anon.post(
        "/api/v1/auth/token/", {"email": member.email, "password": PASSWORD}, format="json"
    ).json()
    anon.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    assert anon.delete("/api/v1/auth/token/").status_code == 204
    assert_error(anon.get("/api/v1/cart/"), 401, "authentication_failed")


def test_token_requests_are_throttled_with_retry_after(anon, member):
    for _attempt in range(10):
        anon.post("/api/v1/auth/token/", {"email": member.email, "password": "guess"}, format="json")
    response = anon.post("/api/v1/auth/token/", {"email": member.email, "password": PASSWORD}, format="json")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_events_are_validated(api, catalogue):
    assert_error(
        api.post("/api/v1/events/", {"kind": "purchase", "product_id": catalogue["pan"].pk}, format="json"),
        400,
    )
    assert_error(api.post("/api/v1/events/", {"kind": "search"}, format="json"), 400)
    assert_error(
        api.post("/api/v1/events/", {"kind": "view", "product_id": 999999}, format="json"),
        400,
        "product_not_found",
    )
    assert_error(
        api.post("/api/v1/events/", {"kind": "rec_click", "product_id": catalogue["pan"].pk}, format="json"),
        400,
    )
    assert_error(
        api.post(
            "/api/v1/events/",
            {"kind": "view", "product_id": catalogue["pan"].pk, "context": {"nested": {"a": 1}}},
            format="json",
        ),
        400,
    )
    assert api.post("/api/v1/events/", {"kind": "search", "query": "锅"}, format="json").status_code == 201


def test_events_have_their_own_rate_limit(api, catalogue):
    # a member may make 600 requests a minute, but only 120 of them events
    for _attempt in range(120):
        api.post("/api/v1/events/", {"kind": "search", "query": "锅"}, format="json")
    assert_error(
        api.post("/api/v1/events/", {"kind": "search", "query": "锅"}, format="json"), 429, "throttled"
    )
    assert api.get("/api/v1/cart/").status_code == 200
